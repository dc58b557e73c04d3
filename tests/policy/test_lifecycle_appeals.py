"""Appeals against any restriction (rules 3): a limit and an offboarding notice as well as a
suspension, each once within its appeal window, closed when the restriction ends or gives way to
another; an upheld limit or notice stands, an upheld suspension ends with a notice that takes no
second appeal. Rules 4: a limit or a notice under appeal waits for the review."""

import pytest

from sellerflow.policy import Refused, lifecycle
from sellerflow.policy.lifecycle import (
    on_appeal,
    on_manual_action,
    on_standing,
    on_task_decided,
    on_timers,
)
from sellerflow.policy.model import Policy
from sellerflow.policy.notices import of_notice, of_status_change
from sellerflow.policy.seller_checks import check_appeal
from sellerflow.policy.seller_state import (
    CancelTasksEffect,
    NoticeEffect,
    OpenTaskEffect,
    SellerState,
    StatusEffect,
)
from sellerflow.vocabulary import Decision, NoticeDecision, SellerActionKind, SellerStatus, Standing
from tests.policy.sellers import DAY, NOW, only, seller, suspended, trial_in_review


def limited(policy: Policy) -> tuple[SellerState, StatusEffect]:
    """An active seller limited by ops at NOW, with the limit's status change."""
    state = seller(SellerStatus.warned, standing=Standing.warn)
    effects = on_manual_action(policy, state, SellerActionKind.limit, "ops-1", "copies", NOW)
    return state, only(effects, StatusEffect)


def appeal(policy: Policy, state: SellerState, number: int, days: int) -> str:
    """File appeal `number` on day `days` (checked first, as the workflow does): its task."""
    check_appeal(state, NOW + days * DAY)
    effects = on_appeal(policy, state, f"appeal-{number}", NOW + days * DAY)
    return only(effects, OpenTaskEffect).task_id


def test_a_limit_may_be_appealed_within_its_window_and_its_statement_says_until_when(
    policy: Policy,
) -> None:
    state, moved = limited(policy)
    statement = of_status_change(moved, NOW)
    assert statement is not None
    assert statement.redress.appeal_by == NOW + 30 * DAY
    check_appeal(state, NOW + 29 * DAY, NoticeDecision.limit)
    with pytest.raises(Refused, match="not the restriction in force"):
        check_appeal(state, NOW + DAY, NoticeDecision.suspend)
    with pytest.raises(Refused, match="appeal window of this limit has ended"):
        check_appeal(state, NOW + 30 * DAY)


def test_an_upheld_limit_stands_and_takes_no_second_appeal(policy: Policy) -> None:
    state, _ = limited(policy)
    task_id = appeal(policy, state, 1, 2)
    assert state.appeal_against == NoticeDecision.limit
    effects = on_task_decided(policy, state, task_id, Decision.uphold, "ops-2", "no", NOW + 3 * DAY)
    assert effects == []
    assert state.status == SellerStatus.limited
    assert state.improve_by is not None, "the limit runs its course"
    with pytest.raises(Refused, match="appealed already"):
        check_appeal(state, NOW + 4 * DAY)


def test_a_limit_lifted_on_appeal_puts_the_seller_back_to_business_on_probation(
    policy: Policy,
) -> None:
    state, _ = limited(policy)
    state.standing = Standing.good
    task_id = appeal(policy, state, 1, 2)
    effects = on_task_decided(policy, state, task_id, Decision.reinstate, "ops-2", "", NOW)
    assert only(effects, StatusEffect).status == SellerStatus.active
    assert state.probation_until is not None
    assert (state.appeal_open_until, state.appealed, state.appeal_task) == (None, False, None)


def test_a_limit_under_appeal_waits_for_the_review_then_runs_its_course(policy: Policy) -> None:
    """Rules 4: filed on the last day of the improvement period, the appeal is decided by a
    person; the period's end waits for the decision, and an upheld limit then steps down."""
    state, _ = limited(policy)
    task_id = appeal(policy, state, 1, 29)
    end = state.improve_by
    assert end is not None
    assert lifecycle.next_wakeup(state) != end
    effects = on_timers(policy, state, end + 2 * DAY)  # the KPIs are still at `warn`
    assert [e for e in effects if isinstance(e, StatusEffect | CancelTasksEffect)] == []
    assert (state.appeal_task, state.status) == (task_id, SellerStatus.limited)
    decided = end + 3 * DAY
    assert on_task_decided(policy, state, task_id, Decision.uphold, "ops-2", "", decided) == []
    assert lifecycle.next_wakeup(state) == end  # past: the loop runs it at once
    assert only(on_timers(policy, state, decided), StatusEffect).status == SellerStatus.suspended
    check_appeal(state, decided, NoticeDecision.suspend)


def test_under_rules_3_the_end_of_the_period_closed_a_limit_under_appeal(policy: Policy) -> None:
    """Replays of runs under rules 3 keep their behaviour: the suspension replaced the limit."""
    state, _ = limited(policy)
    state.rules = 3
    task_id = appeal(policy, state, 1, 2)
    assert state.improve_by is not None
    effects = on_timers(policy, state, state.improve_by)
    assert only(effects, StatusEffect).status == SellerStatus.suspended
    assert only(effects, CancelTasksEffect).task_ids == [task_id]
    assert (state.appeal_task, state.appeal_against) == (None, None)


