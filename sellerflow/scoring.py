"""Set-based KPI computation in SQL (SQLite and PostgreSQL alike): one grouped scan per chunk."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from sellerflow.db import table_of
from sellerflow.models import OrderEvent, ScorecardRow, Seller, SellerDay
from sellerflow.policy.kpis import (
    KpiCounts,
    ScorecardEntry,
    percentiles,
    score,
    scorecard,
    standing,
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

    A change is a standing other than the one the seller's workflow last acted on
    (`applied_standing`, which only the workflow writes): a chunk retried after it committed
    finds the same changes again, and the workflow takes each evaluation's signal once."""
    sellers = next_sellers(
        conn, after, limit, SELLER.seller_category, SELLER.status, SELLER.applied_standing
    )
    if not sellers:
        return None, 0, []
    lo, hi = sellers[0].id, sellers[-1].id
    counts = seller_counts(conn, policy, as_of, lo, hi)
    card_rows: list[dict[str, Any]] = []
    seller_rows: list[dict[str, Any]] = []
    day_rows: list[dict[str, Any]] = []
    changes = []
    priors = {
        category: {KPI(k): v for k, v in kpi_means.items()} for category, kpi_means in means.items()
    }
    for seller in sellers:
        seller_kpis = counts.get(seller.id, {})
        entries = scorecard(policy, seller_kpis, in_trial=seller.status == SellerStatus.trial.value)
        new_standing = standing(entries)
        seller_score = score(policy, seller_kpis, priors.get(seller.seller_category, {}))
        seller_rows.append(
            {
                "b_id": seller.id,
                "score": seller_score,
                "standing": new_standing.value,
                "evaluated_at": as_of,
            }
        )
        day_rows.append(
            {
                "seller_id": seller.id,
                "day": as_of.date(),
                "standing": new_standing.value,
                "score": seller_score,
                "kpis": {e.kpi.value: e.value for e in entries},
                "samples": {e.kpi.value: e.denominator for e in entries},
            }
        )
        card_rows += [
            {
                "seller_id": seller.id,
                "evaluated_at": as_of,
                "policy_version": policy.version,
                **e.model_dump(mode="json"),
            }
            for e in entries
        ]
        if new_standing.value != seller.applied_standing:
            changes.append((seller.id, new_standing, breach_reasons(entries)))
    card = table_of(ScorecardRow)
    # Only the sellers scored now: an offboarded seller in the id range keeps its last card.
    ids = [s.id for s in sellers]
    conn.execute(sa.delete(card).where(card.c.seller_id.in_(ids)))
    conn.execute(sa.insert(card), card_rows)
    # Today's row replaced (a rerun the same day), and the days past the history dropped.
    oldest = as_of.date() - timedelta(days=HISTORY_DAYS)
    conn.execute(
        sa.delete(DAYS).where(
            DAYS.c.seller_id.in_(ids),
            sa.or_(DAYS.c.day == as_of.date(), DAYS.c.day <= oldest),
        )
    )
    conn.execute(sa.insert(DAYS), day_rows)
    conn.execute(
        sa.update(table_of(Seller))
        .where(SELLER.id == sa.bindparam("b_id"))
        .values(
            score=sa.bindparam("score"),
            standing=sa.bindparam("standing"),
            evaluated_at=sa.bindparam("evaluated_at"),
        ),
        seller_rows,
    )
    return hi, len(sellers), changes


def rank(conn: sa.Connection) -> int:
    """Store each seller's percentile within its category; returns how many were ranked."""
    by_category: dict[str, dict[uuid.UUID, float]] = defaultdict(dict)
    rows = conn.execute(
        sa.select(SELLER.id, SELLER.seller_category, SELLER.score).where(SELLER.score.is_not(None))
    )
    for row in rows:
        by_category[row.seller_category][row.id] = row.score
    updates = [
        {"b_id": seller_id, "pct": pct}
        for scores in by_category.values()
        for seller_id, pct in percentiles(scores).items()
    ]
    if updates:
        conn.execute(
            sa.update(table_of(Seller))
            .where(SELLER.id == sa.bindparam("b_id"))
            .values(category_percentile=sa.bindparam("pct")),
            updates,
        )
    return len(updates)
