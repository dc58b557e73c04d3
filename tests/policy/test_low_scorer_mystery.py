"""Low scorers after the trial get a follow-up mystery order, never more than one open."""

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sellerflow.policy.lifecycle import on_standing, on_task_decided, on_timers
from sellerflow.policy.model import Policy, load_policy
from sellerflow.policy.seller_state import MysteryOrder, OpenTaskEffect, SellerState, task_id_for
from sellerflow.vocabulary import Decision, SellerStatus, Standing, TaskKind
from tests.policy.sellers import DAY, NOW, SELLER, only, seller

LOW = [Standing.warn, Standing.limit]


def undecided(state: SellerState) -> int:
    return sum(1 for order in state.mystery_orders if order.outcome is None)


def open_due_orders(policy: Policy, state: SellerState, at: datetime) -> list[OpenTaskEffect]:
    return [e for e in on_timers(policy, state, at) if isinstance(e, OpenTaskEffect)]


def decide_open_order(policy: Policy, state: SellerState, decision: Decision) -> None:
    task_id = next(t for t, kind in state.open_tasks.items() if kind == TaskKind.mystery_order)
    on_task_decided(policy, state, task_id, decision, "lab1", "", NOW)


@pytest.mark.parametrize("status", [SellerStatus.active, SellerStatus.warned, SellerStatus.limited])
@pytest.mark.parametrize("standing", LOW)
def test_a_low_standing_after_the_trial_schedules_a_mystery_order_now(
    policy: Policy, status: SellerStatus, standing: Standing
) -> None:
    state = seller(status)
    on_standing(policy, state, standing, [], NOW)

    assert [(o.key, o.due_at, o.outcome) for o in state.mystery_orders] == [
        ("mystery-0", NOW, None)
    ]
    task = only(open_due_orders(policy, state, NOW), OpenTaskEffect)
    assert task.kind == TaskKind.mystery_order
    assert task.task_id == task_id_for(SELLER, "mystery-0")
    assert task.due_at == NOW + 14 * DAY


@pytest.mark.parametrize(
    ("status", "standing"),
    [
        *[(status, Standing.good) for status in (SellerStatus.active, SellerStatus.warned)],
        *[(SellerStatus.trial, standing) for standing in LOW],
        *[(status, Standing.limit) for status in (SellerStatus.suspended, SellerStatus.offboarded)],
    ],
)
def test_no_follow_up_for_good_standing_in_trial_or_once_suspended(
    policy: Policy, status: SellerStatus, standing: Standing
) -> None:
    state = seller(status)
    on_standing(policy, state, standing, [], NOW)
    assert state.mystery_orders == []


def test_only_one_follow_up_is_open_at_a_time(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    on_standing(policy, state, Standing.warn, [], NOW)
    open_due_orders(policy, state, NOW)
    on_standing(policy, state, Standing.good, [], NOW + DAY)
    on_standing(policy, state, Standing.limit, [], NOW + 2 * DAY)
    assert len(state.mystery_orders) == 1
    assert open_due_orders(policy, state, NOW + 2 * DAY) == []


def test_a_scheduled_but_unopened_follow_up_also_counts_as_open(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    on_standing(policy, state, Standing.warn, [], NOW)
    on_standing(policy, state, Standing.limit, [], NOW)
    assert len(state.mystery_orders) == 1


def test_a_new_follow_up_once_the_last_one_is_decided(policy: Policy) -> None:
    state = seller(SellerStatus.active)
    on_standing(policy, state, Standing.warn, [], NOW)
    open_due_orders(policy, state, NOW)
    decide_open_order(policy, state, Decision.minor_issues)
    on_standing(policy, state, Standing.good, [], NOW + DAY)

    on_standing(policy, state, Standing.warn, [], NOW + 5 * DAY)

    assert [o.key for o in state.mystery_orders] == ["mystery-0", "mystery-1"]
    task = only(open_due_orders(policy, state, NOW + 5 * DAY), OpenTaskEffect)
    assert task.task_id == task_id_for(SELLER, "mystery-1")


def test_an_undecided_trial_order_counts_as_the_open_one(policy: Policy) -> None:
    trial_order = MysteryOrder(key="mystery-1", due_at=NOW - 60 * DAY, task_id="task-1")
    state = seller(SellerStatus.active, mystery_orders=[trial_order])
    on_standing(policy, state, Standing.warn, [], NOW)
    assert state.mystery_orders == [trial_order]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([Standing.good, *LOW]),
            st.sampled_from([None, Decision.passed, Decision.minor_issues]),
        ),
        max_size=30,
    )
)
def test_never_more_than_one_undecided_follow_up(
    steps: list[tuple[Standing, Decision | None]],
) -> None:
    policy = load_policy("default")
    state = seller(SellerStatus.active)
    for day, (standing, decision) in enumerate(steps):
        at = NOW + day * DAY
        on_standing(policy, state, standing, [], at)
        open_due_orders(policy, state, at)
        assert undecided(state) <= 1
        if decision is not None and state.open_tasks:
            decide_open_order(policy, state, decision)
    assert undecided(state) <= 1
