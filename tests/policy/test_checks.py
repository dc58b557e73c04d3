"""The automated checks' results from what the applicant gave: VAT number and IBAN by their
check digits (python-stdnum), the registers' answers with the names and addresses compared."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sellerflow.policy.checks import (
    CompanyFacts,
    company_registry_check,
    iban_check,
    iban_format_error,
    not_in_register,
    recheck_at,
    vat_number_check,
    vat_registry_check,
)
from sellerflow.policy.matching import address_score, name_score
from sellerflow.policy.model import CheckRules
from sellerflow.registries import CompanyStatus, RegistryAnswer, RegistryRecord
from sellerflow.vocabulary import CheckCode, CheckStatus

# ISO 13616's and the banks' published examples.
VALID_IBANS = [
    "DE89 3704 0044 0532 0130 00",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NL91ABNA0417164300",
    "GB29 NWBK 6016 1331 9268 19",
    "be71096123456769",  # lower case, no spaces
    "ES91 2100 0418 4502 0005 1332",
]


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_a_valid_iban_passes_and_its_detail_shows_only_its_end(iban: str) -> None:
    outcome = iban_check(iban)
    assert outcome is not None
    assert (outcome.code, outcome.status) == (CheckCode.iban, CheckStatus.passed)
    compact = iban.replace(" ", "").upper()
    assert compact[-4:] in outcome.detail
    assert compact not in outcome.detail.replace(" ", "")
    assert iban_format_error(iban) is None


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 01",  # one digit off
        "DE89 3704 0044 0532 0130",  # too short for Germany
        "XX89 3704 0044 0532 0130 00",  # no such country
        "DE88 3704 0044 0532 0130 00",  # wrong check digits
    ],
)
def test_a_mistyped_iban_fails(iban: str) -> None:
    outcome = iban_check(iban)
    assert outcome is not None
    assert outcome.status == CheckStatus.failed
    assert iban_format_error(iban) == "iban_invalid"


def test_no_iban_and_no_vat_number_are_no_check() -> None:
    assert iban_check(None) is None
    assert iban_check("") is None
    assert vat_number_check("DE", None) is None
    assert iban_format_error(None) is None


@pytest.mark.parametrize(
    ("country", "number", "status"),
    [
        ("DE", "DE136695976", CheckStatus.passed),
        ("DE", "DE136695977", CheckStatus.failed),  # check digit
        ("FR", "DE136695976", CheckStatus.failed),  # another country's number
        ("GR", "EL094259216", CheckStatus.passed),
    ],
)
def test_the_vat_number_check_reads_the_check_digits(
    country: str, number: str, status: CheckStatus
) -> None:
    outcome = vat_number_check(country, number)
    assert outcome is not None
    assert (outcome.code, outcome.status) == (CheckCode.vat_number, status)


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (RegistryAnswer.found, CheckStatus.passed),
        (RegistryAnswer.not_found, CheckStatus.failed),
        (RegistryAnswer.unavailable, CheckStatus.unavailable),
    ],
)
def test_the_register_answer_is_the_check_result(
    answer: RegistryAnswer, status: CheckStatus
) -> None:
    outcome = company_registry_check(
        RegistryRecord(answer), CompanyFacts("Refurb Werk GmbH"), CheckRules(), "the register"
    )
    assert (outcome.code, outcome.status, outcome.source) == (
        CheckCode.company_registry,
        status,
        "the register",
    )


COMPANY = CompanyFacts("Refurb Werk GmbH", "Hauptstraße 5, 10115 Berlin")
RULES = CheckRules()


def registered(
    name: str = "REFURB-WERK G.m.b.H.",
    address: str = "Hauptstr. 5, 10115 Berlin",
    status: CompanyStatus = CompanyStatus.active,
) -> RegistryRecord:
    return RegistryRecord(RegistryAnswer.found, name=name, address=address, status=status)


def test_a_register_name_written_differently_is_the_same_company() -> None:
    outcome = company_registry_check(registered(), COMPANY, RULES, "the register")
    assert outcome.status == CheckStatus.passed
    assert (outcome.evidence["name_score"], outcome.evidence["address_score"]) == (100, 100)


def test_another_name_in_the_register_needs_review_with_both_names_and_the_score() -> None:
    record = registered(name="Elektro Handel Süd AG")
    outcome = company_registry_check(record, COMPANY, RULES, "the register")
    assert outcome.status == CheckStatus.needs_review
    assert outcome.evidence["mismatched"] == ["name"]
    assert outcome.evidence["registered_name"] == "Elektro Handel Süd AG"
    assert outcome.evidence["application_name"] == "Refurb Werk GmbH"
    assert outcome.evidence["name_score"] < RULES.name_match_min_score
    assert "name" in outcome.detail


def test_another_address_in_the_register_needs_review() -> None:
    record = registered(address="Ringstraße 1, 50667 Köln")
    outcome = company_registry_check(record, COMPANY, RULES, "the register")
    assert (outcome.status, outcome.evidence["mismatched"]) == (
        CheckStatus.needs_review,
        ["address"],
    )


def test_a_dissolved_company_fails_even_under_its_own_name() -> None:
    record = registered(status=CompanyStatus.dissolved)
    outcome = company_registry_check(record, COMPANY, RULES, "the register")
    assert outcome.status == CheckStatus.failed
    assert "dissolved" in outcome.detail
    assert not not_in_register(outcome), "dissolved is not the applicant's to correct"


def test_an_unknown_number_fails_and_is_the_applicants_to_correct() -> None:
    outcome = company_registry_check(
        RegistryRecord(RegistryAnswer.not_found), COMPANY, RULES, "the register"
    )
    assert outcome.status == CheckStatus.failed
    assert not_in_register(outcome)


def test_the_threshold_is_the_policys() -> None:
    record = registered(name="Refurb Works Berlin GmbH")
    lenient = CheckRules(name_match_min_score=50)
    assert company_registry_check(record, COMPANY, RULES, "r").status == CheckStatus.needs_review
    assert company_registry_check(record, COMPANY, lenient, "r").status == CheckStatus.passed


@pytest.mark.parametrize(
    ("record", "status"),
    [
        (registered(), CheckStatus.passed),
        (registered(name="Other Trading Ltd"), CheckStatus.needs_review),
        (RegistryRecord(RegistryAnswer.not_found), CheckStatus.failed),
        (RegistryRecord(RegistryAnswer.unavailable), CheckStatus.unavailable),
    ],
)
def test_the_vat_registry_answer_is_the_check_result(
    record: RegistryRecord, status: CheckStatus
) -> None:
    outcome = vat_registry_check(record, COMPANY, RULES, "VIES")
    assert (outcome.code, outcome.status) == (CheckCode.vat_registry, status)


def test_names_are_compared_transliterated_and_without_legal_forms() -> None:
    assert name_score("Électro Reconditionné SAS", "ELECTRO RECONDITIONNE S.A.S.") == 100
    assert name_score("Sergei Ivanov", "Sergey Ivanov") > 90
    assert name_score("Refurb Werk GmbH", "Other Trading Ltd") < 50
    assert address_score("Hauptstr. 5, 10115 Berlin", "Hauptstraße 5 10115 Berlin") == 100


NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@given(st.integers(min_value=1, max_value=10_000))
def test_a_silent_register_is_asked_again_later_and_never_later_than_a_day(attempts: int) -> None:
    wait = recheck_at(RULES, attempts, NOW) - NOW
    assert timedelta(minutes=15) <= wait <= timedelta(days=1)
    assert recheck_at(RULES, attempts + 1, NOW) - NOW >= wait
