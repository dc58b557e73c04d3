"""Documents: declared by the applicant, uploaded straight to S3, checked when completed.

A file completed while S3 was down counts as uploaded but unchecked (`file_check_pending`);
whoever meets it next, the applicant's page or the automated checks, settles it with
`settle_pending_file`, by the same rule."""

import asyncio
import logging
import re
import unicodedata
import uuid
from datetime import date

from sqlmodel import Session, col, select

from sellerflow.config import Settings
from sellerflow.errors import Conflict, InvalidRequest, NotFound
from sellerflow.models import Application, Document, utcnow
from sellerflow.policy.model import Policy
from sellerflow.policy.onboarding import APPLICANT_STAGES
from sellerflow.policy.requirements import document_date_error
from sellerflow.principal import Principal
from sellerflow.services.access import application_for
from sellerflow.services.email_confirmation import check_email_confirmed
from sellerflow.storage import (
    ObjectStore,
    StoreUnavailable,
    check_document,
    file_check_pending,
    upload_key,
)
from sellerflow.vocabulary import DocumentStatus, Stage

log = logging.getLogger("sellerflow.documents")

# Control, format, unassigned, private-use and surrogate code points, and line separators.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"}

# Which declared field each date problem is about.
_DATE_FIELD = {
    "issue_date_missing": "issued_on",
    "document_too_old": "issued_on",
    "issue_date_in_future": "issued_on",
    "expiry_date_missing": "expires_on",
    "document_expired": "expires_on",
}


