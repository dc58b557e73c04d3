"""The trial: mystery orders, SLA escalation and the decision at the trial end."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sellerflow.policy.kpis import ScorecardEntry
from sellerflow.policy.lifecycle import (
    breach_reasons,
    decide_trial,
    next_wakeup,
    on_standing,
    on_task_decided,
    on_timers,
    start_trial,
    trial_due_at,
)
from sellerflow.policy.model import Policy
from sellerflow.policy.seller_state import (
    EscalateEffect,
    NoticeEffect,
    OpenTaskEffect,
    StatusEffect,
    task_id_for,
)
from sellerflow.vocabulary import Decision, SellerActionKind, SellerStatus, Standing, TaskKind
from tests.policy.sellers import (
    DAY,
    NOW,
    SELLER,
    TRIAL_END,
    decide_mystery_orders,
    good_entries,
    limit_entries,
    new_trial,
    only,
    trial_in_review,
    warn_entries,
)

# --- trial and mystery orders ------------------------------------------------------------


def test_start_trial(policy: Policy) -> None:
    state = new_trial(policy)
    assert state.status == SellerStatus.trial
    assert state.trial_ends_at == NOW + timedelta(days=90) == TRIAL_END
    assert [o.due_at for o in state.mystery_orders] == [NOW + 18 * DAY, NOW + 45 * DAY]
    assert all(o.task_id is None and o.outcome is None for o in state.mystery_orders)
    assert len({o.key for o in state.mystery_orders}) == 2
    assert trial_due_at(state) == state.trial_ends_at


def test_start_trial_schedules_the_policy_number_of_orders(policy: Policy) -> None:
    state = new_trial(policy, [0.7, 0.1])
    assert len(state.mystery_orders) == policy.trial.mystery_orders
    assert [o.due_at for o in state.mystery_orders] == sorted(
        o.due_at for o in state.mystery_orders
    )


@given(offsets=st.lists(st.floats(min_value=-5, max_value=5), min_size=2, max_size=2))
def test_mystery_orders_fall_strictly_inside_the_trial(
    policy: Policy, offsets: list[float]
) -> None:
    state = start_trial(policy, SELLER, NOW, offsets)
    assert len(state.mystery_orders) == 2
    for order in state.mystery_orders:
        assert NOW < order.due_at < state.trial_ends_at


def test_next_wakeup_is_the_first_mystery_order(policy: Policy) -> None:
    state = new_trial(policy)
    assert next_wakeup(state) == NOW + 18 * DAY


def test_on_timers_opens_a_mystery_order_when_due(policy: Policy) -> None:
    state = new_trial(policy)
    due = state.mystery_orders[0].due_at
    assert on_timers(policy, state, due - timedelta(seconds=1)) == []
    effects = on_timers(policy, state, due)
    opened = only(effects, OpenTaskEffect)
    assert opened.kind == TaskKind.mystery_order
    assert opened.task_id == task_id_for(SELLER, "mystery-0")
    assert opened.due_at == due + timedelta(days=14)
    assert state.mystery_orders[0].task_id == opened.task_id
    assert state.open_tasks == {opened.task_id: TaskKind.mystery_order}
    assert state.mystery_orders[1].task_id is None
    # Not opened twice.
    assert [e for e in on_timers(policy, state, due) if isinstance(e, OpenTaskEffect)] == []


def test_mystery_task_ids_are_deterministic(policy: Policy) -> None:
    a, b = new_trial(policy), new_trial(policy)
    due = a.mystery_orders[0].due_at
    first = only(on_timers(policy, a, due), OpenTaskEffect).task_id
    second = only(on_timers(policy, b, due), OpenTaskEffect).task_id
    assert first == second
    assert task_id_for(SELLER, "mystery-0") != task_id_for("seller-2", "mystery-0")
    assert task_id_for(SELLER, "mystery-0") != task_id_for(SELLER, "mystery-1")


def test_overdue_task_is_escalated_once(policy: Policy) -> None:
    state = new_trial(policy)
    due = state.mystery_orders[0].due_at
    task_id = only(on_timers(policy, state, due), OpenTaskEffect).task_id
    sla_end = due + timedelta(days=14)
    assert EscalateEffect(task_id=task_id) not in on_timers(policy, state, sla_end - DAY)
    assert EscalateEffect(task_id=task_id) in on_timers(policy, state, sla_end)
    assert EscalateEffect(task_id=task_id) not in on_timers(policy, state, sla_end + DAY)


def test_suspended_seller_gets_no_mystery_order(policy: Policy) -> None:
    state = new_trial(policy)
    state.status = SellerStatus.suspended
    effects = on_timers(policy, state, state.mystery_orders[0].due_at)
    assert not [e for e in effects if isinstance(e, OpenTaskEffect)]
    assert state.mystery_orders[0].task_id is None


def test_trial_graduates_when_everything_is_good(policy: Policy) -> None:
    state = new_trial(policy)
    end = decide_mystery_orders(policy, state, [Decision.passed, Decision.passed])
    effects = decide_trial(policy, state, good_entries(policy), end, eventually_due_satisfied=True)
    moved = only(effects, StatusEffect)
    assert moved.status == SellerStatus.active
    assert moved.capabilities.listing_cap is None
    assert moved.capabilities.payouts_deferred is False
    assert state.status == SellerStatus.active
    assert trial_due_at(state) is None


@pytest.mark.parametrize(
    ("decisions", "eventually_due", "entries"),
    [
        ([Decision.passed, Decision.minor_issues], True, good_entries),
        ([Decision.passed], True, good_entries),
        ([Decision.passed, Decision.passed], False, good_entries),
        ([Decision.passed, Decision.passed], True, warn_entries),
        ([Decision.passed, Decision.passed], True, limit_entries),
    ],
)
def test_borderline_trial_opens_a_trial_review(
    policy: Policy,
    decisions: list[Decision],
    eventually_due: bool,
    entries: Callable[[Policy], list[ScorecardEntry]],
) -> None:
    state = new_trial(policy)
    end = decide_mystery_orders(policy, state, decisions)
    effects = decide_trial(
        policy, state, entries(policy), end, eventually_due_satisfied=eventually_due
    )
    task = only(effects, OpenTaskEffect)
    assert task.kind == TaskKind.trial_review
    assert task.task_id == task_id_for(SELLER, "trial-review-0")
    assert end == TRIAL_END
    assert task.due_at == datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # Sunday: Mon, Tue, then Wed
    assert not [e for e in effects if isinstance(e, StatusEffect)]
    assert state.status == SellerStatus.trial
    assert state.trial_review_task == task.task_id
    assert trial_due_at(state) is None


def test_trial_with_an_open_blocker_does_not_graduate(policy: Policy) -> None:
    state = new_trial(policy)
    end = decide_mystery_orders(policy, state, [Decision.passed, Decision.passed])
    clean = state.model_copy(deep=True)
    state.blocker_fix_until = end + DAY  # a blocker found late, its fix window still open
    effects = decide_trial(policy, state, good_entries(policy), end, eventually_due_satisfied=True)
    assert only(effects, OpenTaskEffect).kind == TaskKind.trial_review
    assert state.status == SellerStatus.trial
    # The same seller without the blocker graduates.
    effects = decide_trial(policy, clean, good_entries(policy), end, eventually_due_satisfied=True)
    assert only(effects, StatusEffect).status == SellerStatus.active


def test_trial_review_graduate(policy: Policy) -> None:
    state, task_id, end = trial_in_review(policy, good_entries)
    effects = on_task_decided(policy, state, task_id, Decision.graduate, "ssm-1", "fine", end)
    moved = only(effects, StatusEffect)
    assert moved.status == SellerStatus.active
    assert moved.actor == "ssm-1"
    assert state.trial_review_task is None
    assert task_id not in state.open_tasks


def test_graduating_with_kpis_below_the_thresholds_warns_at_once(policy: Policy) -> None:
    state, task_id, end = trial_in_review(policy, warn_entries)
    effects = on_task_decided(policy, state, task_id, Decision.graduate, "ssm-1", "fine", end)
    graduated, warned = [e for e in effects if isinstance(e, StatusEffect)]
    assert (graduated.status, graduated.actor) == (SellerStatus.active, "ssm-1")
    assert (warned.status, warned.action, warned.actor) == (
        SellerStatus.warned,
        SellerActionKind.warn,
        "system",
    )
    assert warned.reason.kpi == "order_defect_rate"
    assert warned.improve_by == end + timedelta(days=30) == state.improve_by


def test_trial_review_extend_then_failed_extension_offboards_with_notice(policy: Policy) -> None:
    state, task_id, end = trial_in_review(policy)
    effects = on_task_decided(policy, state, task_id, Decision.extend, "ssm-1", "", end)
    assert only(effects, NoticeEffect).template == "trial_extended"
    assert state.trial_extended
    assert state.trial_ends_at == end + timedelta(days=30)
    assert trial_due_at(state) == state.trial_ends_at
    new_end = state.trial_ends_at

    effects = decide_trial(
        policy, state, limit_entries(policy), new_end, eventually_due_satisfied=True
    )
    notice = only(effects, NoticeEffect)
    assert notice.template == "offboarding_notice"
    assert not [e for e in effects if isinstance(e, StatusEffect | OpenTaskEffect)]
    assert state.notice_ends_at == new_end + timedelta(days=30)
    assert trial_due_at(state) is None
    assert state.status == SellerStatus.trial

    assert on_timers(policy, state, new_end + 29 * DAY) == []
    effects = on_timers(policy, state, new_end + 30 * DAY)
    moved = only(effects, StatusEffect)
    assert moved.status == SellerStatus.offboarded
    assert moved.action == SellerActionKind.offboard
    assert state.finished


def test_borderline_after_extension_opens_a_second_review(policy: Policy) -> None:
    state, task_id, end = trial_in_review(policy)
    on_task_decided(policy, state, task_id, Decision.extend, "ssm-1", "", end)
    effects = decide_trial(
        policy, state, warn_entries(policy), state.trial_ends_at, eventually_due_satisfied=True
    )
    task = only(effects, OpenTaskEffect)
    assert task.task_id == task_id_for(SELLER, "trial-review-1")
    assert task.task_id != task_id


def test_trial_review_offboard_gives_notice(policy: Policy) -> None:
    state, task_id, end = trial_in_review(policy)
    effects = on_task_decided(policy, state, task_id, Decision.offboard, "ssm-1", "", end)
    assert only(effects, NoticeEffect).template == "offboarding_notice"
    assert state.notice_ends_at == end + timedelta(days=30)
    assert state.status == SellerStatus.trial


def test_trial_review_sla_is_two_business_days(policy: Policy) -> None:
    state = new_trial(policy)
    friday = datetime(2026, 3, 13, 17, 0, tzinfo=UTC)
    task = only(
        decide_trial(policy, state, warn_entries(policy), friday, eventually_due_satisfied=True),
        OpenTaskEffect,
    )
    assert task.due_at == datetime(2026, 3, 17, 17, 0, tzinfo=UTC)  # Tuesday


def test_trial_sellers_are_not_laddered(policy: Policy) -> None:
    state = new_trial(policy)
    reasons = breach_reasons(limit_entries(policy))
    assert on_standing(policy, state, Standing.limit, reasons, NOW + DAY) == []
    assert state.status == SellerStatus.trial
    assert state.standing == Standing.limit
    assert state.improve_by is None
