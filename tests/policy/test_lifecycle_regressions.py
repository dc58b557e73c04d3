"""The lifecycle defects the state machine (test_lifecycle_machine.py) holds against, each as the
smallest example that showed it."""

from datetime import timedelta

import pytest

from sellerflow.policy import Refused
from sellerflow.policy.lifecycle import (
    decide_trial,
    next_wakeup,
    on_appeal,
    on_appeal_withdrawn,
    on_manual_action,
    on_standing,
    on_task_decided,
    on_timers,
    trial_due_at,
)
from sellerflow.policy.model import Policy
from sellerflow.policy.seller_checks import (
    check_appeal_withdrawal,
    check_manual_action,
    check_seller_decision,
)
from sellerflow.policy.seller_state import (
    CancelTasksEffect,
    MysteryOrder,
    NoticeEffect,
    OpenTaskEffect,
    SellerState,
    StatusEffect,
)
from sellerflow.vocabulary import Decision, SellerActionKind, SellerStatus, Standing, TaskKind
from tests.policy.sellers import (
    DAY,
    NOW,
    good_entries,
    new_trial,
    only,
    seller,
    suspended,
    trial_in_review,
    warn_entries,
)


def after_timers(policy: Policy, state: SellerState, now: object) -> None:
    """The progress property: once the timers ran at `now`, the next wake-up lies after it."""
    assert hasattr(now, "tzinfo")
    on_timers(policy, state, now)  # type: ignore[arg-type]
    wake = next_wakeup(state)
    assert wake is None or wake > now  # type: ignore[operator]


# --- 1. wake-ups in the past -----------------------------------------------------------------


def test_a_trial_seller_suspended_before_its_mystery_orders_does_not_wake_in_the_past(
    policy: Policy,
) -> None:
    state = new_trial(policy)
    on_manual_action(policy, state, SellerActionKind.suspend, "ops1", "fraud signals", NOW)
    past_orders = state.mystery_orders[-1].due_at + DAY
    after_timers(policy, state, past_orders)
    assert all(order.task_id is None for order in state.mystery_orders)


def test_an_appeal_under_review_past_the_appeal_deadline_does_not_wake_in_the_past(
    policy: Policy,
) -> None:
    state = suspended(policy)
    on_appeal(policy, state, "a1", NOW + DAY)
    after_timers(policy, state, NOW + 31 * DAY)
    assert state.notice_ends_at is None


def test_a_withdrawn_appeal_lets_the_appeal_window_run_again(policy: Policy) -> None:
    state = suspended(policy)
    review = only(on_appeal(policy, state, "a1", NOW + DAY), OpenTaskEffect)
    check_appeal_withdrawal(state, "a1")
    closed = only(on_appeal_withdrawn(state, "a1"), CancelTasksEffect)
    assert closed.task_ids == [review.task_id]
    assert state.appeal_task is None
    assert state.open_tasks == {}
    assert next_wakeup(state) == NOW + 30 * DAY  # the window, as it was before the appeal
    with pytest.raises(Refused):
        check_appeal_withdrawal(state, "a1")


def test_a_suspended_trial_seller_reinstated_goes_back_to_its_trial(policy: Policy) -> None:
    state = new_trial(policy)
    trial_end = state.trial_ends_at
    on_manual_action(policy, state, SellerActionKind.suspend, "ops1", "check", NOW + DAY)
    assert state.in_trial
    back = only(
        on_manual_action(policy, state, SellerActionKind.reinstate, "ops2", "ok", NOW + 11 * DAY),
        StatusEffect,
    )
    assert (back.status, back.capabilities) == (SellerStatus.trial, policy.trial.capabilities)
    # The trial clock stood still for the ten days of the suspension.
    assert state.trial_ends_at == trial_end + 10 * DAY
    assert trial_due_at(state) == state.trial_ends_at


def test_a_trial_review_waits_for_the_reinstatement_of_a_suspended_seller(
    policy: Policy,
) -> None:
    state, task_id, end = trial_in_review(policy)
    on_manual_action(policy, state, SellerActionKind.suspend, "ops1", "check", end)
    with pytest.raises(Refused) as refused:
        check_seller_decision(state, task_id, Decision.graduate)
    assert refused.value.code == "StatusConflict"
    check_seller_decision(state, task_id, Decision.offboard)


# --- 5. a decision applied on a state that moved on ------------------------------------------


def test_an_appeal_reinstatement_clears_the_offboarding_notice(policy: Policy) -> None:
    state = suspended(policy)
    task_id = only(on_appeal(policy, state, "a1", NOW + DAY), OpenTaskEffect).task_id
    state.notice_ends_at = NOW + 20 * DAY  # carried from a run of the rules before version 2
    on_task_decided(policy, state, task_id, Decision.reinstate, "ssm1", "plan ok", NOW + 2 * DAY)
    assert state.status == SellerStatus.active
    assert (state.notice_ends_at, state.appeal_deadline, state.improve_by) == (None, None, None)
    later = on_timers(policy, state, NOW + 21 * DAY)
    assert [e for e in later if isinstance(e, StatusEffect)] == []


def test_an_offboarding_notice_closes_the_appeal_it_supersedes(policy: Policy) -> None:
    state = suspended(policy)
    task_id = only(on_appeal(policy, state, "a1", NOW + DAY), OpenTaskEffect).task_id
    effects = on_manual_action(policy, state, SellerActionKind.offboard, "ops1", "x", NOW + DAY)
    assert only(effects, CancelTasksEffect).task_ids == [task_id]
    assert only(effects, NoticeEffect).template == "offboarding_notice"
    with pytest.raises(Refused) as refused:
        check_seller_decision(state, task_id, Decision.reinstate)
    assert refused.value.code == "TaskNotOpen"