def test_an_appeal_against_a_limit_closes_when_a_suspension_replaces_the_limit(
    policy: Policy,
) -> None:
    state, _ = limited(policy)
    task_id = appeal(policy, state, 1, 2)
    later = NOW + 3 * DAY
    effects = on_manual_action(policy, state, SellerActionKind.suspend, "ops-1", "fakes", later)
    assert only(effects, StatusEffect).status == SellerStatus.suspended
    assert only(effects, CancelTasksEffect).task_ids == [task_id]
    assert (state.appeal_task, state.appeal_against) == (None, None)
    check_appeal(state, later, NoticeDecision.suspend)


def test_an_appeal_against_a_limit_closes_when_the_kpis_lift_it(policy: Policy) -> None:
    state, _ = limited(policy)
    task_id = appeal(policy, state, 1, 2)
    effects = on_standing(policy, state, Standing.good, [], NOW + 3 * DAY)
    assert only(effects, StatusEffect).status == SellerStatus.warned
    assert only(effects, CancelTasksEffect).task_ids == [task_id]


def test_an_offboarding_notice_may_be_appealed_once_and_an_upheld_one_stands(
    policy: Policy,
) -> None:
    state = seller(SellerStatus.active)
    effects = on_manual_action(policy, state, SellerActionKind.offboard, "ops-1", "fakes", NOW)
    notice = only(effects, NoticeEffect)
    statement = of_notice(notice.template, notice, NOW)
    assert statement is not None
    assert statement.redress.appeal_by == NOW + 30 * DAY
    task_id = appeal(policy, state, 1, 5)
    assert state.appeal_against == NoticeDecision.offboard_notice
    assert on_task_decided(policy, state, task_id, Decision.uphold, "ops-2", "", NOW) == []
    assert state.notice_ends_at == NOW + 30 * DAY
    with pytest.raises(Refused, match="offboarding notice was appealed already"):
        check_appeal(state, NOW + 6 * DAY)
    moved = only(on_timers(policy, state, NOW + 30 * DAY), StatusEffect)
    assert moved.status == SellerStatus.offboarded


def test_an_offboarding_notice_under_appeal_ends_only_after_the_review(policy: Policy) -> None:
    """Appealed on its last day, the notice does not end the relationship before a person has
    decided: upheld, the offboarding follows at once; withdrawn, the seller stays."""
    outcomes = ((Decision.uphold, SellerStatus.offboarded), (Decision.reinstate, None))
    for decision, status in outcomes:
        state = seller(SellerStatus.active)
        on_manual_action(policy, state, SellerActionKind.offboard, "ops-1", "fakes", NOW)
        task_id = appeal(policy, state, 1, 29)
        late = on_timers(policy, state, NOW + 31 * DAY)
        assert [e for e in late if isinstance(e, StatusEffect | CancelTasksEffect)] == []
        assert state.appeal_task == task_id
        effects = on_task_decided(policy, state, task_id, decision, "ops-2", "", NOW + 32 * DAY)
        effects += on_timers(policy, state, NOW + 32 * DAY)
        moves = [e.status for e in effects if isinstance(e, StatusEffect)]
        if status is None:
            assert moves == [SellerStatus.active]
            assert state.notice_ends_at is None
        else:
            assert moves == [status]


def test_an_offboarding_notice_withdrawn_on_appeal(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    on_manual_action(policy, state, SellerActionKind.offboard, "ops-1", "fakes", NOW)
    task_id = appeal(policy, state, 1, 5)
    effects = on_task_decided(policy, state, task_id, Decision.reinstate, "ops-2", "", NOW)
    assert only(effects, StatusEffect).action == SellerActionKind.reinstate
    assert state.notice_ends_at is None


def test_an_upheld_suspension_ends_with_a_notice_that_takes_no_second_appeal(
    policy: Policy,
) -> None:
    state = suspended(policy)
    task_id = appeal(policy, state, 1, 2)
    effects = on_task_decided(policy, state, task_id, Decision.uphold, "ops-2", "", NOW + 3 * DAY)
    notice = only(effects, NoticeEffect)
    statement = of_notice(notice.template, notice, NOW + 3 * DAY)
    assert statement is not None
    assert not statement.redress.appeal, "the suspension's appeal was decided already"
    with pytest.raises(Refused, match="appealed already"):
        check_appeal(state, NOW + 4 * DAY)


def test_a_trial_sellers_notice_withdrawn_on_appeal_sends_the_trial_back_to_review(
    policy: Policy,
) -> None:
    state, review, end = trial_in_review(policy)
    notice = only(
        on_task_decided(policy, state, review, Decision.offboard, "ssm-1", "weak", end),
        NoticeEffect,
    )
    assert (notice.template, state.status) == ("offboarding_notice", SellerStatus.trial)
    task_id = appeal(policy, state, 1, (end - NOW).days + 1)
    effects = on_task_decided(policy, state, task_id, Decision.reinstate, "ops-2", "", end)
    assert not [e for e in effects if isinstance(e, StatusEffect)], "still in its trial"
    assert (state.status, state.notice_ends_at) == (SellerStatus.trial, None)
    assert lifecycle.trial_due_at(state) == state.trial_ends_at  # decided again, at once


def test_a_notice_given_for_failing_on_probation_names_who_suspended(policy: Policy) -> None:
    state = seller(SellerStatus.active, suspensions=1, probation_until=NOW + 10 * DAY)
    effects = on_manual_action(policy, state, SellerActionKind.suspend, "ops-1", "again", NOW)
    assert only(effects, NoticeEffect).actor == "ops-1"
