"""Documents on file renewed for as long as a seller sells (rules 5): asked for before they stop
being valid, reminded, a limit with its statement when they lapse, lifted when a reviewer accepts
the new file; a file under review holds the lapse."""

from datetime import UTC, date, datetime, timedelta

import pytest

from sellerflow.policy import Refused, renewals
from sellerflow.policy.lifecycle import (
    decide_trial,
    on_manual_action,
    on_renewal_submitted,
    on_standing,
    on_task_decided,
    on_timers,
)
from sellerflow.policy.model import Policy
from sellerflow.policy.notices import GROUNDS, of_status_change
from sellerflow.policy.seller_checks import check_manual_action, check_renewal
from sellerflow.policy.seller_state import (
    NoticeEffect,
    OpenTaskEffect,
    RenewalEffect,
    SellerState,
    StatusEffect,
)
from sellerflow.vocabulary import (
    Decision,
    RenewalStatus,
    SellerActionKind,
    SellerStatus,
    Standing,
    TaskKind,
)
from tests.policy.sellers import DAY, NOW, decide_mystery_orders, good_entries, new_trial, only
from tests.policy.sellers import seller as seller_in

ID = "legal_representative_id"


def active_with_id(policy: Policy, valid_days: int = 40) -> SellerState:
    state = seller_in(SellerStatus.active)
    renewals.track(policy, state, [(ID, NOW + valid_days * DAY)])
    return state


def templates(effects: list[object]) -> list[str]:
    return [e.template for e in effects if isinstance(e, NoticeEffect)]


def lapse(policy: Policy, state: SellerState, at: datetime) -> list[object]:
    effects: list[object] = []
    effects += on_timers(policy, state, at - 30 * DAY)
    effects += on_timers(policy, state, at)
    return effects


def test_valid_until_follows_the_expiry_date_or_the_issue_date_and_validity(
    policy: Policy,
) -> None:
    rules = policy.renewals
    until = renewals.valid_until(rules, ID, issued_on=None, expires_on=date(2027, 1, 31))
    assert until == datetime(2027, 2, 1, tzinfo=UTC)  # valid through its expiry day
    extract = "company_registration_extract"
    until = renewals.valid_until(rules, extract, issued_on=date(2026, 1, 1), expires_on=None)
    assert until == datetime(2027, 1, 1, tzinfo=UTC)  # 365 days after its issue
    assert (
        renewals.valid_until(rules, "bank_account_proof", issued_on=None, expires_on=None) is None
    )


def test_asked_then_reminded_then_limited_with_a_statement(policy: Policy) -> None:
    state = active_with_id(policy)
    assert on_timers(policy, state, NOW + 9 * DAY) == []
    asked = on_timers(policy, state, NOW + 10 * DAY)  # 30 days before it stops being valid
    assert templates(asked) == ["renewal_requested"]
    assert only(asked, RenewalEffect).status == RenewalStatus.requested
    assert templates(on_timers(policy, state, NOW + 33 * DAY)) == ["renewal_reminder"]
    effects = on_timers(policy, state, NOW + 40 * DAY)
    assert only(effects, RenewalEffect).status == RenewalStatus.lapsed
    limit = only(effects, StatusEffect)
    assert (limit.status, limit.action) == (SellerStatus.limited, SellerActionKind.limit)
    statement = of_status_change(limit, NOW + 40 * DAY)
    assert statement is not None
    assert statement.ground.text == GROUNDS["documents"]
    assert statement.redress.appeal  # a limit may be appealed
    assert "legal representative id" in statement.facts[0].summary
    assert state.limited_for_documents


def test_recovered_kpis_do_not_lift_the_limit_nor_does_ops(policy: Policy) -> None:
    state = active_with_id(policy)
    lapse(policy, state, NOW + 40 * DAY)
    on_standing(policy, state, Standing.warn, [], NOW + 41 * DAY)
    assert on_standing(policy, state, Standing.good, [], NOW + 42 * DAY) == []
    assert state.status == SellerStatus.limited
    with pytest.raises(Refused, match="renewed"):
        check_manual_action(state, SellerActionKind.reinstate)
    # The improvement period ends: still held, and the ladder looks again later.
    effects = on_timers(policy, state, NOW + 71 * DAY)
    assert not [e for e in effects if isinstance(e, StatusEffect)]
    assert state.status == SellerStatus.limited
    assert state.improve_by is not None


