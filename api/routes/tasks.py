"""The staff inbox: list, claim, release, assign and complete tasks."""

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query
from sqlmodel import Session, col, select
from temporalio.client import Client

from api.deps import (
    MAX_OFFSET,
    STAFF,
    STAFF_COLUMNS,
    AppState,
    Principal,
    SessionDep,
    StaffClaimsDep,
    StaffDep,
    StateDep,
    TemporalDep,
    require_role,
    staff_principal,
)
from api.errors import errors
from api.schemas import Page, TaskAssign, TaskComplete, TaskCompleted, TaskPublic
from api.workflow_calls import call_workflow
from sellerflow import audit
from sellerflow.db import count
from sellerflow.errors import Conflict, Forbidden, InvalidRequest, NotFound
from sellerflow.models import StaffUser, Task
from sellerflow.payloads import CompleteTaskInput, DocumentVerdict
from sellerflow.policy import Refused
from sellerflow.policy.onboarding import check_decision_allowed
from sellerflow.tables import APPLICATIONS, TASKS
from sellerflow.vocabulary import TASK_ROLES, Role, TaskKind, TaskStatus
from workflows.onboarding import OnboardingWorkflow
from workflows.seller import SellerWorkflow

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
ONBOARDING_KINDS = {TaskKind.onboarding_review, TaskKind.ssm_signoff}


def task_public(task: Task, now: datetime) -> TaskPublic:
    return TaskPublic(
        id=str(task.id),
        kind=task.kind,
        role=task.role,
        status=task.status,
        assignee=task.assignee,
        priority=task.priority,
        escalated=task.escalated,
        overdue=task.status == TaskStatus.open.value and task.due_at < now,
        application_id=str(task.application_id) if task.application_id else None,
        seller_id=str(task.seller_id) if task.seller_id else None,
        note=task.note,
        created_at=task.created_at,
        due_at=task.due_at,
        decision=task.decision,
    )


def may_work_on(staff: Principal, kind: TaskKind) -> bool:
    return any(role.value in staff.roles for role in TASK_ROLES[kind])


def visible_roles(staff: Principal) -> list[str]:
    """Ops see every queue; others see the queues of their roles."""
    if staff.has(Role.ops):
        return [r.value for r in Role]
    return sorted(staff.roles)


