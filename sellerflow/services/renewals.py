"""Renewing a document on file (lifecycle rules 5): the seller uploads a new file straight to
S3 as applicants do, its bytes are checked, then the seller workflow opens a `document_review`
task for it. The workflow decides whether a renewal may be taken now; this module only checks
what it can see in its rows (the renewal asked for, the file and its dates)."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import date

from sqlmodel import Session, col, select
from temporalio.client import Client

from sellerflow.config import Settings
from sellerflow.errors import Conflict, Forbidden, InvalidRequest, NotFound, ServiceUnavailable
from sellerflow.models import Document, DocumentRenewal, Seller, utcnow
from sellerflow.payloads import RenewalSubmittedInput
from sellerflow.policy.model import Policy
from sellerflow.policy.renewals import valid_until
from sellerflow.principal import Principal
from sellerflow.services.documents import new_document
from sellerflow.storage import ObjectStore, check_document
from sellerflow.vocabulary import DocumentStatus, RenewalStatus
from sellerflow.workflow_calls import call_workflow
from workflows.seller import SellerWorkflow

# A renewal the seller may upload for: asked for, or lapsed; not while a file is reviewed.
UPLOADABLE = frozenset({RenewalStatus.requested, RenewalStatus.lapsed})


def renewals_of(session: Session, seller_id: uuid.UUID) -> list[DocumentRenewal]:
    """Where each renewed kind stands: its newest round, by kind."""
    rows = session.exec(
        select(DocumentRenewal)
        .where(DocumentRenewal.seller_id == seller_id)
        .order_by(col(DocumentRenewal.kind), col(DocumentRenewal.round))
    ).all()
    return list({row.kind: row for row in rows}.values())


def _open_renewal(session: Session, seller: Seller, kind: str) -> DocumentRenewal:
    current = {row.kind: row for row in renewals_of(session, seller.id)}.get(kind)
    if current is None or current.status == RenewalStatus.renewed:
        raise Conflict(f"no renewal of {kind} is asked for on this account")
    if current.status not in UPLOADABLE:
        raise Conflict(f"a new {kind} is already under review")
    return current


def declare(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    policy: Policy,
    principal: Principal,
    seller: Seller,
    *,
    kind: str,
    filename: str,
    content_type: str,
    size_bytes: int,
    issued_on: date | None,
    expires_on: date | None,
    redirect_to: Callable[[uuid.UUID], str] | None = None,
) -> tuple[Document, dict[str, object]]:
    """A new file of a renewed document awaiting its upload, and its presigned POST."""
    if principal.is_staff:
        raise Forbidden("only the seller uploads its renewed documents")
    _open_renewal(session, seller, kind)
    doc = new_document(
        policy,
        seller.application_id,
        kind=kind,
        filename=filename,
        content_type=content_type,
        size_bytes=size_bytes,
        issued_on=issued_on,
        expires_on=expires_on,
    )
    until = valid_until(policy.renewals, kind, issued_on=issued_on, expires_on=expires_on)
    if until is None:
        field = "expires_on" if policy.renewals.documents[kind].valid_for is None else "issued_on"
        raise InvalidRequest(f"{field}: the date the new document is valid until is needed")
    if until <= utcnow():
        raise InvalidRequest("document_expired: the new document must still be valid")
    upload = store.presigned_post(
        doc.object_key,
        content_type,
        max_bytes=size_bytes,
        expires_in=settings.upload_expiry_seconds,
        redirect_to=redirect_to(doc.id) if redirect_to is not None else None,
    )
    session.add(doc)
    session.commit()
    return doc, dict(upload)


def renewal_document(session: Session, seller: Seller, document_id: uuid.UUID) -> Document:
    """A new file declared for the current round of its kind's renewal (or the one that round
    took): never a document from onboarding or an earlier round."""
    doc = session.get(Document, document_id)
    current = {row.kind: row for row in renewals_of(session, seller.id)}
    row = current.get(doc.kind) if doc is not None else None
    if doc is None or row is None or doc.application_id != seller.application_id:
        raise NotFound("no renewed document with this id")
    if doc.id != row.document_id and doc.created_at < row.created_at:
        raise NotFound("no renewed document with this id")
    return doc


async def complete(
    session: Session,
    store: ObjectStore,
    temporal: Client,
    policy: Policy,
    seller: Seller,
    doc: Document,
    workflow_id: str,
) -> str | None:
    """Check the uploaded file, then send it for review; the seller's status, or None when the
    workflow is slow to answer (the review opens all the same). Repeating it is harmless: the
    workflow takes each file once."""
    if doc.status == DocumentStatus.awaiting_upload:
        found = await asyncio.to_thread(check_document, store, doc, policy.documents.max_bytes)
        session.add(doc)
        session.commit()
        if not found:
            raise Conflict("the file has not been uploaded yet")
    if doc.status == DocumentStatus.refused:
        raise InvalidRequest(f"{doc.error_code}: {doc.error_reason}")
    until = valid_until(
        policy.renewals, doc.kind, issued_on=doc.issued_on, expires_on=doc.expires_on
    )
    if until is None:
        raise InvalidRequest("document_expired: the new document has no validity date")
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        return await call_workflow(
            handle.execute_update(
                SellerWorkflow.submit_renewal,
                RenewalSubmittedInput(document_id=str(doc.id), kind=doc.kind, valid_until=until),
                id=f"renewal:{doc.id}",
            )
        )
    except ServiceUnavailable:
        return None
    except (Conflict, InvalidRequest) as refused:
        # The workflow takes no review of it (nothing asked for, one already under review):
        # the file is refused, so that no page counts it as the document on file.
        doc.status, doc.error_code = DocumentStatus.refused, "renewal_not_taken"
        doc.error_reason = str(refused.detail)[:500]
        session.add(doc)
        session.commit()
        raise
