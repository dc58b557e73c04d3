"""Ops: stats over the read models, and seller evaluations on demand."""

import statistics
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter
from sqlmodel import col, select
from temporalio.client import WorkflowExecutionStatus

from api.deps import Principal, SessionDep, StateDep, TemporalDep, require_role
from api.errors import errors
from api.schemas import EvaluationPublic
from api.workflow_calls import call_workflow
from sellerflow.errors import Conflict, NotFound
from sellerflow.evaluation_runs import running_evaluation
from sellerflow.models import Application, EvaluationRun, Seller, StageChange, Task
from sellerflow.payloads import EvaluationInput
from sellerflow.vocabulary import Role, SellerStatus, Stage, TaskStatus
from workflows.evaluation import SellerEvaluationWorkflow

router = APIRouter(prefix="/v1/ops", tags=["ops"])
OpsDep = Annotated[Principal, require_role(Role.ops)]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


@router.get("/stats", responses=errors(401, 403))
def stats(_: OpsDep, session: SessionDep) -> dict[str, Any]:
    now = datetime.now(UTC)
    per_stage: dict[str, int] = dict(
        session.execute(
            sa.select(col(Application.stage), sa.func.count()).group_by(col(Application.stage))
        ).all()
    )
    per_status: dict[str, int] = dict(
        session.execute(
            sa.select(col(Seller.status), sa.func.count()).group_by(col(Seller.status))
        ).all()
    )
    overdue = sa.func.sum(sa.case((col(Task.due_at) < now, 1), else_=0))
    open_tasks = session.execute(
        sa.select(col(Task.role), sa.func.count(), overdue)
        .where(col(Task.status) == TaskStatus.open.value)
        .group_by(col(Task.role))
    ).all()
    reached: dict[str, int] = dict(
        session.execute(
            sa.select(
                col(StageChange.stage), sa.func.count(sa.distinct(col(StageChange.application_id)))
            ).group_by(col(StageChange.stage))
        ).all()
    )
    return {
        "applications_per_stage": {s.value: per_stage.get(s.value, 0) for s in Stage},
        "sellers_per_status": {s.value: per_status.get(s.value, 0) for s in SellerStatus},
        "funnel": {
            "applied": sum(per_stage.values()),
            "submitted": reached.get(Stage.submitted.value, 0),
            "reviewed": reached.get(Stage.ssm_signoff.value, 0),
            "approved": reached.get(Stage.approved.value, 0),
            "active_sellers": per_status.get(SellerStatus.active.value, 0),
        },
        "open_tasks_per_role": {
            role: {"open": n, "overdue": int(late or 0)} for role, n, late in open_tasks
        },
        "sla_breaches": sum(int(late or 0) for _, _, late in open_tasks),
        "time_in_stage_hours": _time_in_stage(session, now),
        "reviewer_throughput_7d": _reviewer_throughput(session, now - timedelta(days=7)),
        "score_distribution": _score_distribution(session),
    }


def _reviewer_throughput(session: SessionDep, since: datetime) -> dict[str, int]:
    """Tasks each person completed since a time, busiest first."""
    rows = session.execute(
        sa.select(col(Task.completed_by), sa.func.count())
        .where(col(Task.completed_at) >= since, col(Task.completed_by).is_not(None))
        .group_by(col(Task.completed_by))
        .order_by(sa.func.count().desc())
    ).all()
    return {str(who): int(n) for who, n in rows}


SCORE_BUCKETS = [(0, 20), (20, 40), (40, 60), (60, 80), (80, 101)]


def _score_distribution(session: SessionDep) -> dict[str, int]:
    """Scored sellers per band of 20 points, in one grouped query."""
    band = sa.case(
        *[
            ((col(Seller.score) >= low) & (col(Seller.score) < high), index)
            for index, (low, high) in enumerate(SCORE_BUCKETS)
        ]
    )
    rows = dict(
        session.execute(
            sa.select(band, sa.func.count()).where(col(Seller.score).is_not(None)).group_by(band)
        ).all()
    )
    return {
        f"{low}-{min(high, 100)}": int(rows.get(index, 0))
        for index, (low, high) in enumerate(SCORE_BUCKETS)
    }


def _time_in_stage(session: SessionDep, now: datetime) -> dict[str, dict[str, float | None]]:
    changes = session.exec(
        select(StageChange).order_by(col(StageChange.application_id), col(StageChange.entered_at))
    ).all()
    durations: dict[str, list[float]] = defaultdict(list)
    for current, following in zip(changes, [*changes[1:], None], strict=True):
        if following is not None and following.application_id == current.application_id:
            durations[current.stage].append(
                (following.entered_at - current.entered_at).total_seconds() / 3600
            )
    return {
        stage: {"p50": _percentile(values, 50), "p90": _percentile(values, 90), "n": len(values)}
        for stage, values in durations.items()
    }


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
    running = running_evaluation(session.connection(), datetime.now(UTC))
    session.rollback()
    if running is not None:
        raise Conflict(
            f"evaluation {running} is running; follow it at /v1/ops/evaluations/{running}"
        )
    evaluation_id = f"evaluation-{uuid.uuid4()}"
    await call_workflow(
        temporal.start_workflow(
            SellerEvaluationWorkflow.run,
            EvaluationInput(policy=state.policy, evaluation_id=evaluation_id),
            id=evaluation_id,
            task_queue=state.settings.temporal_task_queue,
            static_summary="Seller evaluation started on demand",
        )
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
    if not evaluation_id.startswith("evaluation-") or len(evaluation_id) > 100:
        raise NotFound("no evaluation with this id")
    run = session.get(EvaluationRun, evaluation_id)
    if run is not None and run.status in ("completed", "skipped", "abandoned"):
        return _evaluation_public(run)
    try:
        description = await call_workflow(temporal.get_workflow_handle(evaluation_id).describe())
    except Exception as err:
        if run is None:
            raise NotFound("no evaluation with this id") from err
        description = None
    status = (
        description.status.name.lower()
        if description and description.status
        else (run.status if run else "unknown")
    )
    if description and description.status == WorkflowExecutionStatus.COMPLETED:
        status = "completed"
    if run is None:
        return EvaluationPublic(id=evaluation_id, status=status)
    return _evaluation_public(run).model_copy(update={"status": status})


def _evaluation_public(run: EvaluationRun) -> EvaluationPublic:
    return EvaluationPublic(
        id=run.id,
        status=run.status,
        sellers_scored=run.sellers_scored,
        standing_changes=run.standing_changes,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )
