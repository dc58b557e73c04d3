"""The seller's portal: activate the account through the mailed link, sign in with the e-mail
address, follow the status, capabilities and KPIs, read the statement of reasons of each
restriction, and appeal it with a plan of action and evidence files uploaded straight to S3.
The session carries the seller token, scoped to one seller."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from api.deps import (
    AppState,
    SessionDep,
    StateDep,
    TemporalDep,
    client_address,
    principal_from_token,
)
from api.pages.applicant import validation_messages
from api.pages.charts import seller_trends
from api.pages.session import (
    CheckedFormDep,
    PageRoute,
    PageSessionDep,
    readable,
    redirect,
    refused_form,
    render,
    signed_in,
    text,
)
from api.presenters import action_public, notices_public
from api.schemas import AppealCreate, NoticePublic, RenewalDeclare
from sellerflow.errors import DomainError, Forbidden, TooManyAttempts, Unauthorized
from sellerflow.models import Seller, utcnow
from sellerflow.policy.notices import APPEALABLE_NOTICES
from sellerflow.principal import Principal
from sellerflow.services import evidence, renewals, seller_accounts, sellers
from sellerflow.services.sellers import seller_workflow_id
from sellerflow.storage import FILE_EXTENSIONS
from sellerflow.vocabulary import KPI, SellerStatus

router = APIRouter(prefix="/seller", route_class=PageRoute, include_in_schema=False)

# What each status means for the seller, in plain words.
STATUS_MEANING = {
    SellerStatus.trial: "Your launching phase: you sell within the caps below while we check "
    "a few mystery orders. When it ends well, the caps are lifted.",
    SellerStatus.active: "Your account is in good standing: you sell without caps.",
    SellerStatus.warned: "You have a warning: nothing is restricted yet. The notice below says "
    "why and what to improve by when, to avoid a limit.",
    SellerStatus.limited: "Your account is limited: the caps below are lowered. The notice "
    "below says why, until when, and how to appeal.",
    SellerStatus.suspended: "Your listings are hidden and payouts are held. You can appeal "
    "with a plan of action within the appeal window.",
    SellerStatus.offboarded: "Your account is closed.",
}


def kpi_text(kpi: KPI | str, value: float | None) -> str:
    """A KPI's value as the seller reads it: a rate in per cent, the rating out of 5."""
    if value is None:
        return "not enough data yet"
    if kpi == KPI.review_rating:
        return f"{value:.2f} / 5"
    return f"{value * 100:.2f} %"


def seller_of_page(page: PageSessionDep) -> Principal | None:
    """The signed-in seller, or None (the sign-in form is shown)."""
    if page.principal is not None and page.principal.seller_id is not None:
        return page.principal
    return None


SellerPageDep = Annotated[Principal | None, Depends(seller_of_page)]


def signed_in_seller(who: SellerPageDep) -> Principal:
    """The signed-in seller of a form that needs one; 403 without a seller session."""
    if who is None:
        raise Forbidden("sign in to the seller pages first")
    return who


SignedInSellerDep = Annotated[Principal, Depends(signed_in_seller)]


def own_seller(session: SessionDep, who: Principal) -> Seller:
    """The signed-in seller's row."""
    assert who.seller_id is not None  # `seller_of_page` gives sellers only
    return sellers.seller_for(session, who, who.seller_id)


