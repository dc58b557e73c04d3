"""The duration language and the policy files."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sellerflow.policy.model import FILES, Policy, add_business_days, add_duration, load_policy

FRIDAY = datetime(2026, 3, 6, 10, 30, tzinfo=UTC)
SATURDAY = datetime(2026, 3, 7, 10, 30, tzinfo=UTC)
SUNDAY = datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
MONDAY = datetime(2026, 3, 9, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("14 days", timedelta(days=14)),
        ("1 day", timedelta(days=1)),
        ("30 seconds", timedelta(seconds=30)),
        ("1 second", timedelta(seconds=1)),
        ("1 minute", timedelta(minutes=1)),
        ("3 minutes", timedelta(minutes=3)),
        ("2 hours", timedelta(hours=2)),
        ("1.5 days", timedelta(hours=36)),
        ("  7 days ", timedelta(days=7)),
    ],
)
def test_add_duration_calendar_units(spec: str, expected: timedelta) -> None:
    assert add_duration(MONDAY, spec) - MONDAY == expected


def test_friday_plus_two_business_days_is_tuesday_same_time() -> None:
    assert add_duration(FRIDAY, "2 business days") == datetime(2026, 3, 10, 10, 30, tzinfo=UTC)


def test_one_business_day_from_friday_is_monday() -> None:
    assert add_duration(FRIDAY, "1 business day") == MONDAY


def test_business_days_within_the_week_are_plain_days() -> None:
    assert add_duration(MONDAY, "2 business days") == MONDAY + timedelta(days=2)


def test_business_days_span_several_weekends() -> None:
    # 10 business days from a Monday: two whole weeks later.
    assert add_business_days(MONDAY, 10) == MONDAY + timedelta(days=14)


@pytest.mark.parametrize("start", [SATURDAY, SUNDAY])
def test_weekend_start_counts_from_monday(start: datetime) -> None:
    # Monday and Tuesday are the two business days, so the deadline is Wednesday, same time.
    assert add_duration(start, "2 business days") == datetime(2026, 3, 11, 10, 30, tzinfo=UTC)


def test_weekend_start_is_never_before_the_friday_deadline() -> None:
    assert add_duration(SATURDAY, "2 business days") > add_duration(FRIDAY, "2 business days")


@given(
    start=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=1, max_value=30),
)
def test_business_days_land_on_a_weekday_at_least_days_later(start: datetime, days: int) -> None:
    end = add_business_days(start, days)
    assert end.weekday() < 5
    assert end.time() == start.time()
    assert timedelta(days=days) <= end - start <= timedelta(days=days + 2 * (days // 5 + 1) + 2)


@pytest.mark.parametrize(
    "spec",
    ["", "14", "days", "two days", "14 weeks", "-1 days", "14 fortnights", "14days later", "1 d"],
)
def test_invalid_duration_specs_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        add_duration(MONDAY, spec)


@pytest.mark.parametrize("name", ["default", "demo"])
def test_both_policy_files_load(name: str) -> None:
    loaded = load_policy(name)
    assert loaded.version.startswith(f"{name}-")
    assert loaded.trial.mystery_orders == 2
    assert loaded.trial.min_orders_for_kpis == 25


def test_default_durations_follow_the_design(policy: Policy) -> None:
    d = policy.durations
    assert add_duration(MONDAY, d.trial) - MONDAY == timedelta(days=90)
    assert add_duration(MONDAY, d.applicant_deadline) - MONDAY == timedelta(days=14)
    assert [add_duration(MONDAY, r) - MONDAY for r in d.reminders] == [
        timedelta(days=3),
        timedelta(days=7),
        timedelta(days=12),
    ]
    assert add_duration(FRIDAY, d.task_sla) == datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
    assert add_duration(MONDAY, d.mystery_order_sla) - MONDAY == timedelta(days=14)
    assert add_duration(MONDAY, d.offboarding_notice) - MONDAY == timedelta(days=30)


def test_demo_trial_is_two_minutes(demo_policy: Policy) -> None:
    assert add_duration(MONDAY, demo_policy.durations.trial) - MONDAY == timedelta(minutes=2)
    assert add_duration(MONDAY, demo_policy.durations.applicant_deadline) - MONDAY == timedelta(
        minutes=3
    )
    assert add_duration(MONDAY, demo_policy.durations.task_sla) - MONDAY == timedelta(minutes=1)


def test_demo_keeps_the_default_rules(policy: Policy, demo_policy: Policy) -> None:
    assert demo_policy.version != policy.version
    assert demo_policy.requirements == policy.requirements
    assert demo_policy.documents == policy.documents
    assert demo_policy.kpis == policy.kpis
    assert demo_policy.trial == policy.trial
    assert demo_policy.limited == policy.limited
    assert demo_policy.durations != policy.durations


def _raw_default() -> dict[str, Any]:
    return yaml.safe_load((FILES / "default.yaml").read_text())


def test_policy_with_an_invalid_duration_is_rejected() -> None:
    raw = _raw_default()
    raw["durations"]["trial"] = "ninety days"
    with pytest.raises(ValidationError, match="not a duration"):
        Policy.model_validate(raw)


def test_policy_with_an_invalid_reminder_is_rejected() -> None:
    raw = _raw_default()
    raw["durations"]["reminders"] = ["3 days", "a week"]
    with pytest.raises(ValidationError, match="not a duration"):
        Policy.model_validate(raw)


def test_policy_with_an_unknown_field_is_rejected() -> None:
    raw = _raw_default()
    raw["trial"]["free_lunch"] = True
    with pytest.raises(ValidationError):
        Policy.model_validate(raw)


def test_load_policy_by_path(tmp_path: Path) -> None:
    raw = _raw_default()
    raw["version"] = "custom-1"
    raw["durations"]["trial"] = "45 days"
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(raw))
    loaded = load_policy(str(path))
    assert loaded.version == "custom-1"
    assert add_duration(MONDAY, loaded.durations.trial) - MONDAY == timedelta(days=45)


def test_unknown_policy_name_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        load_policy("no-such-policy")
