"""Appeal evidence: declared by the seller, uploaded straight to S3, checked on completion, named
by id in the appeal; downloaded by the seller and by the staff who review appeals."""

import uuid

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from api.deps import PrincipalDep, SessionDep, StateDep
from api.errors import errors
from api.presenters import evidence_public
from api.schemas import EvidenceDeclare, EvidenceDeclared, EvidencePublic, UploadForm
from sellerflow.errors import Forbidden
from sellerflow.principal import Principal
from sellerflow.services import evidence
from sellerflow.services.sellers import seller_for
from sellerflow.vocabulary import Role

router = APIRouter(prefix="/v1/sellers/{seller_id}/evidence", tags=["sellers"])


@router.post("", status_code=201, responses=errors(401, 403, 404, 422))
def declare_evidence(
    seller_id: uuid.UUID,
    body: EvidenceDeclare,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> EvidenceDeclared:
    """A file for an appeal: the presigned POST uploads it, `complete` checks it."""
    seller = seller_for(session, principal, seller_id)
    found, upload = evidence.declare(
        session, state.store, state.settings, state.policy, principal, seller, **body.model_dump()
    )
    return EvidenceDeclared(evidence_id=str(found.id), upload=UploadForm.model_validate(upload))


@router.post("/{evidence_id}/complete", responses=errors(401, 403, 404, 409, 422, 503))
async def complete_evidence(
    seller_id: uuid.UUID,
    evidence_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> EvidencePublic:
    seller = seller_for(session, principal, seller_id)
    if principal.is_staff:
        raise Forbidden("only the seller completes its uploads")
    found = evidence.evidence_of(session, seller, evidence_id)
    return evidence_public(await evidence.complete(session, state.store, state.policy, found))


def _may_read(principal: Principal) -> None:
    if principal.is_staff and not principal.has(Role.ops, Role.ssm):
        raise Forbidden("appeal evidence is for the staff who review appeals (ops, SSM)")


@router.get(
    "/{evidence_id}/download",
    status_code=307,
    response_class=RedirectResponse,
    responses=errors(401, 403, 404, 409),
)
def download_evidence(
    seller_id: uuid.UUID,
    evidence_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> RedirectResponse:
    seller = seller_for(session, principal, seller_id)
    _may_read(principal)
    found = evidence.evidence_of(session, seller, evidence_id)
    return RedirectResponse(evidence.download_url(state.store, found), status_code=307)
