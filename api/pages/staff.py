"""The staff task page: the application, its documents, earlier decisions and history; claim,
release and the decision form. Refusals of the API logic are shown on the page."""

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import SessionDep, StateDep, get_temporal
from api.pages.applicant import validation_messages
from api.pages.session import (
    CheckedFormDep,
    PageRoute,
    PageSession,
    PageSessionDep,
    StaffPageDep,
    readable,
    redirect,
    render,
    text,
)
from api.presenters import application_public, document_public, seller_summary, task_public
from api.schemas import ApplicationPublic, DocumentVerdictBody, TaskComplete, TimelineEntry
from sellerflow.errors import DomainError
from sellerflow.models import Application, Document, Seller, Task
from sellerflow.policy.mystery import MysteryChecklist
from sellerflow.policy.onboarding import CHECK_OVERRIDDEN, FINDINGS
from sellerflow.principal import Principal
from sellerflow.queries.documents import latest_documents
from sellerflow.services import documents, history, tasks
from sellerflow.services.access import may_read
from sellerflow.vocabulary import REASON_CODES, TASK_DECISIONS, Decision, DocumentStatus, TaskKind

router = APIRouter(prefix="/staff", route_class=PageRoute, include_in_schema=False)

# The lab's checklist form follows the policy's model: booleans as boxes, figures as numbers.
MYSTERY_CHECKLIST = {
    name: "bool" if field.annotation is bool else "number"
    for name, field in MysteryChecklist.model_fields.items()
}
REVIEW_KINDS = {TaskKind.onboarding_review, TaskKind.ssm_signoff}
REVIEWABLE = {DocumentStatus.uploaded.value, DocumentStatus.verified.value}


def _application_of(session: SessionDep, task: Task, staff: Principal) -> Application | None:
    """The application behind the task, if the caller may read it (the lab may not)."""
    app_id = task.application_id
    if app_id is None:
        seller = session.get(Seller, task.seller_id) if task.seller_id else None
        app_id = seller.application_id if seller else None
    if app_id is None or not may_read(session, staff, app_id):
        return None
    return session.get(Application, app_id)


def _renewed_document(session: SessionDep, task: Task, app: Application | None) -> Document | None:
    """The new file a document review is about (its id is the task's note)."""
    try:
        doc = session.get(Document, uuid.UUID(task.note or ""))
    except ValueError:
        return None
    return doc if doc is not None and app is not None and doc.application_id == app.id else None


async def _history(
    app: Application, staff: Principal, session: SessionDep, state: StateDep
) -> tuple[list[TimelineEntry], str | None]:
    """The timeline so far, or why it cannot be shown (the rest of the page still can)."""
    try:
        temporal = await get_temporal(state)
        found = await history.application_timeline(session, temporal, app)
    except DomainError as err:
        return [], readable(err)
    return [TimelineEntry(**vars(entry)) for entry in found.entries], None


def overrides_of(view: ApplicationPublic) -> dict[str, Any]:
    """What the sign-off sees of the review's approval over automated checks' findings."""
    approvals = [d for d in view.decisions if CHECK_OVERRIDDEN in d.reason_codes]
    findings = [c for c in view.checks or [] if c.status in FINDINGS]
    return {"approvals": approvals, "findings": findings}


