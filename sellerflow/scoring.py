"""Set-based KPI computation in SQL (SQLite and PostgreSQL alike): one grouped scan per chunk."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sellerflow import scoring_sql
from sellerflow.db import table_of
from sellerflow.models import OrderEvent, ScorecardRow, Seller, SellerDay
from sellerflow.policy.kpis import (
    KpiCounts,
    ScorecardEntry,
    scorecard,
)
from sellerflow.policy.lifecycle import breach_reasons
from sellerflow.policy.model import Policy
from sellerflow.policy.seller_state import ReasonRecord
from sellerflow.vocabulary import KPI, SellerStatus, Standing

OE = table_of(OrderEvent).c
SELLER = table_of(Seller).c
DAYS = table_of(SellerDay)
# How many days of daily history each seller keeps: the trend of the seller's pages.
HISTORY_DAYS = 90


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def kpi_columns(policy: Policy, as_of: datetime) -> list[Any]:
    """Numerator and denominator columns of every KPI, labelled `<kpi>__num` / `<kpi>__den`."""

    def window(kpi: KPI) -> Any:
        return OE.placed_at >= as_of - timedelta(days=policy.kpis[kpi].window_days)

    true = sa.true()
    defect = (
        (OE.complaint == true)
        | (OE.chargeback == true)
        | ((OE.returned == true) & (OE.return_reason == "not_as_described"))
    )
    shipped = window(KPI.late_shipment_rate) & OE.shipped_at.is_not(None)
    delivered = window(KPI.on_time_delivery) & OE.delivered_at.is_not(None)
    rated = window(KPI.review_rating) & OE.review_rating.is_not(None)
    columns = {
        KPI.order_defect_rate: (
            _count(window(KPI.order_defect_rate) & defect),
            _count(window(KPI.order_defect_rate)),
        ),
        KPI.seller_cancellation_rate: (
            _count(window(KPI.seller_cancellation_rate) & (OE.cancelled_by_seller == true)),
            _count(window(KPI.seller_cancellation_rate)),
        ),
        KPI.late_shipment_rate: (
            _count(shipped & OE.ship_by.is_not(None) & (OE.shipped_at > OE.ship_by)),
            _count(shipped),
        ),
        KPI.on_time_delivery: (
            _count(
                delivered
                & OE.promised_delivery_at.is_not(None)
                & (OE.delivered_at <= OE.promised_delivery_at)
            ),
            _count(delivered),
        ),
        KPI.refund_rate: (
            _count(
                window(KPI.refund_rate)
                & (OE.refunded == true)
                & (OE.refund_seller_accountable == true)
            ),
            _count(window(KPI.refund_rate)),
        ),
        KPI.review_rating: (
            sa.func.sum(sa.case((rated, OE.review_rating), else_=0)),
            _count(rated),
        ),
    }
    return [
        column.label(f"{kpi.value}__{part}")
        for kpi, pair in columns.items()
        if kpi in policy.kpis
        for part, column in zip(("num", "den"), pair, strict=True)
    ]


def oldest_event(as_of: datetime, *policies: Policy) -> datetime:
    """The earliest order event any KPI window of these rule sets reaches back to."""
    days = max(rule.window_days for policy in policies for rule in policy.kpis.values())
    return as_of - timedelta(days=days)


def counts_of(policy: Policy, mapping: Any, prefix: str = "") -> dict[KPI, KpiCounts]:
    """A row's KPI counts, read from the `kpi_columns` labels (after `prefix`)."""
    # Built without validation: the SQL sums are numbers already, and this runs 6 times a seller.
    return {
        kpi: KpiCounts.model_construct(
            numerator=float(mapping[f"{prefix}{kpi.value}__num"] or 0),
            denominator=int(mapping[f"{prefix}{kpi.value}__den"] or 0),
        )
        for kpi in policy.kpis
    }


def next_sellers(
    conn: sa.Connection, after: uuid.UUID | None, limit: int, *columns: Any
) -> Sequence[sa.Row[Any]]:
    """The evaluation's next chunk: `limit` sellers after `after` in id order, all but the
    offboarded, with their id and `columns`."""
    query = sa.select(SELLER.id, *columns).where(SELLER.status != SellerStatus.offboarded.value)
    if after is not None:
        query = query.where(SELLER.id > after)
    return conn.execute(query.order_by(SELLER.id).limit(limit)).all()


def category_means(
    conn: sa.Connection, policy: Policy, as_of: datetime
) -> dict[str, dict[str, float]]:
    """Mean of each KPI per seller category: the prior the score smooths toward."""
    query = (
        sa.select(SELLER.seller_category, *kpi_columns(policy, as_of))
        .select_from(sa.join(table_of(Seller), table_of(OrderEvent), SELLER.id == OE.seller_id))
        .where(
            OE.placed_at >= oldest_event(as_of, policy),
            OE.placed_at <= as_of,
            SELLER.status != SellerStatus.offboarded.value,
        )
        .group_by(SELLER.seller_category)
    )
    means: dict[str, dict[str, float]] = {}
    for row in conn.execute(query):
        counts = counts_of(policy, row._mapping)
        means[row.seller_category] = {
            kpi.value: c.numerator / c.denominator for kpi, c in counts.items() if c.denominator
        }
    return means


