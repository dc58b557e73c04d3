"""What a policy rollout tells each seller, and when it may take effect: pure functions."""

from datetime import datetime

from sellerflow.policy.kpis import ScorecardEntry
from sellerflow.policy.model import Policy, add_duration
from sellerflow.vocabulary import KPI, KpiStatus

_STATUS_WORDS = {
    KpiStatus.good: "good",
    KpiStatus.warn: "a warning",
    KpiStatus.limit: "a limit",
    KpiStatus.not_enough_data: "not rated (too few orders)",
}


def change_notice(now: datetime, current: Policy, proposed: Policy) -> str:
    """The notice a rollout from `current` to `proposed` owes the sellers: the longer of the two
    versions' `change_notice` (new rules cannot shorten the notice in force)."""
    notices = (current.change_notice, proposed.change_notice)
    return max(notices, key=lambda spec: add_duration(now, spec))


def earliest_effective_at(now: datetime, current: Policy, proposed: Policy) -> datetime:
    """The earliest a rollout from `current` to `proposed` may take effect."""
    return add_duration(now, change_notice(now, current, proposed))


def kpi_name(kpi: KPI) -> str:
    """`late_shipment_rate` → "late-shipment rate"."""
    words = kpi.value.split("_")
    if len(words) > 2:
        return "-".join(words[:-1]) + " " + words[-1]
    return " ".join(words)


def kpi_value(kpi: KPI, value: float | None) -> str:
    if value is None:
        return "not measured"
    if kpi == KPI.review_rating:
        return f"{value:.2g} stars"
    return f"{value * 100:.3g} %"


def change_lines(current: list[ScorecardEntry], proposed: list[ScorecardEntry]) -> list[str]:
    """One sentence per KPI whose status the proposed rules would change, in KPI order:
    "Under the new rules your late-shipment rate of 9 % would be a warning (today: good)."."""
    before = {e.kpi: e for e in current}
    lines = []
    for entry in sorted(proposed, key=lambda e: list(KPI).index(e.kpi)):
        was = before.get(entry.kpi)
        if was is not None and was.status == entry.status:
            continue
        today = f" (today: {_STATUS_WORDS[was.status]})" if was is not None else " (new)"
        lines.append(
            f"Under the new rules your {kpi_name(entry.kpi)} of"
            f" {kpi_value(entry.kpi, entry.value)} would be {_STATUS_WORDS[entry.status]}{today}."
        )
    return lines
