"""Builders for seller lifecycle tests: states, scorecards and common paths."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sellerflow.policy.kpis import KpiCounts, ScorecardEntry, scorecard
from sellerflow.policy.lifecycle import (
    decide_trial,
    on_manual_action,
    on_task_decided,
    on_timers,
    start_trial,
)
from sellerflow.policy.model import Policy
from sellerflow.policy.seller_state import OpenTaskEffect, SellerState
from sellerflow.vocabulary import (
    KPI,
    Decision,
    SellerActionKind,
    SellerStatus,
    Standing,
)

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday
SELLER = "seller-1"
DAY = timedelta(days=1)
TRIAL_END = datetime(2026, 6, 7, 9, 0, tzinfo=UTC)  # NOW + 90 days, a Sunday
E = TypeVar("E")
# What the lab reports on a mystery order it passes: every checklist item, all fine.
PASSING_CHECKLIST: dict[str, Any] = {
    "battery_health_percent": 92,
    "grade_matches_listing": True,
    "genuine_parts": True,
    "factory_reset_and_unlocked": True,
    "packaging_ok": True,
    "delivered_on_time": True,
}


def good_entries(policy: Policy) -> list[ScorecardEntry]:
    n = 100
    counts = {
        KPI.order_defect_rate: KpiCounts(numerator=0, denominator=n),
        KPI.seller_cancellation_rate: KpiCounts(numerator=0, denominator=n),
        KPI.late_shipment_rate: KpiCounts(numerator=1, denominator=n),
        KPI.on_time_delivery: KpiCounts(numerator=99, denominator=n),
        KPI.refund_rate: KpiCounts(numerator=2, denominator=n),
        KPI.review_rating: KpiCounts(numerator=4.6 * 20, denominator=20),
    }
    return scorecard(policy, counts, in_trial=True)


def entries_with(
    policy: Policy, kpi: KPI, numerator: float, denominator: int
) -> list[ScorecardEntry]:
    counts = {kpi: KpiCounts(numerator=numerator, denominator=denominator)}
    return scorecard(policy, counts)


def warn_entries(policy: Policy) -> list[ScorecardEntry]:
    return entries_with(policy, KPI.order_defect_rate, 1, 100)


def limit_entries(policy: Policy) -> list[ScorecardEntry]:
    return entries_with(policy, KPI.order_defect_rate, 5, 100)


def new_trial(policy: Policy, offsets: list[float] | None = None) -> SellerState:
    return start_trial(policy, SELLER, NOW, [0.2, 0.5] if offsets is None else offsets)


def seller(status: SellerStatus, **fields: object) -> SellerState:
    return SellerState(seller_id=SELLER, status=status, trial_ends_at=NOW - DAY, **fields)


def only(effects: list[Any], kind: type[E]) -> E:
    matching = [e for e in effects if isinstance(e, kind)]
    assert len(matching) == 1, effects
    return matching[0]


def decide_mystery_orders(
    policy: Policy, state: SellerState, decisions: list[Decision]
) -> datetime:
    """Open every scheduled mystery order and decide them in order; returns the time after."""
    for order, decision in zip(state.mystery_orders, decisions, strict=False):
        effects = on_timers(policy, state, order.due_at)
        opened = [e for e in effects if isinstance(e, OpenTaskEffect)]
        assert order.task_id in [e.task_id for e in opened]
        assert order.task_id is not None
        on_task_decided(policy, state, order.task_id, decision, "lab-1", "", order.due_at)
    return state.trial_ends_at


def trial_in_review(
    policy: Policy, entries: Callable[[Policy], list[ScorecardEntry]] = warn_entries
) -> tuple[SellerState, str, datetime]:
    """A trial at its end, borderline (a mystery order with minor issues): an SSM decides."""
    state = new_trial(policy)
    end = decide_mystery_orders(policy, state, [Decision.passed, Decision.minor_issues])
    task = only(
        decide_trial(policy, state, entries(policy), end, eventually_due_satisfied=True),
        OpenTaskEffect,
    )
    return state, task.task_id, end


def suspended(policy: Policy, standing: Standing = Standing.good) -> SellerState:
    """A limited seller suspended by ops; its KPI standing at that moment is `standing`."""
    state = seller(SellerStatus.limited, standing=standing)
    on_manual_action(policy, state, SellerActionKind.suspend, "ops-1", "kpis", NOW)
    assert state.status == SellerStatus.suspended
    assert state.appeal_deadline == NOW + timedelta(days=30)
    return state