async def task_view(
    request: Request,
    page: PageSession,
    staff: Principal,
    session: SessionDep,
    state: StateDep,
    task_id: uuid.UUID,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    task = tasks.task_for(session, task_id, staff)
    kind = TaskKind(task.kind)
    app = _application_of(session, task, staff)
    seller = session.get(Seller, task.seller_id) if task.seller_id else None
    timeline, history_error = await _history(app, staff, session, state) if app else ([], None)
    to_review = latest_documents(session, app.id).values() if app else []
    view = application_public(session, state.policy, app, for_staff=True) if app else None
    return render(
        request,
        page,
        "staff_task.html",
        status_code,
        task=task_public(task),
        seller=seller_summary(seller) if seller else None,
        app=view,
        overrides=overrides_of(view) if view and kind == TaskKind.ssm_signoff else None,
        documents=[document_public(d) for d in documents.documents_of(session, app)] if app else [],
        verdict_documents=[d for d in to_review if d.status in REVIEWABLE]
        if kind in REVIEW_KINDS
        else [],
        decisions=[d for d in Decision if d in TASK_DECISIONS[kind]],
        reason_codes=REASON_CODES,
        checklist=MYSTERY_CHECKLIST if kind == TaskKind.mystery_order else {},
        renewed=_renewed_document(session, task, app) if kind == TaskKind.document_review else None,
        timeline=timeline,
        history_error=history_error,
        mine=task.assignee == staff.subject,
        message=message,
    )


@router.get("/tasks/{task_id}")
async def task_page(
    task_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    staff: StaffPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    return await task_view(request, page, staff, session, state, task_id)


# The two buttons of the task page that change who holds a task, by the last part of the path.
HOLDING = {
    "claim": (tasks.claim, "You hold this task now"),
    "release": (tasks.release, "The task is back in the queue"),
}


@router.post("/tasks/{task_id}/claim")
@router.post("/tasks/{task_id}/release")
async def change_holder(
    task_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    staff: StaffPageDep,
    _: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Claim or release, then back to the task page (with the refusal, if any)."""
    action, done = HOLDING[request.url.path.rsplit("/", 1)[1]]
    try:
        action(session, task_id, staff)
    except DomainError as err:
        return await task_view(
            request, page, staff, session, state, task_id, readable(err), err.status_code
        )
    return redirect(request, page, f"/staff/tasks/{task_id}", ok=done)


def decision_body(form: FormData) -> TaskComplete:
    """The decision form as the API's request body (validated the same way)."""
    verdicts = []
    for name, value in form.multi_items():
        if name.startswith("verdict:") and value:
            refused = value != "accepted"
            verdicts.append(
                DocumentVerdictBody(
                    document_id=name.removeprefix("verdict:"),
                    accepted=not refused,
                    error_code=str(value) if refused else None,
                )
            )
    return TaskComplete(
        decision=text(form, "decision"),
        reason_codes=[str(code) for code in form.getlist("reason_codes")],
        comment=text(form, "comment"),
        document_verdicts=verdicts,
        checklist=checklist_answers(form) if form.get("has_checklist") == "1" else {},
    )


def checklist_answers(form: FormData) -> dict[str, object]:
    """Ticked boxes and typed figures; an unreadable figure is left out for the policy to name."""
    answers: dict[str, object] = {}
    for name, kind in MYSTERY_CHECKLIST.items():
        value = text(form, f"check:{name}")
        if kind == "bool":
            answers[name] = value == "on"
        elif value:
            try:
                answers[name] = float(value)
            except ValueError:
                continue
    return answers


@router.post("/tasks/{task_id}/complete")
async def complete(
    task_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    staff: StaffPageDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    try:
        body = decision_body(form)
        temporal = await get_temporal(state)
        async with state.reads.connect() as conn:
            task = await tasks.decidable_task(conn, task_id)
            findings = await tasks.open_findings(conn, task)
        decision = body.as_input(str(task_id), staff.subject)
        done = await tasks.decide(task, decision, staff, temporal, None, findings)
    except ValidationError as err:
        message = "Check the form: " + "; ".join(validation_messages(err))
        return await task_view(request, page, staff, session, state, task_id, message, 422)
    except DomainError as err:
        return await task_view(
            request, page, staff, session, state, task_id, readable(err), err.status_code
        )
    ok = f"Decision recorded: {done.decision.value} (now {done.state.replace('_', ' ')})"
    return redirect(request, page, "/staff", ok=ok)


@router.get("/applications/{application_id}/documents/{document_id}")
def download(
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    staff: StaffPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    url = documents.download_link(
        session, state.store, state.settings, staff, application_id, document_id
    )
    return RedirectResponse(url, 307)
