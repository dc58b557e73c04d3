"""The policy's scorecard, standing, smoothed score and percentile as SQL (SQLite and PostgreSQL
alike): what the evaluation computes in the database instead of seller by seller in Python.

The definitions stay those of `sellerflow.policy.kpis`. Every step here is the same IEEE double
operation, in the same order, on the same operands as there (constants of the policy are worked
out in Python, as the pure functions work them out, and bound as parameters), and Python's
`round` is reproduced exactly (`python_round`). tests/db/test_scoring_sql.py checks it against
the pure functions over random order sets.
"""

from typing import Any

import sqlalchemy as sa

from sellerflow.db import table_of
from sellerflow.models import OrderEvent, Seller
from sellerflow.policy.kpis import ScorecardEntry
from sellerflow.policy.model import KpiRule, Policy
from sellerflow.vocabulary import KPI, KpiStatus, SellerStatus, Standing

OE = table_of(OrderEvent).c
SELLER = table_of(Seller).c
# 2**27 + 1: Veltkamp's constant, splitting a double into two halves of 26 bits.
SPLIT = 134_217_729.0


def _float(value: float) -> Any:
    return sa.literal(float(value), sa.Float)


def python_round(x: Any, digits: int) -> Any:
    """`round(x, digits)` as Python rounds a double: to the nearest on the double's exact value,
    ties to even. `x` is read several times (give it a column).

    `p = x * 10**digits` is rounded; where it lands exactly on a half, the product's exact error
    (Dekker's two-product: x split in halves whose products are exact) says on which side the
    exact value lies. Elsewhere no half can lie between p and the exact product."""
    scale = _float(10.0**digits)
    p = x * scale
    whole = sa.func.floor(p)
    fraction = p - whole  # exact: whole and p are within a factor of two, or whole is 0
    c = _float(SPLIT) * x
    high = c - (c - x)
    low = x - high
    error = (high * scale - p) + low * scale
    even = sa.func.floor(whole / _float(2.0)) * _float(2.0) == whole
    up = whole + _float(1.0)
    rounded = sa.case(
        (fraction > _float(0.5), up),
        (fraction < _float(0.5), whole),
        (error > _float(0.0), up),
        (error < _float(0.0), whole),
        (even, whole),
        else_=up,
    )
    return rounded / scale


def _clamp(dialect: str, value: Any) -> Any:
    """`min(1.0, max(0.0, value))`."""
    least, greatest = (
        (sa.func.min, sa.func.max) if dialect == "sqlite" else (sa.func.least, sa.func.greatest)
    )
    return least(_float(1.0), greatest(_float(0.0), value))


def _status(rule: KpiRule, value: Any, sample: Any, min_sample: Any) -> Any:
    """`policy.kpis.kpi_status`."""
    if rule.higher_is_better:
        limit, warn = value < _float(rule.limit), value < _float(rule.warn)
    else:
        limit, warn = value >= _float(rule.limit), value >= _float(rule.warn)
    return sa.case(
        (sa.or_(sample == 0, sample < min_sample), KpiStatus.not_enough_data.value),
        (limit, KpiStatus.limit.value),
        (warn, KpiStatus.warn.value),
        else_=KpiStatus.good.value,
    )


def _goodness(rule: KpiRule, kpi: KPI, value: Any) -> Any:
    """`policy.kpis.goodness`, unclamped."""
    if kpi == KPI.review_rating:
        return (value - _float(1.0)) / _float(4.0)
    if rule.higher_is_better:
        floor = max(0.0, 2 * rule.limit - 1.0)
        return (value - _float(floor)) / _float(1.0 - floor)
    return _float(1.0) - value / _float(2 * rule.limit)


def _prior_times_strength(
    policy: Policy, kpi: KPI, rule: KpiRule, category: Any, means: dict[str, dict[str, float]]
) -> Any:
    """`strength * prior` of `policy.kpis.score`: the category's mean, or the rule's default."""
    strength = policy.score.prior_strength
    default = rule.warn if rule.higher_is_better else rule.warn / 2
    by_category = [
        (category == name, _float(strength * kpi_means[kpi.value]))
        for name, kpi_means in means.items()
        if kpi.value in kpi_means
    ]
    fallback = _float(strength * default)
    return sa.case(*by_category, else_=fallback) if by_category else fallback


def chunk_counts(policy: Policy, counts: sa.Select[Any], after: Any, last: Any) -> sa.Subquery:
    """The chunk's sellers (ids in (after, last], not offboarded) with their KPI counts (0 for
    a seller without orders): `<kpi>_num` as a double, `<kpi>_den`."""
    grouped = counts.subquery("counts")
    columns = []
    for kpi in policy.kpis:
        num, den = grouped.c[f"{kpi.value}__num"], grouped.c[f"{kpi.value}__den"]
        columns += [
            sa.func.coalesce(sa.cast(num, sa.Float), _float(0.0)).label(f"{kpi.value}_num"),
            sa.func.coalesce(den, 0).label(f"{kpi.value}_den"),
        ]
    query = (
        sa.select(
            SELLER.id.label("seller_id"),
            SELLER.seller_category,
            SELLER.status,
            SELLER.applied_standing,
            *columns,
        )
        .select_from(table_of(Seller).outerjoin(grouped, grouped.c.seller_id == SELLER.id))
        .where(SELLER.id <= last, SELLER.status != SellerStatus.offboarded.value)
    )
    if after is not None:
        query = query.where(SELLER.id > after)
    return query.subquery("chunk_counts")