def seller_counts(
    conn: sa.Connection, policy: Policy, as_of: datetime, lo: uuid.UUID, hi: uuid.UUID
) -> dict[uuid.UUID, dict[KPI, KpiCounts]]:
    """KPI counts of every seller whose id lies in [lo, hi], in one grouped query."""
    query = (
        sa.select(OE.seller_id, *kpi_columns(policy, as_of))
        .where(
            OE.seller_id >= lo,
            OE.seller_id <= hi,
            OE.placed_at >= oldest_event(as_of, policy),
            OE.placed_at <= as_of,
        )
        .group_by(OE.seller_id)
    )
    return {row.seller_id: counts_of(policy, row._mapping) for row in conn.execute(query)}


def seller_scorecard(
    conn: sa.Connection, policy: Policy, seller_id: uuid.UUID, as_of: datetime, *, in_trial: bool
) -> list[ScorecardEntry]:
    counts = seller_counts(conn, policy, as_of, seller_id, seller_id).get(seller_id, {})
    return scorecard(policy, counts, in_trial=in_trial)


def score_chunk(
    conn: sa.Connection,
    policy: Policy,
    as_of: datetime,
    after: uuid.UUID | None,
    limit: int,
    means: dict[str, dict[str, float]],
) -> tuple[uuid.UUID | None, int, list[tuple[uuid.UUID, Standing, list[ReasonRecord]]]]:
    """Score the next `limit` sellers after `after`; return the last id, count and the changes.

    Set-based: the chunk's scorecards, standings and scores are computed by one statement into a
    temporary table (`scoring_sql`), and every write is one statement from it for the whole
    chunk. A change is a standing other than the one the seller's workflow last acted on
    (`applied_standing`, which only the workflow writes): a chunk retried after it committed
    finds the same changes again, and the workflow takes each evaluation's signal once."""
    ids = sa.select(SELLER.id).where(SELLER.status != SellerStatus.offboarded.value)
    if after is not None:
        ids = ids.where(SELLER.id > after)
    chunk = ids.order_by(SELLER.id).limit(limit).subquery()
    # The chunk's last id (PostgreSQL has no max() of a uuid).
    last = conn.execute(sa.select(chunk.c.id).order_by(chunk.c.id.desc()).limit(1)).scalar()
    if last is None:
        return None, 0, []
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # A chunk's counts fit in memory (a sort spilled to disk at the default 4 MB), and a
        # parallel plan for 5,000 sellers spends more on its workers than it saves.
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
    stage = scoring_sql.stage_table(policy)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage.name}")
    stage.create(conn)
    counts = _counts_in_range(policy, as_of, after, last)
    rows = scoring_sql.scored(
        dialect, policy, means, scoring_sql.chunk_counts(policy, counts, after, last)
    )
    names = [c.name for c in stage.c]
    scored_rows = rows.subquery()
    by_name = sa.select(*(scored_rows.c[name] for name in names))
    conn.execute(sa.insert(stage).from_select(names, by_name))
    scored = conn.execute(sa.select(sa.func.count()).select_from(stage)).scalar_one()
    if dialect == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {stage.name}")  # the joins below read its real size
    # The sellers first: the foreign-key checks of the rows written next then lock the new
    # row versions, where the other way round each update would meet its own lock (a MultiXact).
    conn.execute(
        sa.update(table_of(Seller))
        .where(SELLER.id == stage.c.seller_id)
        .values(score=stage.c.score, standing=stage.c.standing, evaluated_at=as_of)
    )
    _write_scorecards(conn, policy, as_of, stage, after, last)
    _write_days(conn, policy, as_of, stage, after, last)
    changed = conn.execute(sa.select(stage).where(stage.c.standing != stage.c.applied_standing))
    changes = [
        (
            row.seller_id,
            Standing(row.standing),
            breach_reasons(scoring_sql.entries_of(policy, row._mapping)),
        )
        for row in changed
    ]
    stage.drop(conn)
    return last, scored, changes


def _counts_in_range(
    policy: Policy, as_of: datetime, after: uuid.UUID | None, last: uuid.UUID
) -> sa.Select[Any]:
    """KPI counts of every seller with orders whose id lies in (after, last], grouped."""
    query = (
        sa.select(OE.seller_id, *kpi_columns(policy, as_of))
        .where(
            OE.seller_id <= last,
            OE.placed_at >= oldest_event(as_of, policy),
            OE.placed_at <= as_of,
        )
        .group_by(OE.seller_id)
    )
    return query.where(OE.seller_id > after) if after is not None else query


def _staged(column: Any, stage: sa.Table, after: uuid.UUID | None, last: uuid.UUID) -> Any:
    """`column` names a seller of the staged chunk: within the chunk's id range (read from the
    key's index, where a bare `IN` scanned the whole table), then among the staged ids."""
    range_ = [column <= last] if after is None else [column > after, column <= last]
    return sa.and_(*range_, column.in_(sa.select(stage.c.seller_id)))


