"""Ops: stats over the read models, the outbox, and seller evaluations on demand."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import MAX_OFFSET, SessionDep, StateDep, TemporalDep, require_role
from api.errors import errors
from api.presenters import notification_public
from api.schemas import EvaluationPublic, NotificationPublic, Page
from sellerflow.principal import Principal
from sellerflow.services import evaluations, exports, notifications
from sellerflow.services import stats as ops_stats
from sellerflow.vocabulary import Role

router = APIRouter(prefix="/v1/ops", tags=["ops"])
OpsDep = Annotated[Principal, require_role(Role.ops)]


@router.get("/stats", responses=errors(401, 403))
def stats(_: OpsDep, session: SessionDep) -> ops_stats.OpsStats:
    return ops_stats.stats(session)


@router.get("/notifications", responses=errors(401, 403, 422))
def list_notifications(
    _: OpsDep,
    session: SessionDep,
    application_id: uuid.UUID | None = None,
    seller_id: uuid.UUID | None = None,
    template: Annotated[str | None, Query(max_length=64)] = None,
    unsent: Annotated[
        bool | None, Query(description="only those not delivered (or delivered)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[NotificationPublic]:
    """The outbox, newest first, each message with its text."""
    filters = notifications.MessageFilters(application_id, seller_id, template, unsent)
    rows, total = notifications.list_messages(session, filters, limit=limit, offset=offset)
    data = [notification_public(n) for n in rows]
    return Page(data=data, count=total, limit=limit, offset=offset)


@router.get("/exports/applications/{application_id}", responses=errors(401, 403, 404, 422))
def export_application(application_id: uuid.UUID, _: OpsDep, session: SessionDep) -> exports.Export:
    """Everything held about an applicant and the seller it became (an access request)."""
    return exports.export_application(session, application_id)


@router.post("/evaluations", status_code=202, responses=errors(401, 403, 409, 503))
async def start_evaluation(
    state: StateDep, temporal: TemporalDep, session: SessionDep, _: OpsDep
) -> EvaluationPublic:
    """Evaluate every seller now; 409 naming the evaluation already running, if one is."""
    evaluation_id = await evaluations.start(
        session, temporal, state.policy, state.settings.temporal_task_queue
    )
    return EvaluationPublic(id=evaluation_id, status="running", started_at=datetime.now(UTC))


@router.get("/evaluations/{evaluation_id}", responses=errors(401, 403, 404, 503))
async def get_evaluation(
    evaluation_id: str, session: SessionDep, temporal: TemporalDep, _: OpsDep
) -> EvaluationPublic:
    found = await evaluations.progress(session, temporal, evaluation_id)
    run = found.run
    if run is None:
        return EvaluationPublic(id=evaluation_id, status=found.status)
    return EvaluationPublic(
        id=run.id,
        status=found.status,
        sellers_scored=run.sellers_scored,
        standing_changes=run.standing_changes,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )
