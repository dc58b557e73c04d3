"""The sanction ladder: warned, limited, suspended, appeals, blockers and probation."""

from datetime import timedelta

import pytest

from sellerflow.policy import Refused
from sellerflow.policy.lifecycle import (
    breach_reasons,
    next_wakeup,
    on_appeal,
    on_standing,
    on_task_decided,
    on_timers,
)
from sellerflow.policy.model import Policy
from sellerflow.policy.seller_checks import check_appeal
from sellerflow.policy.seller_state import (
    MysteryOrder,
    NoticeEffect,
    OpenTaskEffect,
    SellerState,
    StatusEffect,
    capabilities_for,
    task_id_for,
)
from sellerflow.vocabulary import (
    Decision,
    NoticeDecision,
    SellerActionKind,
    SellerStatus,
    Standing,
    TaskKind,
)
from tests.policy.sellers import (
    DAY,
    NOW,
    SELLER,
    good_entries,
    limit_entries,
    new_trial,
    only,
    seller,
    suspended,
    warn_entries,
)

# --- the ladder --------------------------------------------------------------------------


def test_breach_reasons_record_kpi_value_threshold_window_evidence(policy: Policy) -> None:
    warn = breach_reasons(warn_entries(policy))
    assert [(r.kpi, r.value, r.threshold, r.window_days) for r in warn] == [
        ("order_defect_rate", 0.01, 0.01, 60)
    ]
    assert warn[0].evidence == ["1 of 100"]
    limit = breach_reasons(limit_entries(policy))
    assert [(r.kpi, r.threshold) for r in limit] == [("order_defect_rate", 0.02)]
    assert breach_reasons(good_entries(policy)) == []