def safe_filename(name: str) -> str:
    """The last path component, without control characters, line breaks or quotes; never used
    in keys. Normalized after the filtering and trimmed after the cut, so it is stable."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = re.sub(r'["<>;]', "_", unicodedata.normalize("NFC", name))
    return name[:255].strip(" .") or "document"


def may_upload(policy: Policy, app: Application, kind: str) -> bool:
    """While the applicant edits, or, once approved, a kind that is due only eventually."""
    stage = Stage(app.stage)
    eventually_due = policy.requirements.eventually_due
    return stage in APPLICANT_STAGES or (kind in eventually_due and stage == Stage.approved)


# --- reads -----------------------------------------------------------------------------------


def document_of(session: Session, app: Application, document_id: uuid.UUID) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.application_id != app.id:
        raise NotFound("no document with this id")
    return doc


def documents_of(session: Session, app: Application) -> list[Document]:
    """Every document of the application, newest first (earlier versions stay)."""
    rows = session.exec(
        select(Document)
        .where(Document.application_id == app.id)
        .order_by(col(Document.created_at).desc())
    ).all()
    return list(rows)


def download_url(store: ObjectStore, settings: Settings, doc: Document) -> str:
    """A short-lived link to the checked file."""
    if file_check_pending(doc):
        raise Conflict("the document's file has not been checked yet; retry later")
    if doc.sha256 is None:
        raise Conflict("the document has no stored file")
    return store.presigned_get(doc.object_key, doc.filename, settings.download_expiry_seconds)


def download_link(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    principal: Principal,
    application_id: uuid.UUID,
    document_id: uuid.UUID,
) -> str:
    """`download_url` of a document of an application the principal may read; a fresh link on
    every call, so a page never holds a stale one."""
    app = application_for(session, principal, application_id)
    return download_url(store, settings, document_of(session, app, document_id))


# --- writes ----------------------------------------------------------------------------------


def declare(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    policy: Policy,
    app: Application,
    *,
    kind: str,
    filename: str,
    content_type: str,
    size_bytes: int,
    issued_on: date | None,
    expires_on: date | None,
) -> tuple[Document, dict[str, object]]:
    """A new document awaiting its upload, and the presigned POST that uploads it."""
    if not may_upload(policy, app, kind):
        raise Conflict(f"documents cannot be uploaded in stage {app.stage}")
    check_email_confirmed(app)
    doc = new_document(
        policy,
        app.id,
        kind=kind,
        filename=filename,
        content_type=content_type,
        size_bytes=size_bytes,
        issued_on=issued_on,
        expires_on=expires_on,
    )
    # The policy pins the declared size: S3 itself refuses a larger file.
    upload = store.presigned_post(
        doc.object_key,
        doc.content_type,
        max_bytes=size_bytes,
        expires_in=settings.upload_expiry_seconds,
    )
    session.add(doc)
    session.commit()
    return doc, dict(upload)


def check_file(policy: Policy, content_type: str, size_bytes: int) -> None:
    """A declared upload (document, renewal, appeal evidence) of a type and size the policy
    takes, or 422."""
    rules = policy.documents
    if content_type not in rules.content_types:
        raise InvalidRequest(
            f"type_not_supported: {content_type}; use one of {', '.join(rules.content_types)}"
        )
    if size_bytes > rules.max_bytes:
        raise InvalidRequest(f"document_too_large: at most {rules.max_bytes} bytes")


def new_document(
    policy: Policy,
    application_id: uuid.UUID,
    *,
    kind: str,
    filename: str,
    content_type: str,
    size_bytes: int,
    issued_on: date | None,
    expires_on: date | None,
) -> Document:
    """A document awaiting its upload under the application's prefix (not yet added), once
    its file and dates pass the policy: the applicant or seller learns at declaration, not
    after submitting, that a dated document lacks its date or is out of date (the same rule
    the automated checks apply)."""
    check_file(policy, content_type, size_bytes)
    problem = document_date_error(
        policy, kind, issued_on=issued_on, expires_on=expires_on, today=utcnow().date()
    )
    if problem is not None:
        code, reason = problem
        raise InvalidRequest(f"{code}: {_DATE_FIELD[code]}: {reason}")
    doc_id = uuid.uuid4()
    return Document(
        id=doc_id,
        application_id=application_id,
        kind=kind,
        filename=safe_filename(filename),
        content_type=content_type,
        declared_size=size_bytes,
        object_key=upload_key(application_id, "documents", doc_id),
        issued_on=issued_on,
        expires_on=expires_on,
    )


async def complete(
    session: Session, store: ObjectStore, policy: Policy, app: Application, doc: Document
) -> Document:
    """Check the uploaded file; a completion repeated after the check answers the same."""
    pending = file_check_pending(doc)
    if doc.status != DocumentStatus.awaiting_upload.value and not pending:
        return doc
    if not pending and not may_upload(policy, app, doc.kind):
        # After submission the reviewer reviews what was there; a late file would be approved
        # unseen along with the rest.
        raise Conflict(f"documents cannot be completed in stage {app.stage}")
    max_bytes = policy.documents.max_bytes

    def check() -> bool:
        if pending:
            return settle_pending_file(store, doc, max_bytes, may_upload(policy, app, doc.kind))
        return check_document(store, doc, max_bytes)

    try:
        found = await asyncio.to_thread(check)
    except StoreUnavailable as err:
        # The applicant is not kept waiting on S3: the document counts as uploaded, without size
        # or checksum, and the automated checks inspect it, retrying until S3 answers.
        log.warning("document %s left for the automated checks: %s", doc.id, err)
        doc.status = DocumentStatus.uploaded
        session.add(doc)
        session.commit()
        return doc
    session.add(doc)
    session.commit()
    if not found:
        raise Conflict("the file has not been uploaded yet")
    if doc.status == DocumentStatus.refused.value:
        raise InvalidRequest(f"{doc.error_code}: {doc.error_reason}")
    return doc


def settle_pending_file(
    store: ObjectStore, doc: Document, max_bytes: int, applicant_may_upload: bool
) -> bool:
    """Check a file completed while S3 was down, as its upload would have; False if none.

    Without a file, the document awaits its upload again while the applicant may still upload;
    otherwise it is refused, so that a reviewer never approves a file nobody stored. S3 still
    down raises `StoreUnavailable`, leaving the document as it was."""
    if check_document(store, doc, max_bytes):
        return True
    if applicant_may_upload:
        doc.status = DocumentStatus.awaiting_upload
    else:
        doc.status = DocumentStatus.refused
        doc.error_code, doc.error_reason = "document_missing", "no file was stored"
    return False


def settle_pending_files(
    session: Session, store: ObjectStore | None, policy: Policy, application_id: uuid.UUID
) -> list[Document]:
    """Settle every file of the application left unchecked; the documents refused.

    Each verdict is committed at once: a refused file is deleted from S3, so a later retry
    must not find the document still pending."""
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(f"no application {application_id}")
    pending = session.exec(
        select(Document).where(
            Document.application_id == application_id,
            Document.status == DocumentStatus.uploaded.value,
            col(Document.sha256).is_(None),
        )
    ).all()
    refused = []
    for doc in pending:
        if store is None:
            raise StoreUnavailable("this worker has no object store to check uploads")
        settle_pending_file(
            store, doc, policy.documents.max_bytes, may_upload(policy, app, doc.kind)
        )
        session.add(doc)
        session.commit()
        if doc.status == DocumentStatus.refused.value:
            refused.append(doc)
    return refused
