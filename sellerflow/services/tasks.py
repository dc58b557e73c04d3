"""Tasks: who may see and work on which queue, claiming, releasing, assigning and deciding.

A decision is applied by the workflow that owns the task; this service checks what it can
before the round trip (role, claim, four eyes, the policy's decision rules) and names the
update so that a retried request is the same update."""

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Session, col, select
from temporalio.client import Client

from sellerflow import audit
from sellerflow.db import page_of
from sellerflow.errors import ChecksNotOverridden, Conflict, Forbidden, InvalidRequest, NotFound
from sellerflow.models import StaffUser, Task
from sellerflow.payloads import CompleteTaskInput, TaskOutcome
from sellerflow.policy import Refused
from sellerflow.policy.notices import APPEALABLE_NOTICES
from sellerflow.policy.onboarding import CHECK_OVERRIDDEN, FINDINGS, check_overrides
from sellerflow.principal import Principal
from sellerflow.services.auth import STAFF, STAFF_COLUMNS
from sellerflow.services.checks import reading_order
from sellerflow.tables import (
    APPLICATION_CHECKS,
    APPLICATIONS,
    OFFBOARDING_REQUESTS,
    SELLER_ACTIONS,
    SELLER_NOTICES,
    TASKS,
)
from sellerflow.vocabulary import TASK_ROLES, Decision, NoticeDecision, Role, TaskKind, TaskStatus
from sellerflow.workflow_calls import call_workflow
from workflows.onboarding import OnboardingWorkflow
from workflows.seller import SellerWorkflow

ONBOARDING_KINDS = {TaskKind.onboarding_review, TaskKind.ssm_signoff}


class TaskFields(Protocol):
    """What the checks read of a task: a `Task` or a row of `TASK_WITH_CONTACT`."""

    id: uuid.UUID
    kind: TaskKind
    status: TaskStatus
    assignee: str | None


class DecidableTask(TaskFields, Protocol):
    """A row of `TASK_WITH_CONTACT`: the task's columns, its application's contact and who
    decided the restriction an appeal review is about (and who confirmed it, an offboarding)."""

    workflow_id: str
    completed_by: str | None
    decision: Decision | None
    reason_codes: list[str] | None
    comment: str | None
    document_verdicts: list[dict[str, Any]] | None
    checklist: dict[str, Any] | None
    contact_email: str | None
    restricted_by: str | None
    confirmed_by: str | None
    application_id: uuid.UUID | None


@dataclass(frozen=True)
class TaskFilters:
    role: Role | None = None
    assignee: Literal["me", "none"] | None = None
    status: TaskStatus = TaskStatus.open
    kind: TaskKind | None = None
    overdue: bool | None = None


# --- who may see and decide ------------------------------------------------------------------


def may_work_on(staff: Principal, kind: TaskKind) -> bool:
    return any(role.value in staff.roles for role in TASK_ROLES[kind])


def visible_roles(staff: Principal) -> list[str]:
    """Ops see every queue; others see the queues of their roles."""
    if staff.has(Role.ops):
        return [r.value for r in Role]
    return sorted(staff.roles)


def check_may_see(task: TaskFields, staff: Principal) -> None:
    if not (may_work_on(staff, TaskKind(task.kind)) or staff.has(Role.ops)):
        raise Forbidden(f"a {task.kind} task is not for your role")


def check_may_decide(task: TaskFields, staff: Principal) -> None:
    """Ops may see, release and reassign every task, but decide only those of their role."""
    if not may_work_on(staff, TaskKind(task.kind)):
        raise Forbidden(f"a {task.kind} task is not for your role")


# --- reads -----------------------------------------------------------------------------------


def list_tasks(
    session: Session,
    staff: Principal,
    filters: TaskFilters,
    *,
    limit: int,
    offset: int,
    now: datetime | None = None,
) -> tuple[list[Task], int]:
    """A page of the queues the caller may see, oldest due first, and how many match."""
    now = now or datetime.now(UTC)
    roles = visible_roles(staff)
    if filters.role is not None:
        if filters.role.value not in roles:
            raise Forbidden(f"you cannot see the {filters.role.value} queue")
        roles = [filters.role.value]
    conditions: list[sa.ColumnElement[bool]] = [
        col(Task.role).in_(roles),
        col(Task.status) == filters.status.value,
    ]
    if filters.assignee == "me":
        conditions.append(col(Task.assignee) == staff.subject)
    elif filters.assignee == "none":
        conditions.append(col(Task.assignee).is_(None))
    if filters.kind is not None:
        conditions.append(col(Task.kind) == filters.kind.value)
    if filters.overdue is not None:
        due = col(Task.due_at)
        conditions.append(due < now if filters.overdue else due >= now)
    order = [col(Task.due_at), col(Task.priority).desc(), col(Task.id)]
    return page_of(session, Task, conditions, order, limit=limit, offset=offset)


