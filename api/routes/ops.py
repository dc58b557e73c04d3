"""Ops: stats over the read models, and seller evaluations on demand."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import SessionDep, StateDep, TemporalDep, require_role
from api.errors import errors
from api.schemas import EvaluationPublic
from sellerflow.principal import Principal
from sellerflow.services import evaluations
from sellerflow.services import stats as ops_stats
from sellerflow.vocabulary import Role

router = APIRouter(prefix="/v1/ops", tags=["ops"])
OpsDep = Annotated[Principal, require_role(Role.ops)]


@router.get("/stats", responses=errors(401, 403))
def stats(_: OpsDep, session: SessionDep) -> dict[str, Any]:
    return ops_stats.stats(session)


@router.post(
    "/evaluations",
    status_code=202,
    response_model=EvaluationPublic,
    responses=errors(401, 403, 409, 503),
)
async def start_evaluation(
    state: StateDep, temporal: TemporalDep, session: SessionDep, _: OpsDep
) -> EvaluationPublic:
    """Evaluate every seller now; 409 naming the evaluation already running, if one is."""
    evaluation_id = await evaluations.start(
        session, temporal, state.policy, state.settings.temporal_task_queue
    )
    return EvaluationPublic(id=evaluation_id, status="running", started_at=datetime.now(UTC))


@router.get(
    "/evaluations/{evaluation_id}",
    response_model=EvaluationPublic,
    responses=errors(401, 403, 404, 503),
)
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
