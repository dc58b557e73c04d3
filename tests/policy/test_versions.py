"""Proposed rules: the problems named by path, and the field-by-field diff of two versions."""

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sellerflow.policy.model import Policy
from sellerflow.policy.versions import FieldChange, apply_diff, diff, leaves, rule_problems


def rules_of(policy: Policy) -> dict[str, Any]:
    return policy.model_dump(mode="json")


def paths(rules: Any) -> set[str]:
    return {p.path for p in rule_problems(rules)}


def test_the_built_in_policies_have_no_problems(policy: Policy, demo_policy: Policy) -> None:
    assert rule_problems(rules_of(policy)) == []
    assert rule_problems(rules_of(demo_policy)) == []


def test_each_invalid_field_is_named_by_its_path(policy: Policy) -> None:
    rules = rules_of(policy)
    rules["kpis"]["refund_rate"]["window_days"] = -5
    rules["kpis"]["late_shipment_rate"]["warn"] = 0.2  # beyond its limit of 0.10
    rules["kpis"]["on_time_delivery"]["warn"] = 0.85  # below its limit of 0.90 (higher is better)
    rules["kpis"]["returns_rate"] = rules["kpis"]["refund_rate"]
    del rules["durations"]["trial"]

    assert paths(rules) == {
        "kpis.refund_rate.window_days",
        "kpis.late_shipment_rate.warn",
        "kpis.on_time_delivery.warn",
        "kpis.returns_rate",
        "durations.trial",
    }


def test_the_messages_say_what_is_wrong(policy: Policy) -> None:
    rules = rules_of(policy)
    rules["kpis"]["nps"] = rules["kpis"]["refund_rate"]
    rules["durations"]["trial"] = "soon"
    messages = {p.path: p.msg for p in rule_problems(rules)}
    assert messages["kpis.nps"].startswith("unknown KPI 'nps'")
    assert "not a duration" in messages["durations.trial"]


def test_rules_that_are_not_an_object_are_one_problem() -> None:
    assert paths([1, 2]) == {""}


def test_a_rate_threshold_outside_zero_to_one_is_refused(policy: Policy) -> None:
    rules = rules_of(policy)
    rules["kpis"]["order_defect_rate"]["limit"] = 2
    rules["kpis"]["review_rating"]["limit"] = 0.5
    assert paths(rules) == {"kpis.order_defect_rate.limit", "kpis.review_rating.limit"}


def test_the_diff_of_the_default_and_demo_policies_names_the_durations(
    policy: Policy, demo_policy: Policy
) -> None:
    changes = {c.path: c for c in diff(rules_of(policy), rules_of(demo_policy))}
    assert changes["version"] == FieldChange(
        "version", "changed", policy.version, demo_policy.version
    )
    assert changes["durations.trial"].before == "90 days"
    assert changes["durations.trial"].after == demo_policy.durations.trial
    assert "kpis.late_shipment_rate.warn" not in changes


def test_a_changed_threshold_is_one_change(policy: Policy) -> None:
    stricter = rules_of(policy)
    stricter["kpis"]["late_shipment_rate"]["warn"] = 0.05
    assert diff(rules_of(policy), stricter) == [
        FieldChange("kpis.late_shipment_rate.warn", "changed", 0.08, 0.05)
    ]


# Nested objects with keys free of dots (the policy's keys are identifiers).
KEYS = st.text(alphabet="abcxyz_", min_size=1, max_size=3)
SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["a", "7 days"])
VALUES = st.recursive(
    SCALARS | st.lists(SCALARS, max_size=3),
    lambda inner: st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)
RULES = st.dictionaries(KEYS, VALUES, max_size=4)


@given(RULES, RULES)
def test_applying_the_diff_gives_the_new_rules(old: dict[str, Any], new: dict[str, Any]) -> None:
    kept = copy.deepcopy(old)
    assert apply_diff(old, diff(old, new)) == new
    assert old == kept  # the rules given are not changed


@given(RULES)
def test_a_version_has_no_diff_with_itself(rules: dict[str, Any]) -> None:
    assert diff(rules, rules) == []


@given(RULES, RULES)
def test_the_diff_backwards_is_the_diff_reversed(old: dict[str, Any], new: dict[str, Any]) -> None:
    forward, backward = diff(old, new), diff(new, old)
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    reversed_forward = [FieldChange(c.path, flip[c.kind], c.after, c.before) for c in forward]  # type: ignore[arg-type]
    assert reversed_forward == backward


@given(RULES, RULES)
def test_every_change_names_a_leaf_that_differs(old: dict[str, Any], new: dict[str, Any]) -> None:
    before, after = leaves(old), leaves(new)
    for change in diff(old, new):
        assert before.get(change.path, change.before) == change.before
        assert after.get(change.path, change.after) == change.after
        assert before.get(change.path, KeyError) != after.get(change.path, KeyError)