def task_for(session: Session, task_id: uuid.UUID, staff: Principal) -> Task:
    """The task if the caller may see it: its role works on that kind, or ops."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("no task with this id")
    check_may_see(task, staff)
    return task


# A task with its application's contact (for the four-eyes rule).
_TASK_WITH_CONTACT = TASKS.outerjoin(APPLICATIONS, APPLICATIONS.c.id == TASKS.c.application_id)
# Who decided the restriction an appeal review is about: the one who decided the seller's last
# appealable notice before the review opened (the API takes an appeal against that notice
# only), or, for a restriction from before notices were stored, the last status change. Both
# times are the seller workflow's clock, and the workflow stores the notice (apply_status,
# notify) before it opens the review (open_task) of an appeal filed after it, so the row is
# there whenever the task is.
# The seller's newest appealable notice issued before the review opened.
_NEWEST_NOTICE = (
    sa.select(SELLER_NOTICES.c.id)
    .where(
        SELLER_NOTICES.c.seller_id == TASKS.c.seller_id,
        SELLER_NOTICES.c.decision.in_([d.value for d in APPEALABLE_NOTICES]),
        SELLER_NOTICES.c.issued_at <= TASKS.c.created_at,
    )
    .order_by(SELLER_NOTICES.c.issued_at.desc())
    .limit(1)
    .correlate(TASKS)
    .scalar_subquery()
)
_NOTICE_ACTOR = (
    sa.select(SELLER_NOTICES.c.actor)
    .where(SELLER_NOTICES.c.id == _NEWEST_NOTICE)
    .correlate(TASKS)
    .scalar_subquery()
)
_ACTION_ACTOR = (
    sa.select(SELLER_ACTIONS.c.actor)
    .where(
        SELLER_ACTIONS.c.seller_id == TASKS.c.seller_id,
        SELLER_ACTIONS.c.created_at <= TASKS.c.created_at,
    )
    .order_by(SELLER_ACTIONS.c.created_at.desc())
    .limit(1)
    .correlate(TASKS)
    .scalar_subquery()
)
RESTRICTED_BY = sa.func.coalesce(_NOTICE_ACTOR, _ACTION_ACTOR).label("restricted_by")
# An offboarding notice given on another ops member's confirmation was decided by two people:
# the confirmation of the newest request its author asked for before the notice, sent to the
# workflow (`decided_by` set) and not cancelled or refused, names the second.
_NOTICE = SELLER_NOTICES.alias("appealed_notice")
CONFIRMED_BY = (
    sa.select(OFFBOARDING_REQUESTS.c.decided_by)
    .select_from(
        OFFBOARDING_REQUESTS.join(_NOTICE, _NOTICE.c.seller_id == OFFBOARDING_REQUESTS.c.seller_id)
    )
    .where(
        _NOTICE.c.id == _NEWEST_NOTICE,
        _NOTICE.c.decision == NoticeDecision.offboard_notice.value,
        OFFBOARDING_REQUESTS.c.requested_by == _NOTICE.c.actor,
        OFFBOARDING_REQUESTS.c.requested_at <= _NOTICE.c.issued_at,
        OFFBOARDING_REQUESTS.c.decided_by.is_not(None),
        sa.or_(
            OFFBOARDING_REQUESTS.c.outcome.is_(None),
            OFFBOARDING_REQUESTS.c.outcome == "confirmed",
        ),
    )
    .order_by(OFFBOARDING_REQUESTS.c.requested_at.desc())
    .limit(1)
    .correlate(TASKS)
    .scalar_subquery()
    .label("confirmed_by")
)
TASK_WITH_CONTACT = (
    sa.select(TASKS, APPLICATIONS.c.contact_email, RESTRICTED_BY, CONFIRMED_BY)
    .select_from(_TASK_WITH_CONTACT)
    .where(TASKS.c.id == sa.bindparam("task"))
)


# The caller's staff row, and the task if there is one (one round trip for both).
STAFF_AND_TASK = (
    sa.select(*STAFF_COLUMNS, TASKS, APPLICATIONS.c.contact_email, RESTRICTED_BY, CONFIRMED_BY)
    .select_from(STAFF.outerjoin(_TASK_WITH_CONTACT, TASKS.c.id == sa.bindparam("task")))
    .where(STAFF.c.username == sa.bindparam("username"))
)


async def decidable_task(conn: AsyncConnection, task_id: uuid.UUID) -> DecidableTask:
    found: DecidableTask | None = (await conn.execute(TASK_WITH_CONTACT, {"task": task_id})).first()
    if found is None:
        raise NotFound("no task with this id")
    return found


# --- writes ----------------------------------------------------------------------------------


def claim(session: Session, task_id: uuid.UUID, staff: Principal) -> Task:
    task = task_for(session, task_id, staff)
    check_may_decide(task, staff)
    # One conditional UPDATE: of two people claiming at once, exactly one changes the row.
    claimed = session.connection().execute(
        sa.update(TASKS)
        .where(
            TASKS.c.id == task_id,
            TASKS.c.status == TaskStatus.open.value,
            TASKS.c.assignee.is_(None),
        )
        .values(assignee=staff.subject)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise Conflict("the task is already claimed or closed")
    _audit(session, task, staff.subject, "task.claim", None, staff.subject)
    session.commit()
    session.refresh(task)
    return task


def release(session: Session, task_id: uuid.UUID, staff: Principal) -> Task:
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
    return task


def assign(session: Session, task_id: uuid.UUID, staff: Principal, assignee: str) -> Task:
    """Ops hand a task to a member of a role that works on it."""
    if not staff.has(Role.ops):
        raise Forbidden(f"needs role {Role.ops.value}")
    task = task_for(session, task_id, staff)
    if task.status != TaskStatus.open.value:
        raise Conflict("the task is closed")
    user = session.exec(select(StaffUser).where(StaffUser.username == assignee)).first()
    if user is None or user.disabled:
        raise InvalidRequest(f"no active user {assignee}")
    if not any(r.value in user.role_list for r in TASK_ROLES[TaskKind(task.kind)]):
        raise InvalidRequest(f"{assignee} does not have a role for {task.kind} tasks")
    before = task.assignee
    task.assignee = user.username
    _audit(session, task, staff.subject, "task.assign", before, user.username)
    session.add(task)
    session.commit()
    return task


async def open_findings(conn: AsyncConnection, task: DecidableTask) -> list[str]:
    """The checks of a review's application that failed or need review, in reading order
    (none read for other tasks: only the review is approved over them)."""
    if task.kind != TaskKind.onboarding_review or task.application_id is None:
        return []
    found = await conn.execute(
        sa.select(APPLICATION_CHECKS.c.code).where(
            APPLICATION_CHECKS.c.application_id == task.application_id,
            APPLICATION_CHECKS.c.status.in_([status.value for status in FINDINGS]),
        )
    )
    return sorted((row.code for row in found), key=reading_order)


async def decide(
    task: DecidableTask,
    decision: CompleteTaskInput,
    staff: Principal,
    temporal: Client,
    idempotency_key: str | None,
    findings: Sequence[str] = (),
) -> TaskOutcome:
    """Hand a decision to the task's workflow; the same request retried gets the same answer.
    `findings`: the checks an approval of the review goes over (`open_findings`)."""
    kind = TaskKind(task.kind)
    check_may_see(task, staff)
    check_may_decide(task, staff)
    try:
        check_overrides(kind, decision, findings)
    except Refused as err:
        raise ChecksNotOverridden(err.detail) from None
    if CHECK_OVERRIDDEN in decision.reason_codes:
        decision = decision.model_copy(update={"overridden_checks": list(findings)})
    # The decision's own rules (reason codes, checklist, verdicts) are checked by the workflow's
    # validator, which knows whether the task is still open: this row may lag behind it.
    _check_completable(task, staff, decision)
    contact = task.contact_email
    if contact and staff.email and contact.lower() == staff.email.lower():
        raise Conflict("nobody may review an application whose contact is themselves")
    deciders = (task.restricted_by, task.confirmed_by)
    if kind == TaskKind.appeal_review and staff.subject in deciders:
        raise Conflict("four eyes: the appeal against a restriction you decided is for another")
    handle = temporal.get_workflow_handle(task.workflow_id)
    update = (
        OnboardingWorkflow.complete_task
        if kind in ONBOARDING_KINDS
        else SellerWorkflow.complete_task
    )
    update_id = completion_update_id(task.id, staff.subject, decision, idempotency_key)
    return await call_workflow(handle.execute_update(update, decision, id=update_id))


def completion_update_id(
    task_id: uuid.UUID, actor: str, decision: CompleteTaskInput, key: str | None
) -> str:
    """One Temporal update per completion: a retried request (the same body) reuses it and never
    decides twice; another body is another update, which the workflow refuses once decided."""
    digest = hashlib.sha256(f"{actor}\n{_body_of(decision)}\n{key or ''}".encode()).hexdigest()
    return f"complete-{task_id}-{digest[:16]}"


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


def _check_completable(task: DecidableTask, staff: Principal, decision: CompleteTaskInput) -> None:
    """Open and claimed by the caller, or already completed by this very request (a retry).
    The same decision with another comment, reasons or verdicts is another request: 409, never
    an answer of 200 that drops what was sent."""
    if (task.status, task.completed_by) == (TaskStatus.completed.value, staff.subject):
        stored = _decision_body(
            task.decision or "",
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
