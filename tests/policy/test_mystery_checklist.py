"""The lab's mystery-order checklist: every item present and valid, or the decision is refused."""

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sellerflow.payloads import CompleteTaskInput
from sellerflow.policy import Refused
from sellerflow.policy.mystery import MysteryChecklist, check_mystery_checklist, what_to_fix
from sellerflow.policy.onboarding import check_decision_allowed
from sellerflow.vocabulary import Decision, TaskKind
from tests.policy.sellers import PASSING_CHECKLIST

VALID = {**PASSING_CHECKLIST, "packaging_ok": False}
BOOLEAN_ITEMS = [name for name, value in VALID.items() if isinstance(value, bool)]


def refusal(checklist: dict[str, Any]) -> Refused:
    with pytest.raises(Refused) as refused:
        check_mystery_checklist(checklist)
    assert refused.value.code == "InvalidDecision"
    return refused.value


def completion(decision: Decision, checklist: dict[str, Any], **fields: Any) -> CompleteTaskInput:
    return CompleteTaskInput(
        task_id="task-1", actor="lab1", decision=decision, checklist=checklist, **fields
    )


def test_a_complete_checklist_is_accepted_with_extra_notes() -> None:
    checked = check_mystery_checklist({**VALID, "notes": "small scratch on the back"})
    assert checked.battery_health_percent == 92.0
    assert checked.packaging_ok is False
    assert checked.model_extra == {"notes": "small scratch on the back"}


@pytest.mark.parametrize("item", list(VALID))
def test_each_missing_item_is_named(item: str) -> None:
    checklist = {name: value for name, value in VALID.items() if name != item}
    detail = refusal(checklist).detail
    assert item in detail
    assert [name for name in VALID if name in detail] == [item]


def test_an_empty_checklist_names_every_item() -> None:
    detail = refusal({}).detail
    assert all(item in detail for item in VALID)


@pytest.mark.parametrize("battery", [-1, -0.01, 100.01, 250, math.nan, math.inf, "92", True, None])
def test_battery_health_outside_0_to_100_or_not_a_number_is_refused(battery: object) -> None:
    assert "battery_health_percent" in refusal({**VALID, "battery_health_percent": battery}).detail


@given(st.floats(min_value=0, max_value=100) | st.integers(min_value=0, max_value=100))
def test_battery_health_from_0_to_100_is_accepted(battery: float) -> None:
    checked = check_mystery_checklist({**VALID, "battery_health_percent": battery})
    assert checked.battery_health_percent == battery


@pytest.mark.parametrize("item", BOOLEAN_ITEMS)
@pytest.mark.parametrize("value", [1, 0, "yes", "true", None])
def test_yes_no_items_must_be_booleans(item: str, value: object) -> None:
    assert item in refusal({**VALID, item: value}).detail


def test_a_mystery_order_completion_needs_the_checklist() -> None:
    with pytest.raises(Refused) as refused:
        check_decision_allowed(TaskKind.mystery_order, completion(Decision.passed, {}))
    assert refused.value.code == "InvalidDecision"
    assert "checklist" in refused.value.detail
    check_decision_allowed(TaskKind.mystery_order, completion(Decision.passed, VALID))


def test_a_blocker_needs_reason_codes_besides_the_checklist() -> None:
    with pytest.raises(Refused, match="reason codes"):
        check_decision_allowed(TaskKind.mystery_order, completion(Decision.blocker, VALID))
    check_decision_allowed(
        TaskKind.mystery_order,
        completion(Decision.blocker, VALID, reason_codes=["quality_concerns"]),
    )


@pytest.mark.parametrize("kind", [k for k in TaskKind if k != TaskKind.mystery_order])
def test_other_tasks_take_no_checklist(kind: TaskKind) -> None:
    decision = {
        TaskKind.onboarding_review: Decision.approve,
        TaskKind.ssm_signoff: Decision.approve,
        TaskKind.trial_review: Decision.graduate,
        TaskKind.appeal_review: Decision.reinstate,
        TaskKind.document_review: Decision.approve,
    }[kind]
    check_decision_allowed(kind, completion(decision, {}))


def test_the_checklist_model_lists_exactly_the_required_items() -> None:
    assert set(MysteryChecklist.model_fields) == set(VALID)


def test_what_to_fix_names_each_failed_item_in_the_charters_words() -> None:
    checklist = {
        **PASSING_CHECKLIST,
        "battery_health_percent": 71.5,
        "genuine_parts": False,
        "delivered_on_time": False,
    }
    assert what_to_fix(checklist) == [
        "ship batteries with at least 80 % of their design capacity (this one had 71.5 %)",
        "use genuine or certified-equivalent parts, and declare replaced ones",
        "ship within the promised handling time",
    ]
    assert what_to_fix(PASSING_CHECKLIST) == []
    assert what_to_fix({"notes": "an old history without the checklist"}) == []
