"""Documents: declared by the applicant, uploaded straight to S3, checked on completion."""

import uuid

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from api.deps import PrincipalDep, SessionDep, StateDep
from api.errors import errors
from api.presenters import document_public
from api.schemas import DocumentDeclare, DocumentDeclared, DocumentPublic, Page, UploadForm
from sellerflow.services import documents
from sellerflow.services.access import application_for, owner_application

router = APIRouter(prefix="/v1/applications/{application_id}/documents", tags=["documents"])


@router.post("", status_code=201, responses=errors(401, 403, 404, 409, 422))
def declare_document(
    application_id: uuid.UUID,
    body: DocumentDeclare,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> DocumentDeclared:
    app = owner_application(session, principal, application_id)
    doc, upload = documents.declare(
        session,
        state.store,
        state.settings,
        state.policy,
        app,
        **body.declaration(),
    )
    return DocumentDeclared(document_id=str(doc.id), upload=UploadForm.model_validate(upload))


@router.post("/{document_id}/complete", responses=errors(401, 403, 404, 409, 422, 503))
async def complete_document(
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> DocumentPublic:
    app = owner_application(session, principal, application_id)
    doc = documents.document_of(session, app, document_id)
    return document_public(await documents.complete(session, state.store, state.policy, app, doc))


@router.get(
    "/{document_id}/download",
    status_code=307,
    response_class=RedirectResponse,
    responses=errors(401, 403, 404, 409),
)
def download_document(
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> RedirectResponse:
    url = documents.download_link(
        session, state.store, state.settings, principal, application_id, document_id
    )
    return RedirectResponse(url, status_code=307)


@router.get("", responses=errors(401, 403, 404))
def list_documents(
    application_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> Page[DocumentPublic]:
    """Every document of the application, newest first (earlier versions stay)."""
    app = application_for(session, principal, application_id)
    docs = [document_public(d) for d in documents.documents_of(session, app)]
    return Page(data=docs, count=len(docs), limit=len(docs), offset=0)
