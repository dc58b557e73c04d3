"""The ops dashboard's figures, from SQL aggregates over the read models."""

import functools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col

from sellerflow.db import table_of
from sellerflow.models import (
    ApplicationStageCount,
    Seller,
    SellerStatusCount,
    StageDuration,
    StageDurationBucket,
    StageReach,
    Task,
)
from sellerflow.ops_read_models import ZERO_BUCKET
from sellerflow.vocabulary import SellerStatus, Stage, TaskStatus


class Funnel(BaseModel):
    applied: int
    submitted: int
    # Reached the SSM's sign-off.
    reviewed: int
    approved: int
    active_sellers: int


class OpenTasks(BaseModel):
    open: int
    overdue: int


class TimeInStage(BaseModel):
    """Hours spent in a stage by the applications that left it."""

    p50: float | None
    p90: float | None
    n: int


class OpsStats(BaseModel):
    applications_per_stage: dict[str, int]
    sellers_per_status: dict[str, int]
    funnel: Funnel
    open_tasks_per_role: dict[str, OpenTasks]
    # The open tasks past due.
    sla_breaches: int
    time_in_stage_hours: dict[str, TimeInStage]
    reviewer_throughput_7d: dict[str, int]
    # Scored sellers in bands of 20 points.
    score_distribution: dict[str, int]


def stats(session: Session) -> OpsStats:
    now = datetime.now(UTC)
    # Kept by triggers on the records (sellerflow.ops_read_models), as the funnel and the time
    # in stage: a few rows each, where counting the records is a pass over each table.
    per_stage: dict[str, int] = dict(
        session.execute(
            sa.select(col(ApplicationStageCount.stage), col(ApplicationStageCount.applications))
        ).all()
    )
    per_status: dict[str, int] = dict(
        session.execute(
            sa.select(col(SellerStatusCount.status), col(SellerStatusCount.sellers))
        ).all()
    )
    overdue = sa.func.sum(sa.case((col(Task.due_at) < now, 1), else_=0))
    open_tasks = session.execute(
        sa.select(col(Task.role), sa.func.count(), overdue)
        .where(col(Task.status) == TaskStatus.open.value)
        .group_by(col(Task.role))
    ).all()
    reached: dict[str, int] = dict(
        session.execute(sa.select(col(StageReach.stage), col(StageReach.applications))).all()
    )
    return OpsStats(
        applications_per_stage={s.value: per_stage.get(s.value, 0) for s in Stage},
        sellers_per_status={s.value: per_status.get(s.value, 0) for s in SellerStatus},
        funnel=Funnel(
            applied=sum(per_stage.values()),
            submitted=reached.get(Stage.submitted.value, 0),
            reviewed=reached.get(Stage.ssm_signoff.value, 0),
            approved=reached.get(Stage.approved.value, 0),
            active_sellers=per_status.get(SellerStatus.active.value, 0),
        ),
        open_tasks_per_role={
            str(role): OpenTasks(open=n, overdue=int(late or 0)) for role, n, late in open_tasks
        },
        sla_breaches=sum(int(late or 0) for _, _, late in open_tasks),
        time_in_stage_hours={
            str(stage): TimeInStage(**figures) for stage, figures in _time_in_stage(session).items()
        },
        reviewer_throughput_7d=_reviewer_throughput(session, now - timedelta(days=7)),
        score_distribution=_score_distribution(session),
    )


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
    """Scored sellers per band of 20 points: a count per band, each a range of the score index
    (a third of the time of one grouped pass over every score)."""
    score = col(Seller.score)
    counts = session.execute(
        sa.select(
            *(
                sa.select(sa.func.count()).where(score >= low, score < high).scalar_subquery()
                for low, high in SCORE_BUCKETS
            )
        )
    ).one()
    return {
        f"{low}-{min(high, 100)}": int(n)
        for (low, high), n in zip(SCORE_BUCKETS, counts, strict=True)
    }


QS = (50, 90)


def _time_in_stage(session: Session) -> dict[str, dict[str, float | None]]:
    """Hours spent in each stage that applications have left, as p50, p90 and count.

    Read from the durations the stage changes' triggers keep (sellerflow.ops_read_models):
    the counts per bucket say in which bucket, and where in it, each of the two order
    statistics a percentile interpolates between lies; one index probe fetches each (none in
    the bucket of zeros). The stages come in the order in which they first appear in the
    changes read by application. A stage an application is still in does not count (the
    dashboard shows stages left).
    """
    holding: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    counts: dict[str, int] = {}
    for stage, n, bucket, before, durations in session.execute(_BUCKETS_HOLDING_RANKS):
        counts[stage] = int(n)
        holding[stage].append((int(bucket), int(before), int(durations)))
    if not counts:
        return {}
    wanted = {
        (stage, rank): _locate(holding[stage], rank)
        for stage, n in counts.items()
        for rank in _ranks(n)
    }
    microseconds = {key: 0 for key, (bucket, _) in wanted.items() if bucket == ZERO_BUCKET}
    probes = [(key, at) for key, at in wanted.items() if at[0] != ZERO_BUCKET]
    params: dict[str, object] = {}
    for i, ((stage, rank), (bucket, offset)) in enumerate(probes):
        params |= {
            f"stage_{i}": stage,
            f"rank_{i}": rank,
            f"bucket_{i}": bucket,
            f"offset_{i}": offset,
        }
    if probes:
        for stage, rank, value in session.execute(_kth_durations(len(probes)), params):
            microseconds[(stage, int(rank))] = int(value)
    # As timedelta.total_seconds() / 3600: exact microseconds, then two divisions.
    hours: dict[str, dict[int, float]] = defaultdict(dict)
    for (stage, rank), value in microseconds.items():
        hours[stage][rank] = value / 10**6 / 3600
    return {
        stage: {
            "p50": _percentile(hours[stage], counts[stage], 50),
            "p90": _percentile(hours[stage], counts[stage], 90),
            "n": counts[stage],
        }
        for stage in _first_seen(session, list(counts))
    }


