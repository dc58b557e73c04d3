"""The automated checks' results from what the applicant gave: VAT number and IBAN by their
check digits (python-stdnum), the company register's answer."""

import pytest

from sellerflow.policy.checks import (
    company_registry_check,
    iban_check,
    iban_format_error,
    vat_number_check,
)
from sellerflow.registry import RegistryAnswer
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
    outcome = company_registry_check(answer, "the register")
    assert (outcome.code, outcome.status, outcome.source) == (
        CheckCode.company_registry,
        status,
        "the register",
    )
