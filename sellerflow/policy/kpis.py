"""KPI statuses, a seller's standing, and the smoothed 0-100 score (pure functions)."""

import bisect
from collections.abc import Iterable, Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from sellerflow.policy.model import KpiRule, Policy
from sellerflow.vocabulary import KPI, KpiStatus, Standing

K = TypeVar("K")


class KpiCounts(BaseModel):
    """Numerator and denominator of one KPI over its window (rating: sum of ratings, count)."""

    model_config = ConfigDict(frozen=True)
    numerator: float
    denominator: int


class ScorecardEntry(BaseModel):
    model_config = ConfigDict(frozen=True)
    kpi: KPI
    window_days: int
    numerator: float
    denominator: int
    value: float | None
    warn: float
    limit: float
    status: KpiStatus


def kpi_status(rule: KpiRule, value: float | None, sample: int, min_sample: int) -> KpiStatus:
    if value is None or sample < min_sample:
        return KpiStatus.not_enough_data
    if rule.higher_is_better:
        if value < rule.limit:
            return KpiStatus.limit
        return KpiStatus.warn if value < rule.warn else KpiStatus.good
    if value >= rule.limit:
        return KpiStatus.limit
    return KpiStatus.warn if value >= rule.warn else KpiStatus.good


def scorecard(
    policy: Policy, counts: Mapping[KPI, KpiCounts], *, in_trial: bool = False
) -> list[ScorecardEntry]:
    """One entry per KPI; in the trial, rate KPIs also wait for the trial's minimum of orders."""
    entries = []
    for kpi, rule in policy.kpis.items():
        c = counts.get(kpi, KpiCounts(numerator=0, denominator=0))
        value = c.numerator / c.denominator if c.denominator else None
        min_sample = rule.min_sample
        if in_trial and kpi != KPI.review_rating:
            min_sample = max(min_sample, policy.trial.min_orders_for_kpis)
        entries.append(
            ScorecardEntry(
                kpi=kpi,
                window_days=rule.window_days,
                numerator=c.numerator,
                denominator=c.denominator,
                value=value,
                warn=rule.warn,
                limit=rule.limit,
                status=kpi_status(rule, value, c.denominator, min_sample),
            )
        )
    return entries


def standing(entries: Iterable[ScorecardEntry]) -> Standing:
    """The worst status among KPIs with enough data; too little data never sanctions."""
    statuses = {e.status for e in entries}
    if KpiStatus.limit in statuses:
        return Standing.limit
    if KpiStatus.warn in statuses:
        return Standing.warn
    return Standing.good


def goodness(rule: KpiRule, kpi: KPI, value: float) -> float:
    """Map a KPI value to 0 (bad) .. 1 (perfect) so KPIs of different scales can be weighted."""
    if kpi == KPI.review_rating:
        g = (value - 1.0) / 4.0
    elif rule.higher_is_better:
        floor = max(0.0, 2 * rule.limit - 1.0)
        g = (value - floor) / (1.0 - floor)
    else:
        g = 1.0 - value / (2 * rule.limit)
    return min(1.0, max(0.0, g))


def score(
    policy: Policy,
    counts: Mapping[KPI, KpiCounts],
    category_means: Mapping[KPI, float],
) -> float:
    """0-100, each KPI smoothed toward the category mean so a few orders cannot decide the rank."""
    strength = policy.score.prior_strength
    total = weights = 0.0
    for kpi, rule in policy.kpis.items():
        c = counts.get(kpi, KpiCounts(numerator=0, denominator=0))
        prior = category_means.get(kpi)
        if prior is None:
            prior = rule.warn if rule.higher_is_better else rule.warn / 2
        smoothed = (c.numerator + strength * prior) / (c.denominator + strength)
        total += rule.weight * goodness(rule, kpi, smoothed)
        weights += rule.weight
    return round(100 * total / weights, 2) if weights else 0.0


def percentiles(scores: Mapping[K, float]) -> dict[K, float]:
    """Percentile rank (0-100) of each key's score among all the keys given."""
    ordered = sorted(scores.values())
    n = len(ordered)
    if n == 0:
        return {}
    return {
        key: round(100.0 * bisect.bisect_left(ordered, value) / max(1, n - 1), 1)
        if n > 1
        else 100.0
        for key, value in scores.items()
    }