@router.get("")
def dashboard(
    request: Request,
    page: PageSessionDep,
    who: SellerPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    if who is None:
        return render(request, page, "seller_login.html", email="", message=None)
    seller = own_seller(session, who)
    return render(request, page, "seller_dashboard.html", **_dashboard(session, state, seller))


def _notice_to_appeal(
    notices: list[NoticePublic], appeals: list[sellers.AppealState]
) -> NoticePublic | None:
    """The newest appealable notice while its appeal window runs and no appeal of it is open or
    decided (the workflow has the last word: it refuses what its state does not allow)."""
    newest = next((n for n in notices if n.decision in APPEALABLE_NOTICES), None)
    if newest is None or newest.redress.appeal_by is None or newest.redress.appeal_by <= utcnow():
        return None
    taken = [a for a in appeals if str(a.appeal.notice_id) == newest.id]
    if any(a.status not in ("closed", "refused") for a in taken):
        return None
    return newest


def _dashboard(session: SessionDep, state: AppState, seller: Seller) -> dict[str, Any]:
    appeals = sellers.appeals_of(session, seller)
    notices = notices_public(session, seller, for_staff=False)
    to_appeal = _notice_to_appeal(notices, appeals)
    pending = any(a.status in ("pending", "in_review") for a in appeals)
    if not any(n.decision in APPEALABLE_NOTICES for n in notices):
        # Restricted before notices were stored: a suspension may be appealed, as then.
        may_appeal = seller.status == SellerStatus.suspended and not pending
    else:
        may_appeal = to_appeal is not None and not pending
    card = sellers.scorecard(session, seller)
    return {
        "seller": seller,
        "meaning": STATUS_MEANING[seller.status],
        "scorecard": card,
        "trends": seller_trends(sellers.trend_of(session, seller), card),
        "findings": sellers.mystery_findings(session, state.policy, seller),
        "kpi_text": kpi_text,
        "actions": [
            action_public(a, for_staff=False) for a in reversed(sellers.actions_of(session, seller))
        ],
        "appeals": appeals,
        "notices": notices,
        "to_appeal": to_appeal,
        "may_appeal": may_appeal,
        "evidence": evidence.unattached(session, seller) if may_appeal else [],
        "renewals": renewals.renewals_of(session, seller.id),
        "document_names": {k: r.description for k, r in state.policy.documents.kinds.items()},
        "content_types": state.policy.documents.content_types,
    }


@router.post("/login")
def login_submit(
    request: Request,
    page: PageSessionDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    email, password = text(form, "email"), str(form.get("password") or "")
    address = client_address(request)
    try:
        token = seller_accounts.sign_in(session, state.settings, email, password, address)
    except (Unauthorized, TooManyAttempts) as err:
        return refused_form(request, page, "seller_login.html", err, email=email)
    who = principal_from_token(state, session, token)
    minutes = state.settings.sellerflow_token_minutes
    return redirect(request, signed_in(state.settings, token, who, minutes), "/seller")


@router.get("/activate")
def activate_form(
    request: Request, page: PageSessionDep, token: Annotated[str, Query(max_length=2000)] = ""
) -> Response:
    return render(request, page, "seller_activate.html", token=token, message=None)


@router.post("/activate")
def activate_submit(
    request: Request,
    page: PageSessionDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    token, password = text(form, "token"), str(form.get("password") or "")
    if password != str(form.get("confirm") or ""):
        message = "The two passwords differ."
        return render(request, page, "seller_activate.html", 422, token=token, message=message)
    try:
        seller_accounts.activate(session, state.settings, token, password)
    except DomainError as err:
        return refused_form(request, page, "seller_activate.html", err, token=token)
    return redirect(
        request, page, "/seller", ok="Your password is set: sign in with your e-mail address"
    )


@router.get("/activation")
def activation_form(request: Request, page: PageSessionDep) -> Response:
    return render(request, page, "seller_activation.html", email="", message=None)


@router.post("/activation")
def activation_submit(
    request: Request,
    page: PageSessionDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    email = text(form, "email")
    try:
        seller_accounts.mail_link(session, state.settings, email, client_address(request))
    except TooManyAttempts as err:
        return refused_form(request, page, "seller_activation.html", err, email=email)
    ok = "If a seller account has this address, a link is on its way to it"
    return redirect(request, page, "/seller", ok=ok)


@router.post("/evidence")
def evidence_upload(
    request: Request,
    page: PageSessionDep,
    who: SignedInSellerDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Declares an evidence file, then shows a form whose target is S3's presigned POST; S3
    sends the browser back to `evidence_uploaded`, where the file is checked."""
    seller = own_seller(session, who)
    content_type, name = text(form, "content_type"), text(form, "name") or "evidence"
    # A form cannot know the file's size before S3 receives it: the policy's maximum is
    # declared, and the check records the stored size and SHA-256 (as for documents).
    max_bytes = state.policy.documents.max_bytes
    try:
        _, upload = evidence.declare(
            session,
            state.store,
            state.settings,
            state.policy,
            who,
            seller,
            filename=f"{name}{FILE_EXTENSIONS.get(content_type, '')}",
            content_type=content_type,
            size_bytes=max_bytes,
            redirect_to=lambda evidence_id: str(
                request.url_for("evidence_uploaded", evidence_id=str(evidence_id))
            ),
        )
    except DomainError as err:
        return redirect(request, page, "/seller", error=readable(err))
    return render(
        request,
        page,
        "apply_upload.html",
        back="/seller",
        kind="evidence",
        description=f"evidence for your appeal ({name})",
        content_type=content_type,
        max_bytes=max_bytes,
        upload=upload,
    )


@router.get("/evidence/{evidence_id}/uploaded", name="evidence_uploaded")
async def evidence_uploaded(
    evidence_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    who: SellerPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Where S3 sends the browser after the upload: the server checks the stored file. Without
    a seller session, to the sign-in form; another seller's file is not found."""
    if who is None:
        return redirect(request, page, "/seller", error="Sign in to the seller pages first")
    seller = own_seller(session, who)
    try:
        found = evidence.evidence_of(session, seller, evidence_id)
        checked = await evidence.complete(session, state.store, state.policy, found)
    except DomainError as err:
        return redirect(request, page, "/seller", error=readable(err))
    size = f"{checked.stored_size:,} bytes" if checked.stored_size else "stored"
    ok = f"{checked.filename} uploaded ({size}): it goes with the appeal you file next"
    return redirect(request, page, "/seller", ok=ok)


@router.post("/renewals/{kind}")
def renewal_upload(
    kind: str,
    request: Request,
    page: PageSessionDep,
    who: SignedInSellerDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Declares the new file of a document to renew, then the form that uploads it to S3; S3
    sends the browser back to `renewal_uploaded`."""
    seller = own_seller(session, who)
    content_type = text(form, "content_type")
    max_bytes = state.policy.documents.max_bytes
    try:
        declared = RenewalDeclare(
            filename=f"{kind}{FILE_EXTENSIONS.get(content_type, '')}",
            content_type=content_type,
            size_bytes=max_bytes,
            issued_on=text(form, "issued_on") or None,
            expires_on=text(form, "expires_on") or None,
        )
        _, upload = renewals.declare(
            session,
            state.store,
            state.settings,
            state.policy,
            who,
            seller,
            kind=kind,
            redirect_to=lambda document_id: str(
                request.url_for("renewal_uploaded", document_id=str(document_id))
            ),
            **declared.model_dump(),
        )
    except ValidationError as err:
        return redirect(request, page, "/seller", error="; ".join(validation_messages(err)))
    except DomainError as err:
        return redirect(request, page, "/seller", error=readable(err))
    description = state.policy.documents.kinds.get(kind)
    return render(
        request,
        page,
        "apply_upload.html",
        back="/seller",
        kind=kind,
        description=description.description if description else kind,
        content_type=content_type,
        max_bytes=max_bytes,
        upload=upload,
    )


@router.get("/renewals/documents/{document_id}/uploaded", name="renewal_uploaded")
async def renewal_uploaded(
    document_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    who: SellerPageDep,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
) -> Response:
    """Where S3 sends the browser after the upload: the file is checked and sent for review."""
    if who is None:
        return redirect(request, page, "/seller", error="Sign in to the seller pages first")
    seller = own_seller(session, who)
    try:
        doc = renewals.renewal_document(session, seller, document_id)
        await renewals.complete(
            session, state.store, temporal, state.policy, seller, doc, seller_workflow_id(seller.id)
        )
    except DomainError as err:
        return redirect(request, page, "/seller", error=readable(err))
    ok = f"The new {doc.kind.replace('_', ' ')} was uploaded: a reviewer checks it"
    return redirect(request, page, "/seller", ok=ok)


@router.post("/appeals")
async def appeal_submit(
    request: Request,
    page: PageSessionDep,
    who: SignedInSellerDep,
    form: CheckedFormDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    seller = own_seller(session, who)
    fields: dict[str, str | None] = {
        name: text(form, name) for name in ("root_cause", "actions", "prevention")
    }
    fields["notice_id"] = text(form, "notice_id") or None
    chosen = [value for value in form.getlist("evidence") if isinstance(value, str)]
    try:
        body = AppealCreate.model_validate({**fields, "evidence": chosen})
        _, status = await sellers.file_appeal(
            session, temporal, who, seller, body.model_dump(), body.model_dump_json()
        )
    except ValidationError as err:
        missing = ", ".join(str(e["loc"][-1]).replace("_", " ") for e in err.errors())
        return redirect(request, page, "/seller", error=f"Fill in: {missing}")
    except DomainError as err:
        return redirect(request, page, "/seller", error=readable(err))
    return redirect(request, page, "/seller", ok=f"Your appeal is received ({status or 'pending'})")
