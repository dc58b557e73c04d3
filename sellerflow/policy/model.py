"""The policy file's shape, its loading, and the duration language it is written in."""

import re
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from sellerflow.vocabulary import KPI, SellerCategory

FILES = Path(__file__).resolve().parent / "files"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(business days?|seconds?|minutes?|hours?|days?)\s*$")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"not a duration: {value!r} (say e.g. '14 days', '2 business days')")
    return value


Duration = Annotated[str, Field(description="e.g. '14 days', '2 business days', '30 seconds'")]


def add_duration(start: datetime, spec: str) -> datetime:
    """Add a policy duration to a time; business days skip Saturdays and Sundays."""
    match = _DURATION.match(spec)
    if match is None:
        raise ValueError(f"not a duration: {spec!r}")
    amount, unit = float(match.group(1)), match.group(2)
    if unit.startswith("business"):
        return add_business_days(start, int(amount))
    seconds_per = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
    return start + timedelta(seconds=amount * seconds_per)


def before(end: datetime, spec: str) -> datetime:
    """The time a policy duration before `end` (business days counted as calendar days)."""
    match = _DURATION.match(spec)
    if match is None:
        raise ValueError(f"not a duration: {spec!r}")
    if match.group(2).startswith("business"):
        return end - timedelta(days=float(match.group(1)))
    return end - (add_duration(end, spec) - end)


def add_business_days(start: datetime, days: int) -> datetime:
    current = start
    # A start on a weekend counts from the next Monday's start-of-business equivalent time.
    while current.weekday() >= 5:
        current += timedelta(days=1)
    added = 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


class DocumentKindRule(Frozen):
    description: str
    max_age_days: int | None = None
    must_not_be_expired: bool = False


class DocumentRules(Frozen):
    max_bytes: int
    content_types: list[str]
    kinds: dict[str, DocumentKindRule]


class RequirementRules(Frozen):
    documents_for_all: list[str]
    documents_in_eu: list[str]
    documents_by_category: dict[SellerCategory, list[str]]
    eventually_due: list[str]
    agreements_for_all: list[str]
    agreements_in_eu: list[str]


class Durations(Frozen):
    applicant_deadline: Duration
    reminders: list[Duration]
    changes_deadline: Duration
    task_sla: Duration
    mystery_order_sla: Duration
    appeal_sla: Duration
    trial: Duration
    trial_extension: Duration
    improvement_period: Duration
    offboarding_notice: Duration
    probation: Duration
    blocker_fix: Duration
    appeal_window: Duration

    @field_validator("*")
    @classmethod
    def _valid(cls, value: str | list[str]) -> str | list[str]:
        for item in [value] if isinstance(value, str) else value:
            _check_duration(item)
        return value


class Capabilities(Frozen):
    listing_cap: int | None
    daily_order_cap: int | None
    payouts_deferred: bool


class TrialRules(Frozen):
    listing_cap: int
    daily_order_cap: int
    payouts_deferred: bool
    mystery_orders: int
    min_orders_for_kpis: int

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            listing_cap=self.listing_cap,
            daily_order_cap=self.daily_order_cap,
            payouts_deferred=self.payouts_deferred,
        )


class KpiRule(Frozen):
    higher_is_better: bool
    warn: float
    limit: float
    window_days: int
    min_sample: int
    weight: float


class ScoreRules(Frozen):
    prior_strength: float


class EvaluationRules(Frozen):
    cron: str
    chunk_size: int


class RetentionRules(Frozen):
    # How long the personal data and files of an application that ended without a seller
    # (rejected, withdrawn, expired) are kept after it ended (sellerflow.services.retention).
    closed_applications: Duration = "180 days"

    @field_validator("closed_applications")
    @classmethod
    def _valid(cls, value: str) -> str:
        return _check_duration(value)


class RenewedDocument(Frozen):
    # How long a document without an expiry date stays valid from its issue date (a
    # registration extract); None: until its own expiry date (an identity document).
    valid_for: Duration | None = None

    @field_validator("valid_for")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return None if value is None else _check_duration(value)


class RenewalRules(Frozen):
    """Documents on file that a seller renews for as long as it sells (`policy.renewals`)."""

    # The renewal is asked for this long before the document stops being valid, and a
    # reminder sent this long before; once it stops being valid unrenewed, the seller is
    # limited until a new file is accepted.
    ask_before: Duration = "30 days"
    remind_before: Duration = "7 days"
    documents: dict[str, RenewedDocument] = {
        "legal_representative_id": RenewedDocument(),
        "insurance_certificate": RenewedDocument(),
        "company_registration_extract": RenewedDocument(valid_for="365 days"),
    }

    @field_validator("ask_before", "remind_before")
    @classmethod
    def _valid(cls, value: str) -> str:
        return _check_duration(value)


class CheckRules(Frozen):
    """The thresholds of the automated checks (`policy.checks`, `policy.matching`)."""

    # Scores 0-100 (rapidfuzz) of a register's name and address against the application's,
    # both normalised; below them the check needs a reviewer.
    name_match_min_score: float = Field(default=88, ge=0, le=100)
    address_match_min_score: float = Field(default=75, ge=0, le=100)
    # A sanctions list entry scoring at least this against the company or its representative.
    sanctions_min_score: float = Field(default=85, ge=0, le=100)
    # A register that did not answer is asked again after `recheck_first`, doubling each
    # time up to `recheck_longest`.
    recheck_first: Duration = "15 minutes"
    recheck_longest: Duration = "1 day"

    @field_validator("recheck_first", "recheck_longest")
    @classmethod
    def _valid(cls, value: str) -> str:
        return _check_duration(value)


class Policy(Frozen):
    version: str
    documents: DocumentRules
    requirements: RequirementRules
    eu_countries: list[str]
    durations: Durations
    trial: TrialRules
    limited: Capabilities
    kpis: dict[KPI, KpiRule]
    score: ScoreRules
    evaluation: EvaluationRules
    # With a default: the rules copied into workflows started before it had none.
    retention: RetentionRules = RetentionRules()
    renewals: RenewalRules = RenewalRules()
    checks: CheckRules = CheckRules()
    # The least time between announcing a change of these rules to sellers and its taking
    # effect (P2B art. 3: 15 days); a rollout of this version is refused earlier.
    change_notice: Duration = "15 days"

    @field_validator("change_notice")
    @classmethod
    def _valid_notice(cls, value: str) -> str:
        return _check_duration(value)


@lru_cache(maxsize=64)
def _shared(rules: str) -> Policy:
    return Policy.model_validate_json(rules)


def shared_policy(policy: Policy) -> Policy:
    """The one object of the process for these rules (an equal policy, frozen as they all are).

    Every cached workflow holds the policy of its input, about 23 KB of objects once read from
    its payload; a worker holding thousands of seller workflows that run under a few versions
    keeps one copy of each instead."""
    return _shared(policy.model_dump_json())


# The type of a policy carried in a workflow's input: read from the payload, then shared.
SharedPolicy = Annotated[Policy, AfterValidator(shared_policy)]


def load_policy(name_or_path: str) -> Policy:
    """Load `default`, `demo`, or a policy file by path."""
    path = FILES / f"{name_or_path}.yaml" if "/" not in name_or_path else Path(name_or_path)
    if not path.exists():
        raise FileNotFoundError(f"no policy file {path}")
    return Policy.model_validate(yaml.safe_load(path.read_text()))
