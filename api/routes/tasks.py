"""The staff inbox: list, read, claim, release, assign and complete tasks."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query

from api.deps import (
    MAX_OFFSET,
    SessionDep,
    StaffClaimsDep,
    StaffDep,
    StateDep,
    TemporalDep,
    require_role,
)
from api.errors import errors
from api.presenters import task_public
from api.schemas import Page, TaskAssign, TaskComplete, TaskCompleted, TaskPublic
from sellerflow.errors import NotFound
from sellerflow.services import tasks
from sellerflow.services.auth import staff_principal
from sellerflow.vocabulary import Role, TaskKind, TaskStatus

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


@router.get("", responses=errors(401, 403))
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
    filters = tasks.TaskFilters(role, assignee, status, kind, overdue)
    rows, total = tasks.list_tasks(session, staff, filters, limit=limit, offset=offset)
    return Page(data=[task_public(t) for t in rows], count=total, limit=limit, offset=offset)


@router.get("/{task_id}", responses=errors(401, 403, 404))
def get_task(task_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> TaskPublic:
    return task_public(tasks.task_for(session, task_id, staff))


@router.post("/{task_id}/claim", responses=errors(401, 403, 404, 409))
def claim_task(task_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> TaskPublic:
    return task_public(tasks.claim(session, task_id, staff))


@router.post("/{task_id}/release", responses=errors(401, 403, 404, 409))
def release_task(task_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> TaskPublic:
    return task_public(tasks.release(session, task_id, staff))


@router.post(
    "/{task_id}/assign",
    responses=errors(401, 403, 404, 409, 422),
    dependencies=[require_role(Role.ops)],
)
def assign_task(
    task_id: uuid.UUID, body: TaskAssign, staff: StaffDep, session: SessionDep
) -> TaskPublic:
    return task_public(tasks.assign(session, task_id, staff, body.assignee))


@router.post("/{task_id}/complete", responses=errors(401, 403, 404, 409, 422, 503))
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
            tasks.STAFF_AND_TASK, {"username": claims.get("sub"), "task": task_id}
        )
        row = found.first()
        findings = await tasks.open_findings(conn, row) if row and row.id else []
    staff = staff_principal(row, claims)  # 401: user deleted, disabled or token revoked
    if row is None or row.id is None:
        raise NotFound("no task with this id")
    decision = body.as_input(str(task_id), staff.subject)
    outcome = await tasks.decide(row, decision, staff, temporal, idempotency_key, findings)
    return TaskCompleted(
        task_id=outcome.task_id, decision=outcome.decision.value, state=outcome.state
    )
