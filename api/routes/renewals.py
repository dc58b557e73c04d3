"""Documents on file that a seller renews: where each renewal stands, and a new file uploaded
straight to S3, checked on completion, then reviewed by the onboarding team."""

import uuid

from fastapi import APIRouter

from api.deps import PrincipalDep, SessionDep, StateDep, TemporalDep
from api.errors import errors
from api.fields import copied
from api.schemas import (
    DocumentDeclared,
    RenewalDeclare,
    RenewalPublic,
    RenewalSubmitted,
    UploadForm,
)
from sellerflow.errors import Forbidden
from sellerflow.services import renewals
from sellerflow.services.sellers import seller_for, seller_workflow_id

router = APIRouter(prefix="/v1/sellers/{seller_id}/renewals", tags=["sellers"])


@router.get("", responses=errors(401, 403, 404))
def list_renewals(
    seller_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> list[RenewalPublic]:
    """Each renewed document's newest round: asked for, under review, lapsed or renewed."""
    seller = seller_for(session, principal, seller_id)
    return [
        copied(RenewalPublic, row, document_id=str(row.document_id) if row.document_id else None)
        for row in renewals.renewals_of(session, seller.id)
    ]


@router.post("/{kind}/documents", status_code=201, responses=errors(401, 403, 404, 409, 422))
def declare_renewal(
    seller_id: uuid.UUID,
    kind: str,
    body: RenewalDeclare,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> DocumentDeclared:
    """A new file of a document the seller was asked to renew: the presigned POST uploads it,
    `complete` checks it and sends it for review."""
    seller = seller_for(session, principal, seller_id)
    doc, upload = renewals.declare(
        session,
        state.store,
        state.settings,
        state.policy,
        principal,
        seller,
        kind=kind,
        **body.model_dump(),
    )
    return DocumentDeclared(document_id=str(doc.id), upload=UploadForm.model_validate(upload))


@router.post(
    "/documents/{document_id}/complete",
    status_code=202,
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def complete_renewal(
    seller_id: uuid.UUID,
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
) -> RenewalSubmitted:
    seller = seller_for(session, principal, seller_id)
    if principal.is_staff:
        raise Forbidden("only the seller completes its uploads")
    doc = renewals.renewal_document(session, seller, document_id)
    status = await renewals.complete(
        session, state.store, temporal, state.policy, seller, doc, seller_workflow_id(seller.id)
    )
    return RenewalSubmitted(document_id=str(doc.id), status=status)
