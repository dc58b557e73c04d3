"""Documents: declared by the applicant, uploaded straight to S3, checked on completion."""

import logging
import re
import unicodedata
import uuid

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.deps import PrincipalDep, SessionDep, StateDep, application_for, owner_application
from api.errors import errors
from api.schemas import DocumentDeclare, DocumentDeclared, DocumentPublic, Page, UploadForm
from sellerflow.errors import Conflict, InvalidRequest, NotFound
from sellerflow.models import Application, Document, utcnow
from sellerflow.policy.model import Policy
from sellerflow.policy.onboarding import APPLICANT_STAGES
from sellerflow.policy.requirements import document_date_error
from sellerflow.storage import StoreUnavailable, check_document, file_check_pending
from sellerflow.vocabulary import DocumentStatus, Stage

log = logging.getLogger("sellerflow.api")
router = APIRouter(prefix="/v1/applications/{application_id}/documents", tags=["documents"])


# Control, format, unassigned, private-use and surrogate code points, and line separators.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"}


def safe_filename(name: str) -> str:
    """The last path component, without control characters, line breaks or quotes; never used
    in keys. Normalized after the filtering and trimmed after the cut, so it is stable."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = re.sub(r'["<>;]', "_", unicodedata.normalize("NFC", name))
    return name[:255].strip(" .") or "document"


def document_of(session: Session, app: Application, document_id: uuid.UUID) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.application_id != app.id:
        raise NotFound("no document with this id")
    return doc


def document_public(doc: Document) -> DocumentPublic:
    return DocumentPublic(
        document_id=str(doc.id),
        kind=doc.kind,
        filename=doc.filename,
        content_type=doc.content_type,
        status=doc.status,
        size_bytes=doc.stored_size,
        sha256=doc.sha256,
        error_code=doc.error_code,
    )


# Which declared field each date problem is about.
_DATE_FIELD = {
    "issue_date_missing": "issued_on",
    "document_too_old": "issued_on",
    "issue_date_in_future": "issued_on",
    "expiry_date_missing": "expires_on",
    "document_expired": "expires_on",
}


def _check_dates(policy: Policy, body: DocumentDeclare) -> None:
    """The applicant learns at declaration, not after submitting, that a dated document lacks
    its date or is out of date: the same rule the automated checks apply."""
    problem = document_date_error(
        policy,
        body.kind.value,
        issued_on=body.issued_on,
        expires_on=body.expires_on,
        today=utcnow().date(),
    )
    if problem is not None:
        code, reason = problem
        raise InvalidRequest(f"{code}: {_DATE_FIELD[code]}: {reason}")


def _may_upload(app: Application, kind: str, eventually_due: list[str]) -> bool:
    stage = Stage(app.stage)
    return stage in APPLICANT_STAGES or (kind in eventually_due and stage == Stage.approved)


@router.post(
    "", status_code=201, response_model=DocumentDeclared, responses=errors(401, 403, 404, 409, 422)
)
def declare_document(
    application_id: uuid.UUID,
    body: DocumentDeclare,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> DocumentDeclared:
    app = owner_application(session, principal, application_id)
    rules = state.policy.documents
    if not _may_upload(app, body.kind.value, state.policy.requirements.eventually_due):
        raise Conflict(f"documents cannot be uploaded in stage {app.stage}")
    if body.content_type not in rules.content_types:
        raise InvalidRequest(
            f"type_not_supported: {body.content_type}; use one of {', '.join(rules.content_types)}"
        )
    if body.size_bytes > rules.max_bytes:
        raise InvalidRequest(f"document_too_large: at most {rules.max_bytes} bytes")
    _check_dates(state.policy, body)
    doc_id = uuid.uuid4()
    doc = Document(
        id=doc_id,
        application_id=app.id,
        kind=body.kind.value,
        filename=safe_filename(body.filename),
        content_type=body.content_type,
        declared_size=body.size_bytes,
        object_key=f"applications/{app.id}/documents/{doc_id}",
        issued_on=body.issued_on,
        expires_on=body.expires_on,
    )
    # The policy pins the declared size: S3 itself refuses a larger file.
    upload = state.store.presigned_post(
        doc.object_key,
        doc.content_type,
        max_bytes=body.size_bytes,
        expires_in=state.settings.upload_expiry_seconds,
    )
    session.add(doc)
    session.commit()
    return DocumentDeclared(document_id=str(doc.id), upload=UploadForm(**upload))


@router.post(
    "/{document_id}/complete",
    response_model=DocumentPublic,
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def complete_document(
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> DocumentPublic:
    app = owner_application(session, principal, application_id)
    doc = document_of(session, app, document_id)
    pending = file_check_pending(doc)
    if doc.status != DocumentStatus.awaiting_upload.value and not pending:
        return document_public(doc)
    if not pending and not _may_upload(app, doc.kind, state.policy.requirements.eventually_due):
        # After submission the reviewer reviews what was there; a late file would be approved
        # unseen along with the rest.
        raise Conflict(f"documents cannot be completed in stage {app.stage}")
    max_bytes = state.policy.documents.max_bytes
    try:
        found = await run_in_threadpool(check_document, state.store, doc, max_bytes)
    except StoreUnavailable as err:
        # The applicant is not kept waiting on S3: the document counts as uploaded, without size
        # or checksum, and the automated checks inspect it, retrying until S3 answers.
        log.warning("document %s left for the automated checks: %s", doc.id, err)
        doc.status = DocumentStatus.uploaded.value
        session.add(doc)
        session.commit()
        return document_public(doc)
    if not found:
        if pending:  # completed while S3 was down, but never uploaded
            doc.status = DocumentStatus.awaiting_upload.value
            session.add(doc)
            session.commit()
        raise Conflict("the file has not been uploaded yet")
    session.add(doc)
    session.commit()
    if doc.status == DocumentStatus.refused.value:
        raise InvalidRequest(f"{doc.error_code}: {doc.error_reason}")
    return document_public(doc)


@router.get(
    "/{document_id}/download",
    status_code=307,
    response_class=RedirectResponse,
    responses=errors(401, 404, 409),
)
def download_document(
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> RedirectResponse:
    app = application_for(session, principal, application_id)
    doc = document_of(session, app, document_id)
    if file_check_pending(doc):
        raise Conflict("the document's file has not been checked yet; retry later")
    if doc.sha256 is None:
        raise Conflict("the document has no stored file")
    return RedirectResponse(
        state.store.presigned_get(
            doc.object_key, doc.filename, state.settings.download_expiry_seconds
        ),
        status_code=307,
    )


@router.get("", response_model=Page[DocumentPublic], responses=errors(401, 404))
def list_documents(
    application_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> Page[DocumentPublic]:
    """Every document of the application, newest first (earlier versions stay)."""
    app = application_for(session, principal, application_id)
    docs = session.exec(
        select(Document)
        .where(Document.application_id == app.id)
        .order_by(Document.created_at.desc())  # type: ignore[attr-defined]
    ).all()
    return Page(data=[document_public(d) for d in docs], count=len(docs), limit=len(docs), offset=0)
