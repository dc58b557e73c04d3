"""The task inbox rows behind every human step."""

import uuid

import sqlalchemy as sa
from temporalio import activity

from sellerflow import audit, outbox
from sellerflow.db import session_scope
from sellerflow.models import Task
from sellerflow.payloads import CancelTasksInput, CloseTaskInput, EscalateTaskInput, OpenTaskInput
from sellerflow.vocabulary import TASK_ROLES, Role, TaskStatus

OPS_MAILBOX = "ops@sellerflow.local"


class TaskActivities:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @activity.defn
    def open_task(self, inp: OpenTaskInput) -> str:
        with session_scope(self.engine) as session:
            if session.get(Task, uuid.UUID(inp.task_id)) is None:
                roles = TASK_ROLES[inp.kind]
                session.add(
                    Task(
                        id=uuid.UUID(inp.task_id),
                        kind=inp.kind.value,
                        workflow_id=inp.workflow_id,
                        application_id=uuid.UUID(inp.application_id)
                        if inp.application_id
                        else None,
                        seller_id=uuid.UUID(inp.seller_id) if inp.seller_id else None,
                        role=(Role.ssm if Role.ssm in roles else next(iter(roles))).value,
                        due_at=inp.due_at,
                        note=inp.note[:1000],
                    )
                )
        return inp.task_id

    @activity.defn
    def close_task(self, inp: CloseTaskInput) -> None:
        d = inp.decision
        with session_scope(self.engine) as session:
            task = session.get(Task, uuid.UUID(d.task_id))
            if task is None or task.status != TaskStatus.open.value:
                return
            task.status = TaskStatus.completed.value
            task.completed_at, task.completed_by = inp.at, d.actor
            task.assignee = task.assignee or d.actor
            task.decision = d.decision.value
            task.reason_codes = list(d.reason_codes)
            task.comment = d.comment
            task.document_verdicts = [v.model_dump() for v in d.document_verdicts]
            task.checklist = dict(d.checklist)
            audit.record(
                session,
                key=f"task-complete:{d.task_id}",
                actor=d.actor,
                action=f"{task.kind}.{d.decision.value}",
                subject_type="application" if task.application_id else "seller",
                subject_id=str(task.application_id or task.seller_id),
                before=TaskStatus.open.value,
                after=d.decision.value,
                reason="; ".join([*d.reason_codes, d.comment]).strip("; "),
                at=inp.at,
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