def test_accepted_renewal_lifts_the_limit_and_is_followed_from_its_dates(policy: Policy) -> None:
    state = active_with_id(policy)
    lapse(policy, state, NOW + 40 * DAY)
    at = NOW + 45 * DAY
    check_renewal(state, ID, at + 700 * DAY, at)
    task = only(
        on_renewal_submitted(policy, state, ID, "doc-2", at + 700 * DAY, at), OpenTaskEffect
    )
    assert task.kind == TaskKind.document_review
    with pytest.raises(Refused, match="already under review"):
        check_renewal(state, ID, at + 700 * DAY, at)
    effects = on_task_decided(policy, state, task.task_id, Decision.approve, "rev-1", "", at)
    assert only(effects, RenewalEffect).status == RenewalStatus.renewed
    assert only(effects, StatusEffect).status == SellerStatus.active
    assert state.status == SellerStatus.active
    assert not state.limited_for_documents
    [renewal] = state.renewals
    assert (renewal.round, renewal.valid_until, renewal.lapsed) == (1, at + 700 * DAY, False)
    assert renewal.ask_at == at + 670 * DAY


def test_renewed_with_kpis_still_low_goes_to_warned_with_a_period(policy: Policy) -> None:
    state = active_with_id(policy)
    lapse(policy, state, NOW + 40 * DAY)
    on_standing(policy, state, Standing.warn, [], NOW + 41 * DAY)
    at = NOW + 45 * DAY
    task = only(
        on_renewal_submitted(policy, state, ID, "doc-2", at + 400 * DAY, at), OpenTaskEffect
    )
    on_task_decided(policy, state, task.task_id, Decision.approve, "rev-1", "", at)
    assert state.status == SellerStatus.warned
    assert state.improve_by == at + 30 * DAY


def test_a_file_under_review_holds_the_lapse_and_a_refusal_releases_it(policy: Policy) -> None:
    state = active_with_id(policy)
    on_timers(policy, state, NOW + 10 * DAY)
    at = NOW + 38 * DAY
    task = only(
        on_renewal_submitted(policy, state, ID, "doc-2", at + 400 * DAY, at), OpenTaskEffect
    )
    assert on_timers(policy, state, NOW + 41 * DAY) == []  # the reviewer is late: no lapse
    assert state.status == SellerStatus.active
    refused = on_task_decided(
        policy, state, task.task_id, Decision.reject, "rev-1", "unreadable", NOW + 42 * DAY
    )
    assert templates(refused) == ["renewal_refused"]
    assert state.status == SellerStatus.active
    effects = on_timers(policy, state, NOW + 42 * DAY)  # the old date has passed: at once
    assert only(effects, StatusEffect).status == SellerStatus.limited


def test_a_lapse_while_suspended_is_told_and_holds_the_seller_once_reinstated(
    policy: Policy,
) -> None:
    state = active_with_id(policy)
    state.status = SellerStatus.suspended
    effects = lapse(policy, state, NOW + 40 * DAY)
    assert "renewal_lapsed" in templates(effects)
    assert not [e for e in effects if isinstance(e, StatusEffect)]
    effects = on_manual_action(
        policy, state, SellerActionKind.reinstate, "ops-1", "fixed", NOW + 41 * DAY
    )
    moves = [e.status for e in effects if isinstance(e, StatusEffect)]
    assert moves == [SellerStatus.active, SellerStatus.limited]


def test_a_trial_with_a_lapsed_document_goes_to_a_person(policy: Policy) -> None:
    state = new_trial(policy)
    renewals.track(policy, state, [(ID, NOW + 20 * DAY)])
    end = decide_mystery_orders(policy, state, [Decision.passed, Decision.passed])
    on_timers(policy, state, NOW + 20 * DAY)
    assert state.status == SellerStatus.trial  # a trial seller's caps stay as they are
    effects = decide_trial(policy, state, good_entries(policy), end, eventually_due_satisfied=True)
    review = only(effects, OpenTaskEffect)
    assert review.kind == TaskKind.trial_review
    assert "documents no longer valid: 1" in review.note


def test_no_renewal_is_taken_before_it_is_asked_or_after_the_seller_left(policy: Policy) -> None:
    state = active_with_id(policy)
    with pytest.raises(Refused, match="not due for renewal"):
        check_renewal(state, ID, NOW + 400 * DAY, NOW)
    with pytest.raises(Refused, match="no insurance_certificate"):
        check_renewal(state, "insurance_certificate", NOW + 400 * DAY, NOW)
    on_timers(policy, state, NOW + 10 * DAY)
    with pytest.raises(Refused, match="not valid any more"):
        check_renewal(state, ID, NOW + 10 * DAY, NOW + 10 * DAY)
    assert timedelta(0) < state.renewals[0].valid_until - state.renewals[0].ask_at


