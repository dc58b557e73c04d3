"""Typed bodies that mirror a policy model say the same as the policy."""

from api.schemas import ChecklistBody
from sellerflow.policy.mystery import MysteryChecklist


def test_the_checklist_body_names_every_item_of_the_policys_checklist() -> None:
    body, policy = ChecklistBody.model_fields, MysteryChecklist.model_fields
    assert set(body) == set(policy)
    for name, field in policy.items():
        assert body[name].default is None
        assert body[name].metadata == field.metadata, name


def test_a_complete_checklist_passes_through_the_body_unchanged() -> None:
    sent = {
        "battery_health_percent": 87.5,
        "grade_matches_listing": True,
        "genuine_parts": False,
        "factory_reset_and_unlocked": True,
        "packaging_ok": True,
        "delivered_on_time": False,
        "notes": "scratch on the back",
    }
    answers = ChecklistBody.model_validate(sent).answers()
    assert answers == sent
    assert MysteryChecklist.model_validate(answers).genuine_parts is False
    assert ChecklistBody().answers() == {}
