"""Agreements: the current text with its hash, and signatures with their evidence."""

import json
import uuid

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.deps import PrincipalDep, SessionDep, StateDep, owner_application
from api.errors import errors
from api.schemas import AgreementPublic, SignatureCreate, SignaturePublic
from sellerflow.errors import Conflict, InvalidRequest
from sellerflow.models import Signature
from sellerflow.policy.onboarding import APPLICANT_STAGES
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import AgreementKind, Stage

router = APIRouter(tags=["agreements"])


@router.get("/v1/agreements/{kind}", response_model=AgreementPublic, responses=errors(404, 422))
def get_agreement(kind: AgreementKind) -> AgreementPublic:
    agreement = current_agreement(kind.value)
    return AgreementPublic(
        kind=agreement.kind, version=agreement.version, text=agreement.text, sha256=agreement.sha256
    )


@router.post(
    "/v1/applications/{application_id}/agreements",
    status_code=201,
    response_model=SignaturePublic,
    responses=errors(401, 403, 404, 409, 422),
)
async def sign_agreement(
    application_id: uuid.UUID,
    body: SignatureCreate,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> SignaturePublic:
    app = owner_application(session, principal, application_id)
    if Stage(app.stage) not in APPLICANT_STAGES:
        raise Conflict(f"agreements cannot be signed in stage {app.stage}")
    agreement = current_agreement(body.kind.value)
    if body.version != agreement.version:
        raise Conflict(f"version {body.version} is outdated; sign version {agreement.version}")
    if body.sha256 != agreement.sha256:
        raise InvalidRequest("the sha256 does not match the text of this version")
    signature_id = uuid.uuid4()
    signature = Signature(
        id=signature_id,
        application_id=app.id,
        kind=agreement.kind,
        version=agreement.version,
        sha256=agreement.sha256,
        signer_name=body.signer_name,
        signer_title=body.signer_title,
        ip=request.client.host if request.client else None,
        user_agent=(request.headers.get("user-agent") or "")[:500],
        archive_key=f"applications/{app.id}/agreements/{signature_id}.json",
    )
    evidence = {
        "text": agreement.text,
        **signature.model_dump(mode="json", exclude={"archive_key"}),
    }
    await run_in_threadpool(
        state.store.put,
        signature.archive_key,
        json.dumps(evidence, indent=2).encode(),
        "application/json",
    )
    session.add(signature)
    session.commit()
    return SignaturePublic(
        id=str(signature.id),
        kind=signature.kind,
        version=signature.version,
        signed_at=signature.signed_at,
    )
