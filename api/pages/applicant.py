"""The applicant's portal: start an application, upload documents straight to S3, sign the
agreements, submit, and follow the stage and decisions. Every step calls the API's own route
functions; the session carries the applicant token, scoped to one application."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from api.deps import SessionDep, StateDep, TemporalDep, client_address
from api.errors import retry_after
from api.pages.session import (
    CheckedFormDep,
    PageRoute,
    PageSession,
    PageSessionDep,
    readable,
    redirect,
    render,
    signed_in,
    text,
)
from api.presenters import application_public, document_public
from api.schemas import ApplicationCreate, DocumentDeclare, SignatureCreate, WithdrawBody
from sellerflow.errors import DomainError, NotFound
from sellerflow.models import Document, Signature
from sellerflow.policy.onboarding import APPLICANT_STAGES, WITHDRAWABLE_STAGES
from sellerflow.principal import Principal
from sellerflow.services import agreements, applications, documents, email_confirmation
from sellerflow.services.access import application_for, owner_application
from sellerflow.services.applications import APPLICANT_TOKEN_MINUTES
from sellerflow.storage import FILE_EXTENSIONS
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import (
    REASON_CODES,
    AgreementKind,
    ProductCategory,
    RequirementStatus,
    SellerCategory,
    Stage,
)

T = TypeVar("T")

router = APIRouter(prefix="/apply", route_class=PageRoute, include_in_schema=False)

UPLOADABLE = {
    RequirementStatus.currently_due,
    RequirementStatus.past_due,
    RequirementStatus.eventually_due,
}


def applicant(application_id: uuid.UUID, page: PageSessionDep) -> Principal:
    """The applicant of this application; anyone else sees 'not found', as in the API."""
    if page.principal is None or page.principal.application_id != application_id:
        raise NotFound("this application is not open in this browser")
    return page.principal


ApplicantDep = Annotated[Principal, Depends(applicant)]


def validation_messages(err: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(part) for part in e['loc']) or 'form'}: {e['msg']}" for e in err.errors()
    ]


def _start_form(request: Request, page: PageSessionDep, status: int, **context: object) -> Response:
    values = {"values": {}, "products_chosen": [], "messages": [], **context}
    return render(
        request,
        page,
        "apply_start.html",
        status,
        categories=list(SellerCategory),
        products=list(ProductCategory),
        **values,
    )


@router.get("")
def start_page(request: Request, page: PageSessionDep) -> Response:
    return _start_form(request, page, 200)


@router.post("")
async def start_application(
    request: Request,
    page: PageSessionDep,
    form: CheckedFormDep,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    fields = set(ApplicationCreate.model_fields) - {"product_categories"}
    values = {name: text(form, name) for name in fields}
    products = [str(p) for p in form.getlist("product_categories")]
    try:
        body = ApplicationCreate.model_validate(
            {
                **values,
                "vat_number": values["vat_number"] or None,
                "iban": values["iban"] or None,
                "company_address": values["company_address"] or None,
                "legal_representative": values["legal_representative"] or None,
                "phone": values["phone"] or None,
                "product_categories": products,
            }
        )
        address = client_address(request)
        opened = await applications.open_application(
            session, temporal, state.settings, state.policy, body.record_fields(), None, address
        )
    except ValidationError as err:
        messages = validation_messages(err)
        return _start_form(
            request, page, 422, values=values, products_chosen=products, messages=messages
        )
    except DomainError as err:
        shown = _start_form(request, page, err.status_code, values=values, messages=[readable(err)])
        shown.headers.update(retry_after(err) or {})
        return shown
    app_id = opened.application.id
    owner = Principal(subject="applicant", application_id=app_id)
    new_page = signed_in(state.settings, opened.applicant_token, owner, APPLICANT_TOKEN_MINUTES)
    return redirect(request, new_page, f"/apply/{app_id}", ok="Application started")


@router.get("/{application_id}")
def dashboard(
    application_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    owner: ApplicantDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    app = application_for(session, owner, application_id)
    stage = Stage(app.stage)
    return render(
        request,
        page,
        "apply_dashboard.html",
        app=application_public(session, state.policy, app, for_staff=False),
        documents=[document_public(d) for d in documents.documents_of(session, app)],
        rules=state.policy.documents,
        extensions=FILE_EXTENSIONS,
        uploadable=UPLOADABLE,
        editable=stage in APPLICANT_STAGES,
        withdrawable=stage in WITHDRAWABLE_STAGES,
        reason_labels=REASON_CODES,
        email_confirmed=app.email_confirmed_at is not None,
        contact_email=app.contact_email,
    )


@router.get("/{application_id}/confirm-email")
def email_confirmation_page(
    application_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    token: Annotated[str, Query(min_length=1, max_length=2000)],
) -> Response:
    """The link of the first mail: a form that confirms, so that a mail scanner fetching the
    link confirms nothing."""
    return render(
        request,
        page,
        "apply_confirm_email.html",
        application_id=application_id,
        token=token,
        confirmed=False,
    )


@router.post("/{application_id}/confirm-email")
def confirm_email(
    application_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    token = text(form, "token")
    try:
        email_confirmation.confirm_email(session, state.settings, application_id, token)
    except DomainError as err:
        return render(
            request,
            page,
            "error.html",
            err.status_code,
            title="This link does not work",
            message=readable(err),
        )
    return render(
        request, page, "apply_confirm_email.html", application_id=application_id, confirmed=True
    )


@router.post("/{application_id}/documents")
def prepare_upload(
    application_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    owner: ApplicantDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Declares the document, then shows a form whose target is S3's presigned POST."""
    kind, content_type = text(form, "kind"), text(form, "content_type")
    back = f"/apply/{application_id}"
    try:
        declare = DocumentDeclare(
            kind=kind,
            filename=f"{kind}{FILE_EXTENSIONS.get(content_type, '')}",
            content_type=content_type,
            # A form cannot know the file's size before S3 receives it: the policy's maximum is
            # declared, and completion records the stored size and SHA-256.
            size_bytes=state.policy.documents.max_bytes,
            issued_on=text(form, "issued_on") or None,
            expires_on=text(form, "expires_on") or None,
        )
        document, _ = documents.declare(
            session,
            state.store,
            state.settings,
            state.policy,
            owner_application(session, owner, application_id),
            **declare.declaration(),
        )
    except ValidationError as err:
        return redirect(request, page, back, error="; ".join(validation_messages(err)))
    except DomainError as err:
        return redirect(request, page, back, error=readable(err))
    arrival = request.url_for(
        "document_uploaded", application_id=application_id, document_id=str(document.id)
    )
    upload = state.store.presigned_post(
        document.object_key,
        content_type,
        state.policy.documents.max_bytes,
        redirect_to=str(arrival),
    )
    return render(
        request,
        page,
        "apply_upload.html",
        back=back,
        kind=kind,
        description=state.policy.documents.kinds[kind].description,
        content_type=content_type,
        max_bytes=state.policy.documents.max_bytes,
        upload=upload,
    )


