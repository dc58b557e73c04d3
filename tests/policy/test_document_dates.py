"""Dated documents: extracts and proofs of address at most 92 days old, IDs not expired."""

from datetime import date, timedelta

import pytest

from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import document_date_error

TODAY = date(2026, 3, 9)


def date_error(
    policy: Policy, kind: str, *, issued_on: date | None = None, expires_on: date | None = None
) -> tuple[str, str] | None:
    """`document_date_error` today (TODAY), the dates not given missing."""
    return document_date_error(
        policy, kind, issued_on=issued_on, expires_on=expires_on, today=TODAY
    )


@pytest.mark.parametrize("kind", ["company_registration_extract", "proof_of_address"])
def test_extract_issued_92_days_ago_is_fine_93_is_too_old(policy: Policy, kind: str) -> None:
    ok = date_error(policy, kind, issued_on=TODAY - timedelta(days=92))
    assert ok is None
    old = date_error(policy, kind, issued_on=TODAY - timedelta(days=93))
    assert old is not None
    assert old[0] == "document_too_old"
    assert "92" in old[1]


def test_extract_issued_today_is_fine(policy: Policy) -> None:
    assert date_error(policy, "company_registration_extract", issued_on=TODAY) is None


def test_future_issue_date_is_refused(policy: Policy) -> None:
    error = date_error(policy, "company_registration_extract", issued_on=TODAY + timedelta(days=1))
    assert error is not None
    assert error[0] == "issue_date_in_future"


def test_missing_issue_date_is_refused(policy: Policy) -> None:
    error = date_error(policy, "proof_of_address")
    assert error is not None
    assert error[0] == "issue_date_missing"


def test_id_expired_yesterday_is_refused_expiring_today_is_fine(policy: Policy) -> None:
    expired = date_error(policy, "legal_representative_id", expires_on=TODAY - timedelta(days=1))
    assert expired is not None
    assert expired[0] == "document_expired"
    assert date_error(policy, "legal_representative_id", expires_on=TODAY) is None


def test_id_without_expiry_date_is_refused(policy: Policy) -> None:
    error = date_error(policy, "legal_representative_id", issued_on=TODAY)
    assert error is not None
    assert error[0] == "expiry_date_missing"


@pytest.mark.parametrize(
    "kind", ["bank_account_proof", "vat_registration", "warranty_policy", "weee_registration"]
)
def test_undated_kinds_need_no_dates(policy: Policy, kind: str) -> None:
    assert date_error(policy, kind) is None
    old = TODAY - timedelta(days=4000)
    assert date_error(policy, kind, issued_on=old, expires_on=old) is None
