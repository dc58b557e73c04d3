"""The task inbox rows behind every human step."""

import uuid

import sqlalchemy as sa
from sqlmodel import Session, select
from temporalio import activity

from sellerflow import audit, outbox
from sellerflow.db import insert_once, parse_id, session_scope
from sellerflow.models import StaffUser, Task, UTCDateTime
from sellerflow.payloads import (
    CancelTasksInput,
    CloseTaskInput,
    CompleteTaskInput,
    EscalateTaskInput,
    OpenTaskInput,
    notification_id,
)
from sellerflow.policy.onboarding import CHECK_OVERRIDDEN
from sellerflow.tables import TASKS
from sellerflow.vocabulary import TASK_ROLES, Role, TaskKind, TaskStatus

# Where an escalation goes when no staff account could act on the task.
OPS_MAILBOX = "ops@sellerflow.local"


# Close an open task, in one statement that also says what it closed.
_CLOSE = (
    sa.update(TASKS)
    .where(TASKS.c.id == sa.bindparam("task_id"), TASKS.c.status == TaskStatus.open.value)
    .values(
        status=TaskStatus.completed.value,
        completed_at=sa.bindparam("at", type_=UTCDateTime()),
        completed_by=sa.bindparam("actor"),
        assignee=sa.func.coalesce(TASKS.c.assignee, sa.bindparam("actor")),
        decision=sa.bindparam("decision"),
        reason_codes=sa.bindparam("reason_codes", type_=sa.JSON()),
        comment=sa.bindparam("comment"),
        document_verdicts=sa.bindparam("verdicts", type_=sa.JSON()),
        checklist=sa.bindparam("checklist", type_=sa.JSON()),
    )
    .returning(TASKS.c.kind, TASKS.c.application_id, TASKS.c.seller_id)
)


class TaskActivities:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @activity.defn
    def open_task(self, inp: OpenTaskInput) -> str:
        with self.engine.begin() as conn:
            return insert_task(conn, inp)

    @activity.defn
    def close_task(self, inp: CloseTaskInput) -> None:
        with self.engine.begin() as conn:
            close_decided(conn, inp)

    @activity.defn
    def escalate_task(self, inp: EscalateTaskInput) -> list[str]:
        """Raise the task's priority and mail who must act: its assignee, else its role.

        Returns the ids of the messages stored (one per person), for the workflow to deliver."""
        with session_scope(self.engine) as session:
            task = session.get(Task, uuid.UUID(inp.task_id))
            if task is None or task.escalated or task.status != TaskStatus.open.value:
                return []
            task.escalated, task.priority = True, 1
            stored = []
            for username, email in _who_must_act(session, task):
                key = f"task-escalated:{inp.task_id}:{username}"
                outbox.enqueue(
                    session,
                    key=key,
                    template="task_escalated",
                    recipient=email,
                    context={
                        "recipient_name": username,
                        "task_kind": task.kind,
                        "task_id": str(task.id),
                        "due_at": task.due_at.strftime("%Y-%m-%d %H:%M UTC"),
                    },
                    application_id=task.application_id,
                    seller_id=task.seller_id,
                )
                stored.append(notification_id(key))
            audit.record(
                session,
                key=f"task-escalated:{inp.task_id}",
                actor="system",
                action="task.escalated",
                subject_type="task",
                subject_id=str(task.id),
                reason=f"past its due time {task.due_at.isoformat()}",
                at=inp.at,
            )
            return stored

    @activity.defn
    def cancel_tasks(self, inp: CancelTasksInput) -> int:
        """Cancel the workflow's open tasks (or only `task_ids`); a retry changes nothing."""
        with self.engine.begin() as conn:
            return cancel_open(conn, inp)


# --- the writes of the task rows, each in the caller's transaction ------------------------
# The activities above run one each; `OnboardingActivities.transition` runs several together.


def insert_task(conn: sa.Connection, inp: OpenTaskInput) -> str:
    """The task's inbox row, for the role that works it; a retry finds it and changes nothing."""
    roles = TASK_ROLES[inp.kind]
    task = Task(
        id=uuid.UUID(inp.task_id),
        kind=inp.kind,
        workflow_id=inp.workflow_id,
        application_id=uuid.UUID(inp.application_id) if inp.application_id else None,
        seller_id=uuid.UUID(inp.seller_id) if inp.seller_id else None,
        role=Role.ssm if Role.ssm in roles else next(iter(roles)),
        due_at=inp.due_at,
        note=inp.note[:1000],
    )
    insert_once(conn, TASKS, "id", task.model_dump())
    return inp.task_id


def decision_reason(d: CompleteTaskInput) -> str:
    """The audit entry's reason: the codes (the checks approved over with theirs), the comment."""
    codes = [
        f"{code} ({', '.join(d.overridden_checks)})"
        if code == CHECK_OVERRIDDEN and d.overridden_checks
        else code
        for code in d.reason_codes
    ]
    return "; ".join([*codes, d.comment]).strip("; ")


def close_decided(conn: sa.Connection, inp: CloseTaskInput) -> None:
    """Close the task with its decision and audit it; a task no longer open is left alone."""
    d = inp.decision
    closed = conn.execute(
        _CLOSE,
        {
            "task_id": uuid.UUID(d.task_id),
            "at": inp.at,
            "actor": d.actor,
            "decision": d.decision.value,
            "reason_codes": list(d.reason_codes),
            "comment": d.comment,
            "verdicts": [v.model_dump() for v in d.document_verdicts],
            "checklist": dict(d.checklist),
        },
    ).first()
    if closed is None:
        return  # closed before (a retry), cancelled, or never opened
    audit.record(
        conn,
        key=f"task-complete:{d.task_id}",
        actor=d.actor,
        action=f"{closed.kind}.{d.decision.value}",
        subject_type="application" if closed.application_id else "seller",
        subject_id=str(closed.application_id or closed.seller_id),
        before=TaskStatus.open.value,
        after=d.decision.value,
        reason=decision_reason(d),
        at=inp.at,
        # Written only here, with the task's close: an open task has no such row.
        new_key=True,
    )


def cancel_open(conn: sa.Connection, inp: CancelTasksInput) -> int:
    """Cancel the workflow's open tasks (or only `task_ids`); a retry changes nothing."""
    conditions = [
        TASKS.c.workflow_id == inp.workflow_id,
        TASKS.c.status == TaskStatus.open.value,
    ]
    if inp.task_ids is not None:
        conditions.append(TASKS.c.id.in_([parse_id(t, "task id") for t in inp.task_ids]))
    result = conn.execute(
        sa.update(TASKS)
        .where(*conditions)
        .values(status=TaskStatus.cancelled.value, completed_at=inp.at)
    )
    return result.rowcount


def _who_must_act(session: Session, task: Task) -> list[tuple[str, str]]:
    """(username, e-mail) of the assignee, else of every active member of the task's roles,
    else of ops; the ops mailbox when nobody has an account."""
    users = [u for u in session.exec(select(StaffUser)).all() if not u.disabled]
    if task.assignee is not None:
        chosen = [u for u in users if u.username == task.assignee]
    else:
        roles = {r.value for r in TASK_ROLES[TaskKind(task.kind)]}
        chosen = [u for u in users if roles & set(u.role_list)]
    chosen = chosen or [u for u in users if Role.ops.value in u.role_list]
    if not chosen:
        return [("ops", OPS_MAILBOX)]
    return sorted((u.username, u.email) for u in chosen)
