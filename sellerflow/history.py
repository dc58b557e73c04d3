"""The readable history of an application or a seller: Temporal histories plus the audit log.

Shared by the API's history routes and the terminal (`python -m sellerflow.cli.history`).
"""

import json
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError

from sellerflow.models import Application, AuditLog, Seller, Task
from sellerflow.timeline import Entry, timeline


async def fetch_histories(
    temporal: Client, workflow_ids: list[str], newest_runs: int | None = None
) -> list[WorkflowHistory]:
    """Every run of each workflow, oldest first, across continue-as-new; only the newest
    `newest_runs` of each when given (a seller's workflow may have run for years)."""
    histories = []
    for workflow_id in workflow_ids:
        runs = [run async for run in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]
        runs.sort(key=lambda e: e.start_time)
        run_ids: list[str | None] = [run.run_id for run in runs] or [None]
        for run_id in run_ids[-newest_runs:] if newest_runs else run_ids:
            handle = temporal.get_workflow_handle(workflow_id, run_id=run_id)
            try:
                histories.append(await handle.fetch_history())
            except RPCError:
                continue
    return histories


def application_workflows(app: Application) -> list[str]:
    return [f"onboarding-{app.id}"] + ([f"seller-{app.seller_id}"] if app.seller_id else [])


HUMAN_INBOX_ACTIONS = {
    "task.claim": "claimed",
    "task.release": "released",
    "task.assign": "assigned",
}


def _task_kinds(session: Session, *owners: sa.ColumnElement[bool]) -> dict[str, str]:
    return {str(t.id): t.kind for t in session.exec(select(Task).where(sa.or_(*owners))).all()}


def inbox_entries(session: Session, app: Application) -> list[Entry]:
    """Claims, releases and reassignments: they never reach a workflow, only the audit log."""
    owners = [col(Task.application_id) == app.id]
    if app.seller_id:
        owners.append(col(Task.seller_id) == app.seller_id)
    tasks = _task_kinds(session, *owners)
    rows = session.exec(
        select(AuditLog).where(
            AuditLog.subject_type == "task",
            col(AuditLog.subject_id).in_(list(tasks)),
            col(AuditLog.action).in_(list(HUMAN_INBOX_ACTIONS)),
        )
    ).all()
    return [
        Entry(
            at=row.at,
            workflow_id="inbox",
            kind="inbox",
            text=f"{tasks[row.subject_id]} task {HUMAN_INBOX_ACTIONS[row.action]}"
            + (f" to {row.after}" if row.action == "task.assign" else ""),
            actor=row.actor,
        )
        for row in rows
    ]


def seller_audit_entries(session: Session, seller: Seller) -> list[Entry]:
    """Every audit row about the seller or one of its tasks, in words."""
    tasks = _task_kinds(session, col(Task.seller_id) == seller.id)
    subject_type, subject_id = col(AuditLog.subject_type), col(AuditLog.subject_id)
    about_seller = sa.and_(subject_type == "seller", subject_id == str(seller.id))
    about_tasks = sa.and_(subject_type == "task", subject_id.in_(list(tasks)))
    rows = session.exec(
        select(AuditLog).where(sa.or_(about_seller, about_tasks)).order_by(col(AuditLog.id))
    ).all()
    return [
        Entry(at=row.at, workflow_id="audit", kind="audit", text=_audit_text(row), actor=row.actor)
        for row in rows
    ]


def _audit_text(row: AuditLog) -> str:
    change = f" {row.before or '-'} \u2192 {row.after}" if row.after else ""
    subject = f" ({row.subject_type} {row.subject_id})" if row.subject_type == "task" else ""
    reason = f" \u2014 {row.reason}" if row.reason else ""
    return f"{row.action}{change}{subject}{reason}"


def merge(histories: list[WorkflowHistory], extra: list[Entry]) -> list[Entry]:
    entries = [entry for h in histories for entry in timeline(h.workflow_id, h)] + extra
    return sorted(entries, key=lambda e: e.at)


async def export_history(temporal: Client, workflow_id: str, out: Path) -> int:
    """Write the latest run's history in the replayable JSON that tests/histories keeps."""
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    out.write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")
    return len(history.events)