def _ranks(n: int) -> set[int]:
    """The ranks (0-based, ascending) whose values the percentiles of `n` values need."""
    if n == 1:
        return {0}
    return {rank for q in QS for rank in (q * (n - 1) // 100, q * (n - 1) // 100 + 1)}


def _locate(holding: list[tuple[int, int, int]], rank: int) -> tuple[int, int]:
    """The bucket holding the value of a rank, and its rank within the bucket, from (bucket,
    durations before it, durations in it)."""
    for bucket, before, durations in holding:
        if before <= rank < before + durations:
            return bucket, rank - before
    raise ValueError(f"no bucket holds rank {rank}")


def _buckets_holding_ranks() -> sa.Select[Any]:
    """(stage, its durations, bucket, durations before the bucket, durations in it) of the
    buckets that hold a rank j or j + 1 with j = floor(q * (n - 1) / 100), q in QS: a few rows,
    where every bucket of every stage is a few thousand."""
    buckets = table_of(StageDurationBucket)
    in_stage = sa.func.sum(buckets.c.durations)
    counted = (
        sa.select(
            buckets.c.stage,
            buckets.c.bucket,
            buckets.c.durations,
            (
                in_stage.over(partition_by=buckets.c.stage, order_by=buckets.c.bucket)
                - buckets.c.durations
            ).label("before"),
            in_stage.over(partition_by=buckets.c.stage).label("n"),
        )
        .where(buckets.c.durations > 0)
        .subquery("counted")
    )
    c = counted.c
    end = c.before + c.durations
    # before <= j + d < end, in integers on every backend (no division).
    holds = [
        ((c.before - d) * 100 <= q * (c.n - 1)) & (q * (c.n - 1) < (end - d) * 100)
        for q in QS
        for d in (0, 1)
    ]
    return sa.select(c.stage, c.n, c.bucket, c.before, c.durations).where(sa.or_(*holds))


_BUCKETS_HOLDING_RANKS = _buckets_holding_ranks()


@functools.cache
def _kth_durations(probes: int) -> sa.CompoundSelect[Any]:
    """`probes` index probes in one statement, each the duration at an offset in a bucket of a
    stage (parameters `stage_i`, `rank_i`, `bucket_i`, `offset_i`), built once per count."""
    durations = table_of(StageDuration)

    def probe(i: int) -> sa.Select[Any]:
        kth = (
            sa.select(durations.c.microseconds)
            .where(
                durations.c.stage == sa.bindparam(f"stage_{i}"),
                durations.c.bucket == sa.bindparam(f"bucket_{i}"),
            )
            .order_by(durations.c.microseconds)
            .offset(sa.bindparam(f"offset_{i}", type_=sa.Integer))
            .limit(1)
            .subquery()
        )
        stage = sa.bindparam(f"stage_{i}", type_=sa.String)
        return sa.select(stage, sa.bindparam(f"rank_{i}", type_=sa.Integer), kth.c.microseconds)

    return sa.union_all(*(probe(i) for i in range(probes)))


@functools.cache
def _first_durations(stages: int) -> sa.CompoundSelect[Any]:
    """Each stage's first duration in the order (application, entered at) (parameters
    `stage_i`), in one statement built once per count."""
    durations = table_of(StageDuration)
    firsts = (
        sa.select(durations.c.stage, durations.c.application_id, durations.c.entered_at)
        .where(durations.c.stage == sa.bindparam(f"stage_{i}"))
        .order_by(durations.c.application_id, durations.c.entered_at)
        .limit(1)
        .subquery()
        for i in range(stages)
    )
    return sa.union_all(*(sa.select(*first.c) for first in firsts))


def _first_seen(session: Session, stages: list[str]) -> list[str]:
    """The stages ordered by where they first appear in the changes read by application."""
    order = {stage.value: index for index, stage in enumerate(Stage)}
    params = {f"stage_{i}": stage for i, stage in enumerate(stages)}
    rows = session.execute(_first_durations(len(stages)), params).all()
    firsts = sorted(rows, key=lambda row: (row[1], row[2], order.get(row[0], len(order))))
    return [stage for stage, _, _ in firsts]


def _percentile(values_at: dict[int, float], n: int, q: int) -> float:
    """`statistics.quantiles(values, n=100, method="inclusive")[q - 1]` rounded to 0.1, from the
    values at the two ranks (0-based, ascending) it interpolates between."""
    if n == 1:
        return round(values_at[0], 1)
    j, delta = divmod(q * (n - 1), 100)
    return round((values_at[j] * (100 - delta) + values_at[j + 1] * delta) / 100, 1)
