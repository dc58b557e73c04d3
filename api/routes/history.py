"""Readable history of an application (and its seller) from Temporal and the audit log."""

import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from sqlmodel import col, select
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError

from api.deps import SessionDep, StaffDep, TemporalDep
from api.errors import errors
from api.schemas import History, TimelineEntry
from api.workflow_calls import call_workflow
from sellerflow.errors import NotFound
from sellerflow.models import Application, AuditLog, Task
from sellerflow.timeline import timeline

router = APIRouter(prefix="/v1/applications", tags=["history"])


async def fetch_histories(temporal: Client, workflow_ids: list[str]) -> list[WorkflowHistory]:
    """Every run of each workflow, oldest first, across continue-as-new."""
    histories = []
    for workflow_id in workflow_ids:
        runs = []
        async for execution in temporal.list_workflows(f"WorkflowId = '{workflow_id}'"):
            runs.append(execution)
        runs.sort(key=lambda e: e.start_time)
        run_ids: list[str | None] = [run.run_id for run in runs] or [None]
        for run_id in run_ids:
            handle = temporal.get_workflow_handle(workflow_id, run_id=run_id)
            try:
                histories.append(await call_workflow(handle.fetch_history()))
            except RPCError:
                continue
    return histories


@router.get(
    "/{application_id}/history",
    response_model=None,
    responses={
        **errors(401, 403, 404, 503),
        200: {"model": History, "description": "the timeline; with ?raw=1 the replayable JSON"},
    },
)
async def application_history(
    application_id: uuid.UUID,
    _: StaffDep,
    session: SessionDep,
    temporal: TemporalDep,
    raw: Annotated[bool, Query(description="replayable history JSON instead")] = False,
) -> History | dict[str, Any]:
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound("no application with this id")
    workflow_ids = [f"onboarding-{app.id}"] + ([f"seller-{app.seller_id}"] if app.seller_id else [])
    histories = await fetch_histories(temporal, workflow_ids)
    if raw:
        return {
            "workflows": [
                {"workflow_id": h.workflow_id, "history": h.to_json_dict()} for h in histories
            ]
        }
    entries = [
        TimelineEntry(**vars(entry))
        for history in histories
        for entry in timeline(history.workflow_id, history)
    ]
    entries += _inbox_entries(session, app)
    entries.sort(key=lambda e: e.at)
    return History(application_id=str(app.id), workflows=workflow_ids, timeline=entries)


HUMAN_INBOX_ACTIONS = {
    "task.claim": "claimed",
    "task.release": "released",
    "task.assign": "assigned",
}


def _inbox_entries(session: SessionDep, app: Application) -> list[TimelineEntry]:
    """Claims, releases and reassignments: they never reach a workflow, only the audit log."""
    owners = [col(Task.application_id) == app.id]
    if app.seller_id:
        owners.append(col(Task.seller_id) == app.seller_id)
    tasks = {str(t.id): t.kind for t in session.exec(select(Task).where(sa.or_(*owners))).all()}
    rows = session.exec(
        select(AuditLog).where(
            AuditLog.subject_type == "task",
            col(AuditLog.subject_id).in_(list(tasks)),
            col(AuditLog.action).in_(list(HUMAN_INBOX_ACTIONS)),
        )
    ).all()
    return [
        TimelineEntry(
            at=row.at,
            workflow_id="inbox",
            kind="inbox",
            text=f"{tasks[row.subject_id]} task {HUMAN_INBOX_ACTIONS[row.action]}"
            + (f" to {row.after}" if row.action == "task.assign" else ""),
            actor=row.actor,
        )
        for row in rows
    ]
