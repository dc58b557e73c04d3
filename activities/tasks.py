"""The task inbox rows behind every human step."""

import uuid

import sqlalchemy as sa
from temporalio import activity

from sellerflow import audit, outbox
from sellerflow.db import insert_once, session_scope
from sellerflow.models import Task, UTCDateTime
from sellerflow.payloads import CancelTasksInput, CloseTaskInput, EscalateTaskInput, OpenTaskInput
from sellerflow.records import TASKS
from sellerflow.vocabulary import TASK_ROLES, Role, TaskStatus

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
        roles = TASK_ROLES[inp.kind]
        task = Task(
            id=uuid.UUID(inp.task_id),
            kind=inp.kind.value,
            workflow_id=inp.workflow_id,
            application_id=uuid.UUID(inp.application_id) if inp.application_id else None,
            seller_id=uuid.UUID(inp.seller_id) if inp.seller_id else None,
            role=(Role.ssm if Role.ssm in roles else next(iter(roles))).value,
            due_at=inp.due_at,
            note=inp.note[:1000],
        )
        with self.engine.begin() as conn:
            # A retry finds its row and changes nothing.
            insert_once(conn, TASKS, "id", task.model_dump())
        return inp.task_id

    @activity.defn
    def close_task(self, inp: CloseTaskInput) -> None:
        d = inp.decision
        with self.engine.begin() as conn:
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
                reason="; ".join([*d.reason_codes, d.comment]).strip("; "),
                at=inp.at,
                # Written only here, with the task's close: an open task has no such row.
                new_key=True,
            )

    @activity.defn
    def escalate_task(self, inp: EscalateTaskInput) -> None:
        with session_scope(self.engine) as session:
            task = session.get(Task, uuid.UUID(inp.task_id))
            if task is None or task.escalated or task.status != TaskStatus.open.value:
                return
            task.escalated, task.priority = True, 1
            key = f"task-escalated:{inp.task_id}"
            outbox.enqueue(
                session,
                key=key,
                template="task_escalated",
                recipient=OPS_MAILBOX,
                context={
                    "recipient_name": "ops",
                    "task_kind": task.kind,
                    "task_id": str(task.id),
                    "due_at": task.due_at.strftime("%Y-%m-%d %H:%M UTC"),
                },
                application_id=task.application_id,
                seller_id=task.seller_id,
            )
            audit.record(
                session,
                key=key,
                actor="system",
                action="task.escalated",
                subject_type="task",
                subject_id=str(task.id),
                reason=f"past its due time {task.due_at.isoformat()}",
                at=inp.at,
            )

    @activity.defn
    def cancel_tasks(self, inp: CancelTasksInput) -> int:
        with session_scope(self.engine) as session:
            result = session.execute(
                sa.update(Task)
                .where(Task.workflow_id == inp.workflow_id, Task.status == TaskStatus.open.value)  # type: ignore[arg-type]
                .values(status=TaskStatus.cancelled.value, completed_at=inp.at)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
