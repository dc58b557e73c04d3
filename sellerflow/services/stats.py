"""The ops dashboard's figures, from SQL aggregates over the read models."""

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow.models import Application, Seller, StageChange, Task
from sellerflow.vocabulary import SellerStatus, Stage, TaskStatus


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


def stats(session: Session) -> dict[str, Any]:
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


def _reviewer_throughput(session: Session, since: datetime) -> dict[str, int]:
    """Tasks each person completed since a time, busiest first."""
    rows = session.execute(
        sa.select(col(Task.completed_by), sa.func.count())
        .where(col(Task.completed_at) >= since, col(Task.completed_by).is_not(None))
        .group_by(col(Task.completed_by))
        .order_by(sa.func.count().desc())
    ).all()
    return {str(who): int(n) for who, n in rows}


SCORE_BUCKETS = [(0, 20), (20, 40), (40, 60), (60, 80), (80, 101)]


def _score_distribution(session: Session) -> dict[str, int]:
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


def _time_in_stage(session: Session, now: datetime) -> dict[str, dict[str, float | None]]:
    # Stages entered by one move share its moment (submitted, then verifying): the order in
    # which the workflow enters them breaks the tie.
    order = {stage.value: index for index, stage in enumerate(Stage)}
    changes = sorted(
        session.exec(select(StageChange)).all(),
        key=lambda c: (c.application_id, c.entered_at, order.get(c.stage, len(order))),
    )
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