def scored(
    dialect: str,
    policy: Policy,
    means: dict[str, dict[str, float]],
    counts: sa.Subquery,
) -> sa.Select[Any]:
    """Each seller of `counts` (see `chunk_counts`) with every KPI's `<kpi>_value` and
    `<kpi>_status`, its `standing` and its `score`: `scorecard`, `standing` and `score`."""
    c = counts.c
    in_trial = c.status == SellerStatus.trial.value
    strength = policy.score.prior_strength
    kpi_columns: list[Any] = []
    weighted: Any = _float(0.0)
    for kpi, rule in policy.kpis.items():
        num, den = c[f"{kpi.value}_num"], c[f"{kpi.value}_den"]
        den_float = sa.cast(den, sa.Float)
        value = num / den_float
        min_sample: Any = rule.min_sample
        if kpi != KPI.review_rating:
            trial_min = max(rule.min_sample, policy.trial.min_orders_for_kpis)
            min_sample = sa.case((in_trial, trial_min), else_=rule.min_sample)
        smoothed = (num + _prior_times_strength(policy, kpi, rule, c.seller_category, means)) / (
            den_float + _float(strength)
        )
        weighted = weighted + _float(rule.weight) * _clamp(dialect, _goodness(rule, kpi, smoothed))
        kpi_columns += [
            sa.case((den > 0, value), else_=None).label(f"{kpi.value}_value"),
            _status(rule, value, den, min_sample).label(f"{kpi.value}_status"),
        ]
    weights = sum(rule.weight for rule in policy.kpis.values())
    raw = (_float(100.0) * weighted / _float(weights)) if weights else _float(0.0)
    kpis = sa.select(*c, *kpi_columns, raw.label("raw_score")).subquery("kpis")
    statuses = [kpis.c[f"{kpi.value}_status"] for kpi in policy.kpis]
    standing = sa.case(
        (sa.or_(*(s == KpiStatus.limit.value for s in statuses)), Standing.limit.value),
        (sa.or_(*(s == KpiStatus.warn.value for s in statuses)), Standing.warn.value),
        else_=Standing.good.value,
    )
    return sa.select(
        *(col for col in kpis.c if col.name != "raw_score"),
        python_round(kpis.c.raw_score, 2).label("score"),
        standing.label("standing"),
    )


def stage_table(policy: Policy, name: str = "evaluation_chunk") -> sa.Table:
    """A temporary table holding `scored`'s columns."""
    columns = [
        sa.Column("seller_id", SELLER.id.type, primary_key=True),
        sa.Column("seller_category", sa.String(32)),
        sa.Column("status", sa.String(16)),
        sa.Column("applied_standing", sa.String(16)),
    ]
    for kpi in policy.kpis:
        columns += [
            sa.Column(f"{kpi.value}_num", sa.Float),
            sa.Column(f"{kpi.value}_den", sa.Integer),
            sa.Column(f"{kpi.value}_value", sa.Float),
            sa.Column(f"{kpi.value}_status", sa.String(16)),
        ]
    columns += [sa.Column("score", sa.Float), sa.Column("standing", sa.String(16))]
    return sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])


def entries_of(policy: Policy, row: Any) -> list[ScorecardEntry]:
    """A staged row's scorecard, as `policy.kpis.scorecard` gives it."""
    return [
        ScorecardEntry(
            kpi=kpi,
            window_days=rule.window_days,
            numerator=row[f"{kpi.value}_num"],
            denominator=row[f"{kpi.value}_den"],
            value=row[f"{kpi.value}_value"],
            warn=rule.warn,
            limit=rule.limit,
            status=KpiStatus(row[f"{kpi.value}_status"]),
        )
        for kpi, rule in policy.kpis.items()
    ]


def json_object(dialect: str, pairs: dict[str, Any], *, integers: bool = False) -> Any:
    """A JSON object of SQL numbers (or nulls), each written so that it reads back as the same
    double (SQLite's `json_object` keeps 15 digits only: 17 round-trip)."""
    if dialect != "sqlite":
        items = [part for key, value in pairs.items() for part in (key, value)]
        return sa.func.json_build_object(*items)
    parts: list[Any] = []
    for key, value in pairs.items():
        number = sa.cast(value, sa.Text) if integers else sa.func.printf("%!.17g", value)
        text = sa.case((value.is_(None), "null"), else_=number)
        parts.append(sa.literal(f'"{key}":') + text)
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "," + part
    return sa.literal("{") + joined + "}"