def test_active_with_warn_standing_is_warned(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    reasons = breach_reasons(warn_entries(policy))
    moved = only(on_standing(policy, state, Standing.warn, reasons, NOW), StatusEffect)
    assert moved.status == SellerStatus.warned
    assert moved.action == SellerActionKind.warn
    assert moved.reason == reasons[0]
    assert state.improve_by == NOW + timedelta(days=30)
    assert next_wakeup(state) == NOW  # the low scorer's follow-up mystery order is due now


def test_active_with_limit_standing_climbs_only_one_step(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    moved = only(on_standing(policy, state, Standing.limit, [], NOW), StatusEffect)
    assert moved.status == SellerStatus.warned
    assert moved.reason.summary


def test_warned_with_limit_standing_is_limited(policy: Policy) -> None:
    state = seller(SellerStatus.warned, improve_by=NOW + 10 * DAY)
    moved = only(on_standing(policy, state, Standing.limit, [], NOW), StatusEffect)
    assert moved.status == SellerStatus.limited
    assert moved.capabilities == policy.limited
    assert state.improve_by == NOW + timedelta(days=30)


def test_still_bad_after_improvement_periods_climbs_to_suspended(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    on_standing(policy, state, Standing.warn, breach_reasons(warn_entries(policy)), NOW)
    first_end = state.improve_by
    assert first_end is not None
    early = on_timers(policy, state, first_end - timedelta(seconds=1))
    assert not [e for e in early if isinstance(e, StatusEffect)]

    moved = only(on_timers(policy, state, first_end), StatusEffect)
    assert moved.status == SellerStatus.limited
    assert moved.action == SellerActionKind.limit
    assert moved.capabilities == policy.limited
    assert state.improve_by == first_end + timedelta(days=30)

    second_end = state.improve_by
    moved = only(on_timers(policy, state, second_end), StatusEffect)
    assert moved.status == SellerStatus.suspended
    assert moved.action == SellerActionKind.suspend
    assert moved.capabilities.listing_cap == 0
    assert moved.capabilities.daily_order_cap == 0
    assert state.suspended_at == second_end
    assert state.suspensions == 1
    assert state.improve_by is None
    assert state.appeal_deadline == second_end + timedelta(days=30)


def test_a_warning_ends_with_its_improvement_period_when_every_kpi_is_good(
    policy: Policy,
) -> None:
    state = seller(SellerStatus.warned, improve_by=NOW, standing=Standing.good)
    moved = only(on_timers(policy, state, NOW), StatusEffect)
    assert (moved.status, moved.action) == (SellerStatus.active, None)
    assert state.improve_by is None
    assert next_wakeup(state) is None


def test_good_standing_walks_back_one_step_at_a_time(policy: Policy) -> None:
    state = seller(SellerStatus.limited, standing=Standing.limit, improve_by=NOW + DAY)
    moved = only(on_standing(policy, state, Standing.good, [], NOW), StatusEffect)
    assert moved.status == SellerStatus.warned
    assert moved.action is None
    assert moved.capabilities.listing_cap is None
    # The last step waits for the KPIs to stay good through an improvement period.
    assert state.improve_by == NOW + timedelta(days=30)
    assert on_standing(policy, state, Standing.good, [], NOW + DAY) == []
    assert state.status == SellerStatus.warned
    moved = only(on_timers(policy, state, NOW + timedelta(days=30)), StatusEffect)
    assert moved.status == SellerStatus.active
    assert state.improve_by is None


def test_limited_seller_improving_to_warn_stays_limited(policy: Policy) -> None:
    state = seller(SellerStatus.limited, standing=Standing.limit, improve_by=NOW + DAY)
    assert on_standing(policy, state, Standing.warn, [], NOW) == []
    assert state.status == SellerStatus.limited


@pytest.mark.parametrize("status", [SellerStatus.suspended, SellerStatus.offboarded])
def test_suspended_and_offboarded_sellers_ignore_standing(
    policy: Policy, status: SellerStatus
) -> None:
    state = seller(status)
    assert on_standing(policy, state, Standing.good, [], NOW) == []
    assert on_standing(policy, state, Standing.limit, [], NOW) == []
    assert state.status == status


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (SellerStatus.active, (None, None, False)),
        (SellerStatus.warned, (None, None, False)),
        (SellerStatus.trial, (50, 20, True)),
        (SellerStatus.limited, (10, 5, True)),
        (SellerStatus.suspended, (0, 0, True)),
        (SellerStatus.offboarded, (0, 0, True)),
    ],
)
def test_capabilities_per_status(
    policy: Policy, status: SellerStatus, expected: tuple[int | None, int | None, bool]
) -> None:
    caps = capabilities_for(policy, status)
    assert (caps.listing_cap, caps.daily_order_cap, caps.payouts_deferred) == expected


# --- appeals -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [SellerStatus.trial, SellerStatus.active, SellerStatus.warned])
def test_a_seller_under_no_restriction_has_nothing_to_appeal(status: SellerStatus) -> None:
    with pytest.raises(Refused, match="only a limit, a suspension or an offboarding notice"):
        check_appeal(seller(status), NOW)


def test_under_the_rules_of_version_2_only_a_suspension_may_be_appealed() -> None:
    limited = seller(SellerStatus.limited, rules=2, appeal_open_until=NOW + DAY)
    with pytest.raises(Refused, match="only a suspended seller can appeal") as refused:
        check_appeal(limited, NOW)
    assert refused.value.code == "StatusConflict"


def test_appeal_opens_an_appeal_review(policy: Policy) -> None:
    state = suspended(policy)
    check_appeal(state, NOW + DAY)
    effects = on_appeal(policy, state, "appeal-1", NOW + DAY)
    task = only(effects, OpenTaskEffect)
    assert task.kind == TaskKind.appeal_review
    assert task.task_id == task_id_for(SELLER, "appeal-appeal-1")
    assert task.due_at == NOW + 3 * DAY  # Tuesday + 2 business days
    assert state.appeal_task == task.task_id
    with pytest.raises(Refused, match="already under review"):
        check_appeal(state, NOW + DAY)


def test_appeal_under_review_holds_the_appeal_deadline(policy: Policy) -> None:
    state = suspended(policy)
    on_appeal(policy, state, "appeal-1", NOW + DAY)
    effects = on_timers(policy, state, NOW + 30 * DAY)
    assert not [e for e in effects if isinstance(e, NoticeEffect)]
    assert state.notice_ends_at is None


def test_no_appeal_within_the_window_gives_notice(policy: Policy) -> None:
    state = suspended(policy)
    assert on_timers(policy, state, NOW + 29 * DAY) == []
    effects = on_timers(policy, state, NOW + 30 * DAY)
    assert only(effects, NoticeEffect).template == "offboarding_notice"
    assert state.notice_ends_at == NOW + 60 * DAY
    # The notice is a restriction of its own: it may be appealed, within its window.
    check_appeal(state, NOW + 59 * DAY, NoticeDecision.offboard_notice)
    with pytest.raises(Refused, match="not the restriction in force"):
        check_appeal(state, NOW + 31 * DAY, NoticeDecision.suspend)
    moved = only(on_timers(policy, state, NOW + 60 * DAY), StatusEffect)
    assert moved.status == SellerStatus.offboarded


def test_reinstate_puts_the_seller_on_probation_with_a_follow_up_order(policy: Policy) -> None:
    state = suspended(policy)
    task_id = only(on_appeal(policy, state, "appeal-1", NOW + DAY), OpenTaskEffect).task_id
    decided_at = NOW + 2 * DAY
    orders_before = len(state.mystery_orders)
    effects = on_task_decided(
        policy, state, task_id, Decision.reinstate, "ssm-1", "plan ok", decided_at
    )
    moved = only(effects, StatusEffect)
    assert moved.status == SellerStatus.active
    assert moved.action == SellerActionKind.reinstate
    assert moved.actor == "ssm-1"
    assert state.probation_until == decided_at + timedelta(days=30)
    assert state.appeal_deadline is None
    assert state.appeal_task is None
    assert len(state.mystery_orders) == orders_before + 1
    follow_up = state.mystery_orders[-1]
    assert follow_up.due_at == decided_at
    opened = only(on_timers(policy, state, decided_at), OpenTaskEffect)
    assert opened.kind == TaskKind.mystery_order
    assert opened.task_id == follow_up.task_id


def test_uphold_gives_notice_then_offboards_at_its_end(policy: Policy) -> None:
    state = suspended(policy)
    task_id = only(on_appeal(policy, state, "appeal-1", NOW + DAY), OpenTaskEffect).task_id
    decided_at = NOW + 2 * DAY
    effects = on_task_decided(policy, state, task_id, Decision.uphold, "ssm-1", "no", decided_at)
    assert only(effects, NoticeEffect).template == "offboarding_notice"
    assert not [e for e in effects if isinstance(e, StatusEffect)]
    assert state.status == SellerStatus.suspended
    notice_end = decided_at + timedelta(days=30)
    assert state.notice_ends_at == notice_end
    moved = only(on_timers(policy, state, notice_end), StatusEffect)
    assert moved.status == SellerStatus.offboarded
    assert state.finished
    assert on_timers(policy, state, notice_end + 100 * DAY) == []


def test_uphold_notice_is_not_repeated_or_postponed_by_the_appeal_deadline(
    policy: Policy,
) -> None:
    state = suspended(policy)
    task_id = only(on_appeal(policy, state, "appeal-1", NOW + DAY), OpenTaskEffect).task_id
    decided_at = NOW + 2 * DAY
    on_task_decided(policy, state, task_id, Decision.uphold, "ssm-1", "no", decided_at)
    notice_end = state.notice_ends_at
    # The original appeal window (30 days after suspension) ends before the notice does.
    effects = on_timers(policy, state, NOW + 30 * DAY)
    assert [e for e in effects if isinstance(e, NoticeEffect)] == []
    assert state.notice_ends_at == notice_end


# --- mystery-order blockers and probation ------------------------------------------------


def active_with_trial_orders(policy: Policy) -> SellerState:
    """An active seller with a new trial's mystery orders scheduled, none opened yet."""
    state = seller(SellerStatus.active)
    state.mystery_orders = new_trial(policy).mystery_orders
    return state


def open_order(policy: Policy, state: SellerState, order: MysteryOrder) -> str:
    """The order opened at its due time; returns its task id."""
    on_timers(policy, state, order.due_at)
    assert order.task_id is not None
    return order.task_id


def test_first_blocker_opens_a_fix_window_and_a_follow_up(policy: Policy) -> None:
    state = active_with_trial_orders(policy)
    order = state.mystery_orders[0]
    task_id = open_order(policy, state, order)
    effects = on_task_decided(
        policy, state, task_id, Decision.blocker, "lab-1", "fake parts", order.due_at
    )
    assert only(effects, NoticeEffect).template == "mystery_order_finding"
    assert order.outcome == Decision.blocker
    assert state.blockers == 1
    assert state.blocker_fix_until == order.due_at + timedelta(days=15)
    assert state.mystery_orders[-1].due_at == state.blocker_fix_until
    assert state.notice_ends_at is None


def test_repeated_blocker_gives_offboarding_notice(policy: Policy) -> None:
    state = active_with_trial_orders(policy)
    for order in list(state.mystery_orders):
        task_id = open_order(policy, state, order)
        effects = on_task_decided(
            policy, state, task_id, Decision.blocker, "lab-1", "fake parts", order.due_at
        )
    templates = [e.template for e in effects if isinstance(e, NoticeEffect)]
    assert templates == ["mystery_order_finding", "offboarding_notice"]
    assert state.blockers == 2
    assert state.notice_ends_at == state.mystery_orders[1].due_at + timedelta(days=30)


def test_minor_issues_are_no_blocker(policy: Policy) -> None:
    state = active_with_trial_orders(policy)
    order = state.mystery_orders[0]
    task_id = open_order(policy, state, order)
    on_task_decided(policy, state, task_id, Decision.minor_issues, "lab", "", order.due_at)
    assert state.blockers == 0
    assert state.blocker_fix_until is None
    assert len(state.mystery_orders) == 2


def test_limit_on_probation_suspends_and_gives_notice(policy: Policy) -> None:
    state = suspended(policy, standing=Standing.good)
    task_id = only(on_appeal(policy, state, "a", NOW + DAY), OpenTaskEffect).task_id
    on_task_decided(policy, state, task_id, Decision.reinstate, "ssm-1", "", NOW + 2 * DAY)
    assert state.probation_until is not None
    effects = on_standing(policy, state, Standing.limit, [], NOW + 10 * DAY)
    assert only(effects, StatusEffect).status == SellerStatus.suspended
    notice = only(effects, NoticeEffect)
    assert notice.template == "offboarding_notice"
    assert state.suspensions == 2
    assert state.notice_ends_at == NOW + 40 * DAY


def test_warn_on_probation_is_a_warning_only(policy: Policy) -> None:
    state = seller(SellerStatus.active, probation_until=NOW + 10 * DAY, suspensions=1)
    effects = on_standing(policy, state, Standing.warn, [], NOW)
    assert only(effects, StatusEffect).status == SellerStatus.warned
    assert state.notice_ends_at is None


def test_probation_ends(policy: Policy) -> None:
    state = seller(SellerStatus.active, probation_until=NOW + DAY)
    on_timers(policy, state, NOW + DAY)
    assert state.probation_until is None