def _write_scorecards(
    conn: sa.Connection,
    policy: Policy,
    as_of: datetime,
    stage: sa.Table,
    after: uuid.UUID | None,
    last: uuid.UUID,
) -> None:
    """The chunk's scorecards, six rows a seller, in one upsert (yesterday's rows updated in
    place: an unchanged key skips the foreign-key check an inserted row costs)."""
    card = table_of(ScorecardRow)
    # A KPI the policy no longer has leaves the card of the sellers scored now (an offboarded
    # seller in the id range keeps its last card).
    conn.execute(
        sa.delete(card).where(
            _staged(card.c.seller_id, stage, after, last),
            card.c.kpi.not_in([kpi.value for kpi in policy.kpis]),
        )
    )
    per_kpi = [
        sa.select(
            stage.c.seller_id,
            sa.literal(kpi.value, sa.String),
            sa.literal(rule.window_days, sa.Integer),
            stage.c[f"{kpi.value}_num"],
            stage.c[f"{kpi.value}_den"],
            stage.c[f"{kpi.value}_value"],
            sa.literal(rule.warn, sa.Float),
            sa.literal(rule.limit, sa.Float),
            stage.c[f"{kpi.value}_status"],
            sa.literal(as_of, card.c.evaluated_at.type),
            sa.literal(policy.version, sa.String),
        ).where(sa.true())  # SQLite reads `ON CONFLICT` after a bare `FROM` as a join's
        for kpi, rule in policy.kpis.items()
    ]
    columns = [
        "seller_id",
        "kpi",
        "window_days",
        "numerator",
        "denominator",
        "value",
        "warn",
        "limit",
        "status",
        "evaluated_at",
        "policy_version",
    ]
    _upsert(conn, card, columns, sa.union_all(*per_kpi), ["seller_id", "kpi"])


def _upsert(
    conn: sa.Connection, table: sa.Table, columns: list[str], rows: Any, key: list[str]
) -> None:
    """`INSERT INTO table (columns) rows ON CONFLICT (key) DO UPDATE` the other columns."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    upsert = insert.from_select(columns, rows)
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=key,
            set_={name: upsert.excluded[name] for name in columns if name not in key},
        )
    )


def _write_days(
    conn: sa.Connection,
    policy: Policy,
    as_of: datetime,
    stage: sa.Table,
    after: uuid.UUID | None,
    last: uuid.UUID,
) -> None:
    """Today's row of each seller in the chunk (a rerun the same day replaces it: one row a
    seller a day), and the days past the history dropped."""
    oldest = as_of.date() - timedelta(days=HISTORY_DAYS)
    conn.execute(
        sa.delete(DAYS).where(_staged(DAYS.c.seller_id, stage, after, last), DAYS.c.day <= oldest)
    )
    dialect = conn.dialect.name
    kpis = {kpi.value: stage.c[f"{kpi.value}_value"] for kpi in policy.kpis}
    samples = {kpi.value: stage.c[f"{kpi.value}_den"] for kpi in policy.kpis}
    rows = sa.select(
        stage.c.seller_id,
        sa.literal(as_of.date(), DAYS.c.day.type),
        stage.c.standing,
        stage.c.score,
        scoring_sql.json_object(dialect, kpis),
        scoring_sql.json_object(dialect, samples, integers=True),
    ).where(sa.true())  # SQLite reads `ON CONFLICT` after a bare `FROM` as a join's
    columns = ["seller_id", "day", "standing", "score", "kpis", "samples"]
    _upsert(conn, DAYS, columns, rows, ["seller_id", "day"])


def rank(conn: sa.Connection) -> int:
    """Store each seller's percentile within its category (`policy.kpis.percentiles`), with
    window functions in one statement; returns how many were ranked."""
    category = (
        sa.select(
            SELLER.id,
            (
                sa.func.rank().over(partition_by=SELLER.seller_category, order_by=SELLER.score) - 1
            ).label("below"),
            sa.func.count().over(partition_by=SELLER.seller_category).label("n"),
        )
        .where(SELLER.score.is_not(None))
        .subquery()
    )
    share = sa.select(
        category.c.id,
        category.c.n,
        (
            sa.literal(100.0, sa.Float)
            * sa.cast(category.c.below, sa.Float)
            / sa.cast(sa.case((category.c.n > 1, category.c.n - 1), else_=1), sa.Float)
        ).label("share"),
    ).subquery()
    ranked = sa.select(
        share.c.id,
        sa.case(
            (share.c.n > 1, scoring_sql.python_round(share.c.share, 1)),
            else_=sa.literal(100.0, sa.Float),
        ).label("percentile"),
    ).subquery()
    # Only the percentiles that moved are written (a row rewritten costs an entry in each of
    # the seller's indexes).
    conn.execute(
        sa.update(table_of(Seller))
        .where(
            SELLER.id == ranked.c.id,
            SELLER.category_percentile.is_distinct_from(ranked.c.percentile),
        )
        .values(category_percentile=ranked.c.percentile)
    )
    count = sa.select(sa.func.count()).where(SELLER.score.is_not(None))
    return int(conn.execute(count).scalar_one())
