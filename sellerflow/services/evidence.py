"""Evidence for an appeal: files the seller uploads straight to S3 with a presigned POST, checked
as documents are (size, type from the first bytes, a copy the form cannot overwrite), then named
by id in the appeal, which takes each file once. Staff and the seller download them through a
short-lived link."""

import asyncio
import uuid
from collections.abc import Callable

from sqlmodel import Session, col, select

from sellerflow.config import Settings
from sellerflow.errors import Conflict, Forbidden, InvalidRequest, NotFound
from sellerflow.models import AppealEvidence, Seller, utcnow
from sellerflow.policy.model import Policy
from sellerflow.principal import Principal
from sellerflow.services.documents import check_file, safe_filename
from sellerflow.storage import ObjectStore, check_upload, upload_key

# At most this many files an appeal takes (the appeal's own limit on evidence).
MAX_FILES = 20


def declare(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    policy: Policy,
    principal: Principal,
    seller: Seller,
    *,
    filename: str,
    content_type: str,
    size_bytes: int,
    redirect_to: Callable[[uuid.UUID], str] | None = None,
) -> tuple[AppealEvidence, dict[str, object]]:
    """A file awaiting its upload, and the presigned POST that uploads it (the seller only; the
    documents' types and size limit). `redirect_to`: where S3 sends a browser form back, for
    the file's id."""
    if principal.is_staff:
        raise Forbidden("only the seller uploads evidence for its appeal")
    check_file(policy, content_type, size_bytes)
    evidence_id = uuid.uuid4()
    evidence = AppealEvidence(
        id=evidence_id,
        seller_id=seller.id,
        filename=safe_filename(filename),
        content_type=content_type,
        declared_size=size_bytes,
        # Under the application's prefix: erased with the applicant's other files.
        object_key=upload_key(seller.application_id, "appeals", evidence_id),
    )
    upload = store.presigned_post(
        evidence.object_key,
        content_type,
        max_bytes=size_bytes,
        expires_in=settings.upload_expiry_seconds,
        redirect_to=redirect_to(evidence_id) if redirect_to is not None else None,
    )
    session.add(evidence)
    session.commit()
    return evidence, dict(upload)


def evidence_of(session: Session, seller: Seller, evidence_id: uuid.UUID) -> AppealEvidence:
    found = session.get(AppealEvidence, evidence_id)
    if found is None or found.seller_id != seller.id:
        raise NotFound("no evidence with this id")
    return found


async def complete(
    session: Session, store: ObjectStore, policy: Policy, evidence: AppealEvidence
) -> AppealEvidence:
    """Check the uploaded file (a completion repeated after the check answers the same)."""
    if evidence.status != "awaiting_upload":
        return evidence
    max_bytes = policy.documents.max_bytes
    # S3 unreachable is 503 (StoreUnavailable): nothing is recorded, the seller completes again.
    checked = await asyncio.to_thread(
        check_upload, store, evidence.object_key, evidence.content_type, max_bytes
    )
    if checked is None:
        raise Conflict("the file has not been uploaded yet")
    if checked.key is None:
        assert checked.error is not None
        evidence.status, evidence.error_reason = "refused", checked.error[1]
    else:
        evidence.status, evidence.object_key = "uploaded", checked.key
        evidence.stored_size, evidence.sha256 = checked.stored.size, checked.stored.sha256
        evidence.uploaded_at = utcnow()
    session.add(evidence)
    session.commit()
    if evidence.status == "refused":
        raise InvalidRequest(f"evidence_refused: {evidence.error_reason}")
    return evidence


def files_for_appeal(session: Session, seller: Seller, ids: list[str]) -> list[AppealEvidence]:
    """The files an appeal names: the seller's, uploaded and checked, not taken by another
    appeal (422 naming the first that is not)."""
    found: list[AppealEvidence] = []
    for raw in dict.fromkeys(ids):
        try:
            evidence_id = uuid.UUID(raw)
        except ValueError:
            raise InvalidRequest(f"evidence: {raw!r} is not the id of an uploaded file") from None
        evidence = session.get(AppealEvidence, evidence_id)
        if evidence is None or evidence.seller_id != seller.id:
            raise InvalidRequest(f"evidence: no file {raw} of this seller")
        if evidence.status != "uploaded":
            raise InvalidRequest(f"evidence: the file {raw} is {evidence.status.replace('_', ' ')}")
        if evidence.appeal_id is not None:
            raise InvalidRequest(f"evidence: the file {raw} belongs to another appeal")
        found.append(evidence)
    return found


def unattached(session: Session, seller: Seller) -> list[AppealEvidence]:
    """The seller's checked files that no appeal took yet: those the next appeal may name."""
    rows = session.exec(
        select(AppealEvidence)
        .where(
            AppealEvidence.seller_id == seller.id,
            AppealEvidence.status == "uploaded",
            col(AppealEvidence.appeal_id).is_(None),
        )
        .order_by(col(AppealEvidence.created_at))
    ).all()
    return list(rows)


def attach(session: Session, files: list[AppealEvidence], appeal_id: uuid.UUID | None) -> None:
    """The files go with the appeal (None: back to the seller, the appeal being dropped)."""
    for evidence in files:
        evidence.appeal_id = appeal_id
        session.add(evidence)


def files_of_appeal(session: Session, appeal_id: uuid.UUID) -> list[AppealEvidence]:
    rows = session.exec(
        select(AppealEvidence)
        .where(AppealEvidence.appeal_id == appeal_id)
        .order_by(col(AppealEvidence.created_at))
    ).all()
    return list(rows)


def download_url(store: ObjectStore, evidence: AppealEvidence) -> str:
    if evidence.status != "uploaded":
        raise Conflict(f"the file is {evidence.status.replace('_', ' ')}")
    return store.presigned_get(evidence.object_key, evidence.filename)
