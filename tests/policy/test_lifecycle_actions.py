"""Manual actions, task decisions on a seller, and event deduplication."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sellerflow.policy import Refused
from sellerflow.policy.lifecycle import on_appeal, on_manual_action, on_task_decided, on_timers
from sellerflow.policy.model import Policy
from sellerflow.policy.seller_checks import (
    MANUAL_ACTIONS_BY_STATUS,
    check_manual_action,
    check_seller_decision,
)
from sellerflow.policy.seller_state import NoticeEffect, OpenTaskEffect, ReasonRecord, StatusEffect
from sellerflow.vocabulary import (
    Decision,
    SellerActionKind,
    SellerStatus,
)
from tests.policy.sellers import (
    DAY,
    NOW,
    only,
    seller,
    suspended,
)

# --- manual actions ----------------------------------------------------------------------


def test_manual_warn(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    check_manual_action(state, SellerActionKind.warn)
    effects = on_manual_action(policy, state, SellerActionKind.warn, "ops-1", "complaints", NOW)
    moved = only(effects, StatusEffect)
    assert moved.status == SellerStatus.warned
    assert moved.actor == "ops-1"
    assert "complaints" in moved.reason.summary
    assert state.improve_by == NOW + timedelta(days=30)


def test_manual_limit(policy: Policy) -> None:
    state = seller(SellerStatus.warned)
    moved = only(
        on_manual_action(policy, state, SellerActionKind.limit, "ops-1", "x", NOW), StatusEffect
    )
    assert moved.status == SellerStatus.limited
    assert moved.capabilities == policy.limited


def test_manual_reinstate_starts_probation(policy: Policy) -> None:
    state = suspended(policy)
    moved = only(
        on_manual_action(policy, state, SellerActionKind.reinstate, "ops-1", "error", NOW + DAY),
        StatusEffect,
    )
    assert moved.status == SellerStatus.active
    assert state.probation_until == NOW + 31 * DAY
    assert state.appeal_deadline is None
    assert state.notice_ends_at is None


def test_manual_offboard_gives_notice(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    effects = on_manual_action(policy, state, SellerActionKind.offboard, "ops-1", "x", NOW)
    assert only(effects, NoticeEffect).template == "offboarding_notice"
    assert state.status == SellerStatus.active
    assert state.notice_ends_at == NOW + timedelta(days=30)


def test_fraud_offboards_immediately(policy: Policy) -> None:
    state = seller(SellerStatus.active, notice_ends_at=NOW + 5 * DAY)
    effects = on_manual_action(
        policy, state, SellerActionKind.offboard, "ops-1", "stolen goods", NOW, fraud=True
    )
    moved = only(effects, StatusEffect)
    assert moved.status == SellerStatus.offboarded
    assert moved.action == SellerActionKind.offboard
    assert moved.notice_ends_at is None
    assert not [e for e in effects if isinstance(e, NoticeEffect)]
    assert state.finished
    assert on_timers(policy, state, NOW + 365 * DAY) == []


# The manual actions tried on a seller in each status, written out apart from the policy's
# MANUAL_ACTIONS_BY_STATUS: those refused and those allowed.
REFUSED_IN = {
    SellerStatus.suspended: [
        SellerActionKind.warn,
        SellerActionKind.limit,
        SellerActionKind.suspend,
    ],
    SellerStatus.trial: [SellerActionKind.warn, SellerActionKind.reinstate],
    SellerStatus.active: [SellerActionKind.reinstate],
    SellerStatus.warned: [SellerActionKind.warn],
    SellerStatus.limited: [SellerActionKind.limit],
    SellerStatus.offboarded: [SellerActionKind.reinstate, SellerActionKind.offboard],
}
ALLOWED_IN = {
    SellerStatus.trial: [SellerActionKind.suspend, SellerActionKind.offboard],
    SellerStatus.active: [SellerActionKind.warn],
    SellerStatus.warned: [SellerActionKind.limit],
    SellerStatus.limited: [SellerActionKind.suspend],
    SellerStatus.suspended: [SellerActionKind.reinstate, SellerActionKind.offboard],
}


def each_action(
    by_status: dict[SellerStatus, list[SellerActionKind]],
) -> list[tuple[SellerStatus, SellerActionKind]]:
    return [(status, action) for status, actions in by_status.items() for action in actions]


@pytest.mark.parametrize(("status", "action"), each_action(REFUSED_IN))
def test_manual_action_refused_for_the_status(
    status: SellerStatus, action: SellerActionKind
) -> None:
    with pytest.raises(Refused) as refused:
        check_manual_action(seller(status), action)
    assert refused.value.code == "StatusConflict"
    assert status.value in refused.value.detail


@pytest.mark.parametrize(("status", "action"), each_action(ALLOWED_IN))
def test_manual_action_allowed_for_the_status(
    status: SellerStatus, action: SellerActionKind
) -> None:
    check_manual_action(seller(status), action)
    assert action in MANUAL_ACTIONS_BY_STATUS[status]


def test_manual_actions_table_covers_every_status() -> None:
    assert set(MANUAL_ACTIONS_BY_STATUS) == set(SellerStatus)
    assert MANUAL_ACTIONS_BY_STATUS[SellerStatus.offboarded] == frozenset()
    for status in set(SellerStatus) - {SellerStatus.offboarded}:
        assert SellerActionKind.offboard in MANUAL_ACTIONS_BY_STATUS[status], status
    # No manual action moves a seller to the status it already has.
    assert SellerActionKind.warn not in MANUAL_ACTIONS_BY_STATUS[SellerStatus.warned]
    assert SellerActionKind.limit not in MANUAL_ACTIONS_BY_STATUS[SellerStatus.limited]
    assert SellerActionKind.suspend not in MANUAL_ACTIONS_BY_STATUS[SellerStatus.suspended]
    assert SellerActionKind.reinstate not in MANUAL_ACTIONS_BY_STATUS[SellerStatus.active]


# --- task decisions on a seller ----------------------------------------------------------


def test_check_seller_decision(policy: Policy) -> None:
    state = suspended(policy)
    task_id = only(on_appeal(policy, state, "a", NOW), OpenTaskEffect).task_id
    check_seller_decision(state, task_id, Decision.uphold)
    check_seller_decision(state, task_id, Decision.reinstate)
    with pytest.raises(Refused) as invalid:
        check_seller_decision(state, task_id, Decision.graduate)
    assert invalid.value.code == "InvalidDecision"
    with pytest.raises(Refused) as not_open:
        check_seller_decision(state, "no-such-task", Decision.uphold)
    assert not_open.value.code == "TaskNotOpen"
    on_task_decided(policy, state, task_id, Decision.uphold, "ssm-1", "", NOW + DAY)
    with pytest.raises(Refused) as done:
        check_seller_decision(state, task_id, Decision.uphold)
    assert done.value.code == "TaskNotOpen"


def test_deciding_an_unknown_task_changes_nothing(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    before = state.model_copy(deep=True)
    assert on_task_decided(policy, state, "nope", Decision.passed, "lab", "", NOW) == []
    assert state == before


# --- event deduplication -----------------------------------------------------------------


def test_remember_deduplicates_event_ids() -> None:
    state = seller(SellerStatus.active)
    assert state.remember("e1") is True
    assert state.remember("e2") is True
    assert state.remember("e1") is False
    assert state.seen_events == ["e1", "e2"]


def test_remember_stays_bounded_and_keeps_the_newest() -> None:
    state = seller(SellerStatus.active)
    for i in range(500):
        assert state.remember(f"e{i}")
    assert len(state.seen_events) == 200
    assert state.seen_events[-1] == "e499"
    assert state.remember("e499") is False
    assert state.remember("e300") is False
    assert state.remember("e0") is True  # long forgotten


def test_remember_with_keep_one_holds_only_the_last_event() -> None:
    state = seller(SellerStatus.active)
    for event_id in ["e1", "e2", "e3"]:
        state.remember(event_id, keep=1)
    assert state.seen_events == ["e3"]


@given(keep=st.integers(min_value=2, max_value=20), count=st.integers(min_value=0, max_value=60))
def test_remember_never_holds_more_than_keep(keep: int, count: int) -> None:
    state = seller(SellerStatus.active)
    for i in range(count):
        state.remember(f"e{i}", keep=keep)
    assert len(state.seen_events) == min(keep, count)
    if count:
        assert state.seen_events[-1] == f"e{count - 1}"


def test_reason_record_is_frozen() -> None:
    record = ReasonRecord(summary="x")
    with pytest.raises(ValidationError, match="frozen"):
        record.summary = "y"  # type: ignore[misc]