def test_an_appeal_against_a_document_limit_cannot_reinstate_while_it_lapsed(
    policy: Policy,
) -> None:
    """Reinstating would be undone by the hold at once (a loop of reinstatements and limits,
    probations and mystery orders): the reviewer upholds, or accepts the new file."""
    from sellerflow.policy.lifecycle import on_appeal
    from sellerflow.policy.seller_checks import check_appeal, check_seller_decision

    state = active_with_id(policy)
    lapse(policy, state, NOW + 40 * DAY)
    check_appeal(state, NOW + 41 * DAY)
    task = only(on_appeal(policy, state, "appeal-1", NOW + 41 * DAY), OpenTaskEffect)
    with pytest.raises(Refused, match="renewed"):
        check_seller_decision(state, task.task_id, Decision.reinstate)
    check_seller_decision(state, task.task_id, Decision.uphold)


def test_a_kpi_limit_held_by_a_lapse_is_lifted_by_the_renewal(policy: Policy) -> None:
    state = active_with_id(policy)
    state.status, state.standing = SellerStatus.limited, Standing.limit
    state.improve_by = NOW + 60 * DAY
    lapse(policy, state, NOW + 40 * DAY)
    assert not state.limited_for_documents  # the limit is the KPIs'
    on_standing(policy, state, Standing.good, [], NOW + 41 * DAY)
    assert state.status == SellerStatus.limited
    assert state.limited_for_documents  # now only the document holds it
    at = NOW + 42 * DAY
    task = only(
        on_renewal_submitted(policy, state, ID, "doc-2", at + 400 * DAY, at), OpenTaskEffect
    )
    on_task_decided(policy, state, task.task_id, Decision.approve, "rev-1", "", at)
    assert state.status == SellerStatus.active


def test_a_document_limit_is_no_rung_of_the_kpi_ladder(policy: Policy) -> None:
    """KPIs at warn under a limit for a document: its period's end does not suspend, and its
    statement gives no end date (the renewal ends it)."""
    state = active_with_id(policy)
    effects = lapse(policy, state, NOW + 40 * DAY)
    statement = of_status_change(only(effects, StatusEffect), NOW + 40 * DAY)
    assert statement is not None
    assert statement.ends_at is None
    on_standing(policy, state, Standing.warn, [], NOW + 41 * DAY)
    assert state.improve_by is not None
    effects = on_timers(policy, state, state.improve_by)
    assert not [e for e in effects if isinstance(e, StatusEffect)]
    assert state.status == SellerStatus.limited


def test_offboarding_refuses_the_file_under_review(policy: Policy) -> None:
    state = active_with_id(policy)
    on_timers(policy, state, NOW + 10 * DAY)
    at = NOW + 12 * DAY
    on_renewal_submitted(policy, state, ID, "doc-2", at + 400 * DAY, at)
    effects = on_manual_action(
        policy, state, SellerActionKind.offboard, "ops-1", "fraud", at, fraud=True
    )
    record = only(effects, RenewalEffect)
    assert (record.status, record.document_id) == (RenewalStatus.requested, "doc-2")
    assert state.renewals[0].review_task is None


def test_a_document_accepted_later_is_followed_and_a_far_date_is_not(policy: Policy) -> None:
    state = active_with_id(policy)
    until = renewals.valid_until(
        policy.renewals, "insurance_certificate", issued_on=None, expires_on=date(9999, 12, 30)
    )
    assert until is None  # no timer of centuries, no overflow
    renewals.track(
        policy, state, [(ID, NOW + 900 * DAY), ("insurance_certificate", NOW + 99 * DAY)]
    )
    assert [(r.kind, r.valid_until) for r in state.renewals] == [
        (ID, NOW + 40 * DAY),  # followed already: its dates stay
        ("insurance_certificate", NOW + 99 * DAY),
    ]


def test_the_renewed_record_carries_the_new_validity(policy: Policy) -> None:
    state = active_with_id(policy)
    on_timers(policy, state, NOW + 10 * DAY)
    at = NOW + 12 * DAY
    task = only(
        on_renewal_submitted(policy, state, ID, "doc-2", at + 400 * DAY, at), OpenTaskEffect
    )
    effects = on_task_decided(policy, state, task.task_id, Decision.approve, "rev-1", "", at)
    record = only(effects, RenewalEffect)
    assert (record.round, record.valid_until) == (0, at + 400 * DAY)