def test_a_second_suspension_is_refused_once_the_first_applied(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    check_manual_action(state, SellerActionKind.suspend)
    on_manual_action(policy, state, SellerActionKind.suspend, "ops1", "x", NOW)
    with pytest.raises(Refused):
        check_manual_action(state, SellerActionKind.suspend)
    assert state.suspensions == 1


def test_a_second_offboarding_notice_neither_repeats_nor_postpones_the_first(
    policy: Policy,
) -> None:
    state = seller(SellerStatus.active)
    on_manual_action(policy, state, SellerActionKind.offboard, "ops1", "x", NOW)
    ends = state.notice_ends_at
    with pytest.raises(Refused):
        check_manual_action(state, SellerActionKind.offboard)
    check_manual_action(state, SellerActionKind.offboard, fraud=True)
    state.mystery_orders = [
        MysteryOrder(key=f"mystery-{i}", due_at=NOW + (i + 1) * 5 * DAY) for i in range(2)
    ]
    for order in state.mystery_orders:
        on_timers(policy, state, order.due_at)
        assert order.task_id is not None
        effects = on_task_decided(
            policy, state, order.task_id, Decision.blocker, "lab1", "", order.due_at
        )
    assert [e.template for e in effects if isinstance(e, NoticeEffect)] == ["mystery_order_finding"]
    assert state.notice_ends_at == ends


def test_an_offboarded_seller_leaves_no_task_open(policy: Policy) -> None:
    state = new_trial(policy)
    on_timers(policy, state, state.mystery_orders[0].due_at)
    assert state.open_tasks
    effects = on_manual_action(
        policy, state, SellerActionKind.offboard, "ops1", "stolen goods", NOW + DAY, fraud=True
    )
    assert only(effects, CancelTasksEffect).task_ids == [state.mystery_orders[0].task_id]
    assert state.open_tasks == {}
    assert state.task_due == {}
    assert next_wakeup(state) is None


# --- 8. the smaller ones ---------------------------------------------------------------------


def test_a_second_extension_is_refused(policy: Policy) -> None:
    state, task_id, end = trial_in_review(policy)
    on_task_decided(policy, state, task_id, Decision.extend, "ssm1", "more orders", end)
    second = only(
        decide_trial(
            policy, state, warn_entries(policy), state.trial_ends_at, eventually_due_satisfied=True
        ),
        OpenTaskEffect,
    )
    with pytest.raises(Refused) as refused:
        check_seller_decision(state, second.task_id, Decision.extend)
    assert refused.value.code == "InvalidDecision"
    check_seller_decision(state, second.task_id, Decision.graduate)


def test_a_warning_carries_its_date(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    warned = only(on_standing(policy, state, Standing.warn, [], NOW), StatusEffect)
    assert warned.improve_by == NOW + 30 * DAY


def test_reinstated_with_kpis_still_below_the_thresholds_is_warned(policy: Policy) -> None:
    state = suspended(policy, standing=Standing.limit)
    effects = on_manual_action(policy, state, SellerActionKind.reinstate, "ops1", "x", NOW)
    statuses = [e.status for e in effects if isinstance(e, StatusEffect)]
    assert statuses == [SellerStatus.active, SellerStatus.warned]
    assert state.improve_by == NOW + 30 * DAY


def test_the_trial_decision_takes_the_standing_of_its_own_snapshot(policy: Policy) -> None:
    state = new_trial(policy)
    on_standing(policy, state, Standing.warn, [], NOW)  # an evaluation during the trial
    state.mystery_orders = [
        o.model_copy(update={"outcome": Decision.passed, "task_id": "t"})
        for o in state.mystery_orders
    ]
    effects = decide_trial(
        policy, state, good_entries(policy), state.trial_ends_at, eventually_due_satisfied=True
    )
    assert [e.status for e in effects if isinstance(e, StatusEffect)] == [SellerStatus.active]
    assert state.standing == Standing.good


# --- found by the properties -----------------------------------------------------------------


def test_a_manual_warning_with_good_kpis_ends_with_its_period(policy: Policy) -> None:
    """ "The ladder always has a next step": a warning given by ops never ended."""
    state = seller(SellerStatus.active)
    on_manual_action(policy, state, SellerActionKind.warn, "ops1", "complaints", NOW)
    assert state.improve_by is not None
    moved = only(on_timers(policy, state, state.improve_by), StatusEffect)
    assert moved.status == SellerStatus.active


def test_a_limited_seller_recovering_is_not_left_warned_for_ever(policy: Policy) -> None:
    state = seller(SellerStatus.limited, standing=Standing.limit, improve_by=NOW + DAY)
    on_standing(policy, state, Standing.good, [], NOW)
    assert state.status == SellerStatus.warned
    assert next_wakeup(state) == NOW + timedelta(days=30)


def test_a_trial_decided_again_after_a_reinstatement_opens_a_new_review(policy: Policy) -> None:
    """ "A task is opened once": a trial review opened again reused the id of the first."""
    state, task_id, end = trial_in_review(policy)
    on_task_decided(policy, state, task_id, Decision.offboard, "ssm1", "no", end)
    on_manual_action(policy, state, SellerActionKind.suspend, "ops1", "x", end + DAY)
    on_manual_action(policy, state, SellerActionKind.reinstate, "ops2", "error", end + 2 * DAY)
    assert state.status == SellerStatus.trial
    assert state.notice_ends_at is None
    effects = decide_trial(
        policy, state, warn_entries(policy), end + 3 * DAY, eventually_due_satisfied=True
    )
    review = only(effects, OpenTaskEffect)
    assert review.kind == TaskKind.trial_review
    assert review.task_id != task_id