@router.get("", response_model=Page[TaskPublic], responses=errors(401, 403))
def list_tasks(
    staff: StaffDep,
    session: SessionDep,
    role: Role | None = None,
    assignee: Annotated[Literal["me", "none"] | None, Query()] = None,
    status: TaskStatus = TaskStatus.open,
    kind: TaskKind | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[TaskPublic]:
    now = datetime.now(UTC)
    roles = visible_roles(staff)
    if role is not None:
        if role.value not in roles:
            raise Forbidden(f"you cannot see the {role.value} queue")
        roles = [role.value]
    conditions: list[sa.ColumnElement[bool]] = [
        col(Task.role).in_(roles),
        col(Task.status) == status.value,
    ]
    if assignee == "me":
        conditions.append(col(Task.assignee) == staff.subject)
    elif assignee == "none":
        conditions.append(col(Task.assignee).is_(None))
    if kind is not None:
        conditions.append(col(Task.kind) == kind.value)
    if overdue is not None:
        conditions.append(col(Task.due_at) < now if overdue else col(Task.due_at) >= now)
    total = count(session, sa.select(sa.func.count()).select_from(Task).where(*conditions))
    rows = session.exec(
        select(Task)
        .where(*conditions)
        .order_by(Task.due_at, Task.priority.desc(), Task.id)  # type: ignore[arg-type, attr-defined]
        .limit(limit)
        .offset(offset)
    ).all()
    return Page(data=[task_public(t, now) for t in rows], count=total, limit=limit, offset=offset)


def task_for(session: Session, task_id: uuid.UUID, staff: Principal) -> Task:
    """The task if the caller may see it: its role works on that kind, or ops."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("no task with this id")
    _check_may_see(task, staff)
    return task


def _workable_task(session: Session, task_id: uuid.UUID, staff: Principal) -> Task:
    """The task if the caller's role may decide it (ops may only release and reassign)."""
    task = task_for(session, task_id, staff)
    _check_may_decide(task, staff)
    return task


def _check_may_see(task: Any, staff: Principal) -> None:
    """`task` is a `Task` or a row with its columns."""
    if not (may_work_on(staff, TaskKind(task.kind)) or staff.has(Role.ops)):
        raise Forbidden(f"a {task.kind} task is not for your role")


def _check_may_decide(task: Any, staff: Principal) -> None:
    if not may_work_on(staff, TaskKind(task.kind)):
        raise Forbidden(f"a {task.kind} task is not for your role")


def _decision_body(
    decision: str,
    reason_codes: list[str],
    comment: str | None,
    verdicts: list[dict[str, Any]],
    checklist: dict[str, Any],
) -> str:
    """A completion's content, canonical: what a retry must repeat to count as the same."""
    return json.dumps(
        [decision, reason_codes, comment or "", verdicts, checklist], sort_keys=True, default=str
    )


def _body_of(decision: CompleteTaskInput) -> str:
    return _decision_body(
        decision.decision.value,
        list(decision.reason_codes),
        decision.comment,
        [v.model_dump() for v in decision.document_verdicts],
        dict(decision.checklist),
    )


def completion_update_id(
    task_id: uuid.UUID, actor: str, decision: CompleteTaskInput, key: str | None
) -> str:
    """One Temporal update per completion: a retried request (the same body) reuses it and never
    decides twice; another body is another update, which the workflow refuses once decided."""
    digest = hashlib.sha256(f"{actor}\n{_body_of(decision)}\n{key or ''}".encode()).hexdigest()
    return f"complete-{task_id}-{digest[:16]}"


@router.post("/{task_id}/claim", response_model=TaskPublic, responses=errors(401, 403, 404, 409))
def claim_task(task_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> TaskPublic:
    task = _workable_task(session, task_id, staff)
    # One conditional UPDATE: of two people claiming at once, exactly one changes the row.
    claimed = session.execute(
        sa.update(Task)
        .where(Task.id == task_id, Task.status == TaskStatus.open.value, Task.assignee.is_(None))  # type: ignore[arg-type, union-attr]
        .values(assignee=staff.subject)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict("the task is already claimed or closed")
    _audit(session, task, staff.subject, "task.claim", None, staff.subject)
    session.commit()
    session.refresh(task)
    return task_public(task, datetime.now(UTC))


@router.post("/{task_id}/release", response_model=TaskPublic, responses=errors(401, 403, 404, 409))
def release_task(task_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> TaskPublic:
    task = task_for(session, task_id, staff)
    if task.status != TaskStatus.open.value or task.assignee is None:
        raise Conflict("the task is not claimed")
    if task.assignee != staff.subject and not staff.has(Role.ops):
        raise Conflict("the task is claimed by someone else")
    before = task.assignee
    task.assignee = None
    _audit(session, task, staff.subject, "task.release", before, None)
    session.add(task)
    session.commit()
    return task_public(task, datetime.now(UTC))


@router.post(
    "/{task_id}/assign",
    response_model=TaskPublic,
    responses=errors(401, 403, 404, 409, 422),
    dependencies=[require_role(Role.ops)],
)
def assign_task(
    task_id: uuid.UUID, body: TaskAssign, staff: StaffDep, session: SessionDep
) -> TaskPublic:
    task = task_for(session, task_id, staff)
    if task.status != TaskStatus.open.value:
        raise Conflict("the task is closed")
    user = session.exec(select(StaffUser).where(StaffUser.username == body.assignee)).first()
    if user is None or user.disabled:
        raise InvalidRequest(f"no active user {body.assignee}")
    if not any(r.value in user.role_list for r in TASK_ROLES[TaskKind(task.kind)]):
        raise InvalidRequest(f"{body.assignee} does not have a role for {task.kind} tasks")
    before = task.assignee
    task.assignee = user.username
    _audit(session, task, staff.subject, "task.assign", before, user.username)
    session.add(task)
    session.commit()
    return task_public(task, datetime.now(UTC))


# A task with its application's contact (for the four-eyes rule).
_TASK_WITH_CONTACT = TASKS.outerjoin(APPLICATIONS, APPLICATIONS.c.id == TASKS.c.application_id)
_TASK = (
    sa.select(TASKS, APPLICATIONS.c.contact_email)
    .select_from(_TASK_WITH_CONTACT)
    .where(TASKS.c.id == sa.bindparam("task"))
)
# The caller's staff row, and the task if there is one (one round trip for both).
_STAFF_AND_TASK = (
    sa.select(*STAFF_COLUMNS, TASKS, APPLICATIONS.c.contact_email)
    .select_from(STAFF.outerjoin(_TASK_WITH_CONTACT, TASKS.c.id == sa.bindparam("task")))
    .where(STAFF.c.username == sa.bindparam("username"))
)


@router.post(
    "/{task_id}/complete",
    response_model=TaskCompleted,
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def complete_task(
    task_id: uuid.UUID,
    body: TaskComplete,
    claims: StaffClaimsDep,
    state: StateDep,
    temporal: TemporalDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> TaskCompleted:
    """Decide a task; the same request retried (after a 503) gets the first answer again.

    Who the caller is and the task are read in one awaited statement of the read pool, whose
    connection is back in the pool before the update's round trip."""
    async with state.reads.connect() as conn:
        found = await conn.execute(
            _STAFF_AND_TASK, {"username": claims.get("sub"), "task": task_id}
        )
        row = found.first()
    staff = staff_principal(row)  # 401 for a user deleted or disabled since the token
    if row is None or row.id is None:
        raise NotFound("no task with this id")
    return await _decide(row, body, staff, temporal, idempotency_key)


async def decide_task(
    task_id: uuid.UUID, body: TaskComplete, staff: Principal, state: AppState, temporal: Client
) -> TaskCompleted:
    """`complete_task` for a caller already known (the staff pages)."""
    async with state.reads.connect() as conn:
        task = (await conn.execute(_TASK, {"task": task_id})).first()
    if task is None:
        raise NotFound("no task with this id")
    return await _decide(task, body, staff, temporal, None)


async def _decide(
    task: Any,
    body: TaskComplete,
    staff: Principal,
    temporal: Client,
    idempotency_key: str | None,
) -> TaskCompleted:
    """`task` is a row with the task's columns and its application's `contact_email`."""
    task_id = task.id
    kind = TaskKind(task.kind)
    _check_may_see(task, staff)
    _check_may_decide(task, staff)
    decision = CompleteTaskInput(
        task_id=str(task_id),
        actor=staff.subject,
        decision=body.decision,
        reason_codes=body.reason_codes,
        comment=body.comment,
        document_verdicts=[DocumentVerdict(**v.model_dump()) for v in body.document_verdicts],
        checklist=body.checklist,
    )
    _check_completable(task, staff, decision)
    try:
        check_decision_allowed(kind, decision)
    except Refused as err:
        raise InvalidRequest(err.detail) from err
    contact = task.contact_email
    if contact and staff.email and contact.lower() == staff.email.lower():
        raise Conflict("nobody may review an application whose contact is themselves")
    handle = temporal.get_workflow_handle(task.workflow_id)
    update = (
        OnboardingWorkflow.complete_task
        if kind in ONBOARDING_KINDS
        else SellerWorkflow.complete_task
    )
    update_id = completion_update_id(task_id, staff.subject, decision, idempotency_key)
    outcome = await call_workflow(handle.execute_update(update, decision, id=update_id))
    return TaskCompleted(
        task_id=outcome.task_id, decision=outcome.decision.value, state=outcome.state
    )


def _check_completable(task: Any, staff: Principal, decision: CompleteTaskInput) -> None:
    """Open and claimed by the caller, or already completed by this very request (a retry).
    The same decision with another comment, reasons or verdicts is another request: 409, never
    an answer of 200 that drops what was sent."""
    if (task.status, task.completed_by) == (TaskStatus.completed.value, staff.subject):
        stored = _decision_body(
            task.decision,
            list(task.reason_codes or []),
            task.comment,
            list(task.document_verdicts or []),
            dict(task.checklist or {}),
        )
        if stored == _body_of(decision):
            return
        raise Conflict("the task is already completed, with another decision or body")
    if task.status != TaskStatus.open.value:
        raise Conflict("the task is already closed")
    if task.assignee != staff.subject:
        raise Conflict("claim the task before completing it")


def _audit(
    session: Session, task: Task, actor: str, action: str, before: str | None, after: str | None
) -> None:
    audit.record(
        session,
        key=f"{action}:{task.id}:{uuid.uuid4()}",
        actor=actor,
        action=action,
        subject_type="task",
        subject_id=str(task.id),
        before=before,
        after=after,
    )
