"""Requirements per category and country, their statuses, VAT format and document dates."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import (
    DocumentState,
    Requirement,
    required_agreements,
    required_documents,
    requirements,
    unmet,
    vat_format_error,
)
from sellerflow.vocabulary import (
    DocumentStatus,
    RequirementStatus,
    RequirementType,
    SellerCategory,
)

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=14)
VERSIONS = {"terms": "2026-01", "quality_charter": "2026-02", "trader_certification": "2025-11"}
BASE = [
    "company_registration_extract",
    "legal_representative_id",
    "proof_of_address",
    "bank_account_proof",
]


def reqs(
    policy: Policy,
    *,
    category: SellerCategory = SellerCategory.retailer,
    country: str = "DE",
    vat_number: str | None = "DE136695976",
    documents: Mapping[str, DocumentState] | None = None,
    signed: Mapping[str, str] | None = None,
    versions: Mapping[str, str] = VERSIONS,
    deadline: datetime | None = DEADLINE,
    now: datetime = NOW,
    trial_ends_at: datetime | None = None,
) -> dict[str, Requirement]:
    result = requirements(
        policy,
        category=category,
        country=country,
        vat_number=vat_number,
        documents=documents or {},
        signed_agreements=signed or {},
        agreement_versions=versions,
        deadline=deadline,
        now=now,
        trial_ends_at=trial_ends_at,
    )
    codes = [r.code for r in result]
    assert len(codes) == len(set(codes)), "one requirement per code"
    return {r.code: r for r in result}


def doc(
    status: DocumentStatus, code: str | None = None, reason: str | None = None
) -> DocumentState:
    return DocumentState(status=status, error_code=code, error_reason=reason)


# --- which documents ---------------------------------------------------------------------


def test_de_refurbishing_factory_documents(policy: Policy) -> None:
    kinds = required_documents(policy, SellerCategory.refurbishing_factory, "DE")
    assert sorted(kinds) == sorted(
        [*BASE, "vat_registration", "refurbishment_process", "warranty_policy"]
    )


def test_us_retailer_needs_only_the_base_documents(policy: Policy) -> None:
    kinds = required_documents(policy, SellerCategory.retailer, "US")
    assert sorted(kinds) == sorted(BASE)
    assert "vat_registration" not in kinds


@pytest.mark.parametrize(
    ("category", "extra"),
    [
        (SellerCategory.refurbishing_factory, {"refurbishment_process", "warranty_policy"}),
        (SellerCategory.repair_workshop, {"refurbishment_process", "warranty_policy"}),
        (SellerCategory.recycler, {"waste_permit"}),
        (SellerCategory.trader_wholesaler, {"sourcing_declaration"}),
        (SellerCategory.leasing_company, {"sourcing_declaration"}),
        (SellerCategory.manufacturer, set()),
        (SellerCategory.retailer, set()),
        (SellerCategory.mobile_operator, set()),
    ],
)
def test_category_documents_outside_the_eu(
    policy: Policy, category: SellerCategory, extra: set[str]
) -> None:
    assert set(required_documents(policy, category, "GB")) == set(BASE) | extra


@pytest.mark.parametrize("country", ["FR", "NL", "IT", "SE", "PL"])
def test_eu_countries_need_vat_registration(policy: Policy, country: str) -> None:
    assert "vat_registration" in required_documents(policy, SellerCategory.recycler, country)


@pytest.mark.parametrize("country", ["US", "CH", "NO", "GB"])
def test_non_eu_countries_do_not_need_vat_registration(policy: Policy, country: str) -> None:
    assert "vat_registration" not in required_documents(policy, SellerCategory.recycler, country)


def test_agreements_in_and_outside_the_eu(policy: Policy) -> None:
    assert set(required_agreements(policy, "DE")) == {
        "terms",
        "quality_charter",
        "trader_certification",
    }
    assert set(required_agreements(policy, "US")) == {"terms", "quality_charter"}


def test_us_retailer_requirement_list_has_no_vat_at_all(policy: Policy) -> None:
    by_code = reqs(policy, country="US", vat_number=None)
    assert "vat_registration" not in by_code
    assert "vat_number" not in by_code
    assert "trader_certification" not in by_code
    assert set(by_code) == {
        *BASE,
        "insurance_certificate",
        "weee_registration",
        "terms",
        "quality_charter",
    }


def test_requirement_types(policy: Policy) -> None:
    by_code = reqs(policy)
    assert by_code["company_registration_extract"].type == RequirementType.document
    assert by_code["insurance_certificate"].type == RequirementType.document
    assert by_code["terms"].type == RequirementType.agreement
    assert by_code["vat_number"].type == RequirementType.field


# --- statuses ----------------------------------------------------------------------------


def test_nothing_provided_is_currently_due_with_the_deadline(policy: Policy) -> None:
    by_code = reqs(policy, category=SellerCategory.refurbishing_factory, vat_number=None)
    for code in [*BASE, "vat_registration", "refurbishment_process", "terms", "vat_number"]:
        assert by_code[code].status == RequirementStatus.currently_due, code
        assert by_code[code].deadline == DEADLINE, code


def test_after_the_deadline_due_requirements_are_past_due(policy: Policy) -> None:
    by_code = reqs(policy, vat_number=None, now=DEADLINE + timedelta(seconds=1))
    for code in [*BASE, "vat_registration", "terms", "trader_certification", "vat_number"]:
        assert by_code[code].status == RequirementStatus.past_due, code


def test_at_the_deadline_itself_requirements_are_still_currently_due(policy: Policy) -> None:
    by_code = reqs(policy, now=DEADLINE)
    assert by_code["proof_of_address"].status == RequirementStatus.currently_due


def test_past_the_deadline_satisfied_stays_satisfied(policy: Policy) -> None:
    documents = {"proof_of_address": doc(DocumentStatus.accepted)}
    by_code = reqs(policy, documents=documents, now=DEADLINE + timedelta(days=1))
    assert by_code["proof_of_address"].status == RequirementStatus.satisfied
    assert by_code["proof_of_address"].deadline is None


def test_no_deadline_means_never_past_due(policy: Policy) -> None:
    by_code = reqs(policy, deadline=None, now=NOW + timedelta(days=365))
    assert by_code["proof_of_address"].status == RequirementStatus.currently_due
    assert by_code["proof_of_address"].deadline is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (DocumentStatus.awaiting_upload, RequirementStatus.currently_due),
        (DocumentStatus.uploaded, RequirementStatus.pending_verification),
        (DocumentStatus.verified, RequirementStatus.pending_verification),
        (DocumentStatus.accepted, RequirementStatus.satisfied),
        (DocumentStatus.refused, RequirementStatus.currently_due),
    ],
)
def test_document_status_maps_to_requirement_status(
    policy: Policy, status: DocumentStatus, expected: RequirementStatus
) -> None:
    by_code = reqs(policy, documents={"bank_account_proof": doc(status)})
    assert by_code["bank_account_proof"].status == expected
    # Only what the applicant still has to do carries the deadline.
    due = expected == RequirementStatus.currently_due
    assert by_code["bank_account_proof"].deadline == (DEADLINE if due else None)


def test_refused_document_carries_its_error(policy: Policy) -> None:
    documents = {
        "company_registration_extract": doc(
            DocumentStatus.refused, "document_too_old", "issued more than 92 days ago"
        )
    }
    req = reqs(policy, documents=documents)["company_registration_extract"]
    assert req.status == RequirementStatus.currently_due
    assert [(e.code, e.reason) for e in req.errors] == [
        ("document_too_old", "issued more than 92 days ago")
    ]


def test_refused_document_after_the_deadline_is_past_due_with_its_error(policy: Policy) -> None:
    documents = {"proof_of_address": doc(DocumentStatus.refused, "document_unreadable", "blurry")}
    req = reqs(policy, documents=documents, now=DEADLINE + timedelta(hours=1))["proof_of_address"]
    assert req.status == RequirementStatus.past_due
    assert [e.code for e in req.errors] == ["document_unreadable"]


def test_documents_not_refused_carry_no_errors(policy: Policy) -> None:
    documents = {
        "proof_of_address": doc(DocumentStatus.uploaded, "stale_code", "stale reason"),
    }
    assert reqs(policy, documents=documents)["proof_of_address"].errors == []
    assert reqs(policy)["bank_account_proof"].errors == []


@pytest.mark.parametrize("kind", ["insurance_certificate", "weee_registration"])
def test_eventually_due_documents(policy: Policy, kind: str) -> None:
    assert reqs(policy)[kind].status == RequirementStatus.eventually_due
    assert reqs(policy)[kind].deadline is None
    # Not due before submission, even past the deadline.
    late = reqs(policy, now=DEADLINE + timedelta(days=5))
    assert late[kind].status == RequirementStatus.eventually_due
    uploaded = reqs(policy, documents={kind: doc(DocumentStatus.uploaded)})
    assert uploaded[kind].status == RequirementStatus.pending_verification
    accepted = reqs(policy, documents={kind: doc(DocumentStatus.accepted)})
    assert accepted[kind].status == RequirementStatus.satisfied


def test_refused_eventually_due_document_carries_its_error(policy: Policy) -> None:
    documents = {
        "insurance_certificate": doc(DocumentStatus.refused, "document_expired", "lapsed cover")
    }
    req = reqs(policy, documents=documents)["insurance_certificate"]
    assert req.status == RequirementStatus.eventually_due
    assert [(e.code, e.reason) for e in req.errors] == [("document_expired", "lapsed cover")]


@pytest.mark.parametrize("kind", ["insurance_certificate", "weee_registration"])
def test_eventually_due_documents_are_due_by_the_trial_end(policy: Policy, kind: str) -> None:
    trial_end = NOW + timedelta(days=60)
    in_trial = reqs(policy, trial_ends_at=trial_end)[kind]
    assert (in_trial.status, in_trial.deadline) == (RequirementStatus.currently_due, trial_end)
    late = reqs(policy, trial_ends_at=trial_end, now=trial_end + timedelta(seconds=1))[kind]
    assert late.status == RequirementStatus.past_due
    provided = reqs(policy, trial_ends_at=trial_end, documents={kind: doc(DocumentStatus.uploaded)})
    assert provided[kind].status == RequirementStatus.pending_verification
    assert provided[kind].deadline is None


# --- agreements --------------------------------------------------------------------------


def test_agreement_signed_in_the_current_version_is_satisfied(policy: Policy) -> None:
    by_code = reqs(policy, signed={"terms": "2026-01"})
    assert by_code["terms"].status == RequirementStatus.satisfied
    assert by_code["terms"].deadline is None
    assert by_code["quality_charter"].status == RequirementStatus.currently_due


def test_agreement_signed_in_an_old_version_does_not_count(policy: Policy) -> None:
    by_code = reqs(policy, signed={"terms": "2025-06"})
    assert by_code["terms"].status == RequirementStatus.currently_due
    assert by_code["terms"].deadline == DEADLINE


def test_all_agreements_signed(policy: Policy) -> None:
    by_code = reqs(policy, signed=VERSIONS)
    for kind in VERSIONS:
        assert by_code[kind].status == RequirementStatus.satisfied


def test_unsigned_agreement_is_never_satisfied_even_without_a_known_version(
    policy: Policy,
) -> None:
    by_code = reqs(policy, signed={}, versions={"terms": "2026-01"})
    assert by_code["quality_charter"].status == RequirementStatus.currently_due
    assert by_code["trader_certification"].status == RequirementStatus.currently_due


# --- VAT number (formats and check digits: test_vat.py) --------------------------------


@pytest.mark.parametrize("vat", [None, ""])
def test_missing_vat_number_in_the_eu(policy: Policy, vat: str | None) -> None:
    assert vat_format_error(policy, "DE", vat) == "vat_number_missing"


@pytest.mark.parametrize("vat", [None, "", "garbage", "DE123"])
def test_vat_number_is_ignored_outside_the_eu(policy: Policy, vat: str | None) -> None:
    assert vat_format_error(policy, "US", vat) is None


def test_vat_number_requirement_carries_the_error(policy: Policy) -> None:
    bad = reqs(policy, vat_number="DE12")["vat_number"]
    assert bad.status == RequirementStatus.currently_due
    assert bad.deadline == DEADLINE
    assert [e.code for e in bad.errors] == ["vat_number_invalid"]
    assert bad.errors[0].reason
    good = reqs(policy, vat_number="DE136695976")["vat_number"]
    assert good.status == RequirementStatus.satisfied
    assert good.errors == []
    missing = reqs(policy, vat_number=None)["vat_number"]
    assert [e.code for e in missing.errors] == ["vat_number_missing"]


# --- unmet -------------------------------------------------------------------------------


def test_unmet_lists_only_what_is_due_now(policy: Policy) -> None:
    documents = {
        "company_registration_extract": doc(DocumentStatus.accepted),
        "legal_representative_id": doc(DocumentStatus.uploaded),
        "proof_of_address": doc(DocumentStatus.refused, "document_unreadable", "blurry"),
    }
    result = requirements(
        policy,
        category=SellerCategory.recycler,
        country="FR",
        vat_number="FR12",
        documents=documents,
        signed_agreements={"terms": VERSIONS["terms"], "quality_charter": "old"},
        agreement_versions=VERSIONS,
        deadline=DEADLINE,
        now=NOW,
    )
    assert sorted(unmet(result)) == sorted(
        [
            "proof_of_address",
            "bank_account_proof",
            "vat_registration",
            "waste_permit",
            "quality_charter",
            "trader_certification",
            "vat_number",
        ]
    )


def test_unmet_includes_past_due_and_is_empty_when_all_is_provided(policy: Policy) -> None:
    late = requirements(
        policy,
        category=SellerCategory.retailer,
        country="US",
        vat_number=None,
        documents={},
        signed_agreements={},
        agreement_versions=VERSIONS,
        deadline=DEADLINE,
        now=DEADLINE + timedelta(days=1),
    )
    assert set(unmet(late)) == {*BASE, "terms", "quality_charter"}
    done = requirements(
        policy,
        category=SellerCategory.retailer,
        country="US",
        vat_number=None,
        documents={kind: doc(DocumentStatus.uploaded) for kind in BASE},
        signed_agreements=VERSIONS,
        agreement_versions=VERSIONS,
        deadline=DEADLINE,
        now=NOW,
    )
    assert unmet(done) == []