@router.get("/{application_id}/documents/{document_id}/uploaded", name="document_uploaded")
async def document_uploaded(
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    owner: ApplicantDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Where S3 sends the browser after the upload: the server checks the stored file."""

    def uploaded(doc: Document) -> str:
        size = f"{doc.stored_size:,} bytes" if doc.stored_size else "stored"
        return f"{doc.kind} uploaded ({size})"

    async def complete() -> Document:
        app = owner_application(session, owner, application_id)
        doc = documents.document_of(session, app, document_id)
        return await documents.complete(session, state.store, state.policy, app, doc)

    return await _then_dashboard(request, page, application_id, complete(), uploaded)


@router.get("/{application_id}/agreements/{kind}")
def agreement_page(
    application_id: uuid.UUID,
    kind: AgreementKind,
    request: Request,
    page: PageSessionDep,
    _: ApplicantDep,
) -> Response:
    agreement = current_agreement(kind.value)
    return render(
        request, page, "apply_agreement.html", application_id=application_id, agreement=agreement
    )


@router.post("/{application_id}/agreements/{kind}")
async def sign(
    application_id: uuid.UUID,
    kind: AgreementKind,
    request: Request,
    page: PageSessionDep,
    owner: ApplicantDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    fields = ("version", "sha256", "signer_name", "signer_title")
    back = f"/apply/{application_id}"
    try:
        body = SignatureCreate(kind=kind, **{name: text(form, name) for name in fields})
        signed: Signature = await agreements.sign(
            session,
            state.store,
            owner_application(session, owner, application_id),
            **body.model_dump(),
            ip=client_address(request),
            user_agent=request.headers.get("user-agent") or "",
        )
    except ValidationError as err:
        return redirect(
            request,
            page,
            f"{back}/agreements/{kind.value}",
            error="; ".join(validation_messages(err)),
        )
    except DomainError as err:
        return redirect(request, page, back, error=readable(err))
    return redirect(request, page, back, ok=f"{signed.kind} version {signed.version} signed")


@router.post("/{application_id}/submit")
async def submit(
    application_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    owner: ApplicantDep,
    _: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
) -> Response:
    async def submit() -> str:
        app = owner_application(session, owner, application_id)
        return await applications.submit(session, temporal, state.policy, app)

    return await _then_dashboard(
        request,
        page,
        application_id,
        submit(),
        lambda stage: f"Application submitted: stage {stage}",
    )


@router.post("/{application_id}/withdraw")
async def withdraw(
    application_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    owner: ApplicantDep,
    form: CheckedFormDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    reason = WithdrawBody(reason=text(form, "reason")[:2000]).reason

    async def withdraw() -> str:
        app = owner_application(session, owner, application_id)
        return await applications.withdraw(session, temporal, app, reason)

    return await _then_dashboard(
        request,
        page,
        application_id,
        withdraw(),
        lambda stage: f"Application withdrawn: stage {stage}",
    )


async def _then_dashboard(
    request: Request,
    page: PageSession,
    application_id: uuid.UUID,
    action: Awaitable[T],
    done: Callable[[T], str],
) -> Response:
    """Run an applicant action and go back to the dashboard with its outcome or refusal."""
    back = f"/apply/{application_id}"
    try:
        result = await action
    except DomainError as err:
        return redirect(request, page, back, error=readable(err))
    return redirect(request, page, back, ok=done(result))
