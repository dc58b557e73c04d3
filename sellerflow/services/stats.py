"""The ops dashboard's figures, from SQL aggregates over the read models."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col

from sellerflow.db import table_of
from sellerflow.models import Application, Seller, StageChange, Task
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


QS = (50, 90)


def _time_in_stage(session: Session) -> dict[str, dict[str, float | None]]:
    """Hours spent in each stage that applications have left, as p50, p90 and count.

    Computed in the database; only the two order statistics each percentile interpolates
    between come back, so the answer costs the same memory however many changes there are.
    A stage an application is still in does not count (the dashboard shows stages left).
    """
    dialect = session.get_bind().dialect.name
    changes = table_of(StageChange)
    # Stages entered by one move share its moment (submitted, then verifying): the order in
    # which the workflow enters them breaks the tie.
    stage_rank = sa.case(
        {stage.value: index for index, stage in enumerate(Stage)},
        value=changes.c.stage,
        else_=len(Stage),
    )
    entered = (changes.c.entered_at, stage_rank)
    ordered = sa.select(
        changes.c.stage,
        stage_rank.label("stage_rank"),
        changes.c.entered_at,
        sa.func.lead(changes.c.entered_at, type_=changes.c.entered_at.type)
        .over(partition_by=changes.c.application_id, order_by=entered)
        .label("left_at"),
        # Where the stage first appears in the changes read in that order: the answer lists
        # the stages in that order, as it always has.
        sa.func.row_number().over(order_by=(changes.c.application_id, *entered)).label("position"),
    ).cte("ordered")
    spent = _time_spent(ordered.c.left_at, ordered.c.entered_at, dialect)
    in_stage = ordered.c.stage_rank
    ranked = (
        sa.select(
            ordered.c.stage,
            spent.label("spent"),
            (sa.func.row_number().over(partition_by=in_stage, order_by=spent) - 1).label("k"),
            sa.func.count().over(partition_by=in_stage).label("n"),
            sa.func.min(ordered.c.position).over(partition_by=in_stage).label("first"),
        )
        .where(ordered.c.left_at.is_not(None))
        .cte("ranked")
    )
    k, n = ranked.c.k, ranked.c.n
    # The ranks j and j + 1 with j = floor(q * (n - 1) / 100), in integers on every backend.
    interpolated = [((k - 1) * 100 <= q * (n - 1)) & (q * (n - 1) < (k + 1) * 100) for q in QS]
    rows = session.execute(
        sa.select(
            ranked.c.stage, n, ranked.c.first, k, _microseconds(ranked.c.spent, dialect)
        ).where(sa.or_(*interpolated))
    ).all()
    counts: dict[str, tuple[int, int]] = {}
    hours: dict[str, dict[int, float]] = defaultdict(dict)
    for stage, count, first, rank, microseconds in rows:
        counts[stage] = (int(first), int(count))
        # As timedelta.total_seconds() / 3600: exact microseconds, then two divisions.
        hours[stage][int(rank)] = int(microseconds) / 10**6 / 3600
    return {
        stage: {
            "p50": _percentile(hours[stage], count, 50),
            "p90": _percentile(hours[stage], count, 90),
            "n": count,
        }
        for stage, (_, count) in sorted(counts.items(), key=lambda item: item[1][0])
    }


def _percentile(values_at: dict[int, float], n: int, q: int) -> float:
    """`statistics.quantiles(values, n=100, method="inclusive")[q - 1]` rounded to 0.1, from the
    values at the two ranks (0-based, ascending) it interpolates between."""
    if n == 1:
        return round(values_at[0], 1)
    j, delta = divmod(q * (n - 1), 100)
    return round((values_at[j] * (100 - delta) + values_at[j + 1] * delta) / 100, 1)


def _time_spent(
    left_at: sa.ColumnElement[Any], entered_at: sa.ColumnElement[Any], dialect: str
) -> sa.ColumnElement[Any]:
    """How long a stage lasted, as a value that sorts as the duration does: an interval on
    PostgreSQL; whole microseconds on SQLite, whose date functions stop at milliseconds."""
    if dialect == "postgresql":
        return left_at - entered_at
    return _sqlite_microseconds(left_at) - _sqlite_microseconds(entered_at)


def _microseconds(spent: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", spent) * 1_000_000, sa.BigInteger)
    return spent


def _sqlite_microseconds(moment: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    """Microseconds since 1970 of a timestamp as SQLite stores it: `YYYY-MM-DD HH:MM:SS.ffffff`
    (the fraction padded in case a writer left it out)."""
    text = sa.type_coerce(moment, sa.String)
    # The whole seconds of the text without its fraction: SQLite reads a fraction to the
    # millisecond, and .9995 s would round up into the next second.
    seconds = sa.cast(sa.func.strftime("%s", sa.func.substr(text, 1, 19)), sa.BigInteger)
    fraction = sa.cast(sa.func.substr(text.concat("000000"), 21, 6), sa.BigInteger)
    return seconds * 1_000_000 + fraction
