"""A policy read from a workflow's payload is one object per distinct set of rules."""

from temporalio.contrib.pydantic import pydantic_data_converter

from sellerflow.payloads import SellerInput
from sellerflow.policy.model import load_policy


def _round_trip(inp: SellerInput) -> SellerInput:
    converter = pydantic_data_converter.payload_converter
    [payload] = converter.to_payloads([inp])
    [back] = converter.from_payloads([payload], [SellerInput])
    assert isinstance(back, SellerInput)
    return back


def test_equal_rules_read_twice_are_one_object() -> None:
    policy = load_policy("default")
    first = _round_trip(SellerInput(seller_id="s1", application_id="a1", policy=policy))
    second = _round_trip(SellerInput(seller_id="s2", application_id="a2", policy=policy))
    assert first.policy == policy
    assert first.policy is second.policy


def test_other_rules_stay_their_own() -> None:
    policy = load_policy("default")
    stricter = policy.model_copy(update={"version": policy.version + "-stricter"})
    first = _round_trip(SellerInput(seller_id="s1", application_id="a1", policy=policy))
    other = _round_trip(SellerInput(seller_id="s2", application_id="a2", policy=stricter))
    assert other.policy == stricter
    assert other.policy is not first.policy
    assert load_policy("demo") != load_policy("default")
