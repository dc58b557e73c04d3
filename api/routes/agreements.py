"""Agreements: the current text with its hash, and signatures with their evidence."""

import uuid

from fastapi import APIRouter, Request

from api.deps import PrincipalDep, SessionDep, StateDep, client_address
from api.errors import errors
from api.schemas import AgreementPublic, SignatureCreate, SignaturePublic
from sellerflow.services import agreements
from sellerflow.services.access import owner_application
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import AgreementKind

router = APIRouter(tags=["agreements"])


@router.get("/v1/agreements/{kind}", responses=errors(404, 422))
def get_agreement(kind: AgreementKind) -> AgreementPublic:
    agreement = current_agreement(kind.value)
    return AgreementPublic(
        kind=agreement.kind, version=agreement.version, text=agreement.text, sha256=agreement.sha256
    )


@router.post(
    "/v1/applications/{application_id}/agreements",
    status_code=201,
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
    signature = await agreements.sign(
        session,
        state.store,
        app,
        **body.model_dump(),
        ip=client_address(request),
        user_agent=request.headers.get("user-agent") or "",
    )
    return SignaturePublic(
        id=str(signature.id),
        kind=signature.kind,
        version=signature.version,
        signed_at=signature.signed_at,
    )
