"""The automated trust and safety checks of an application, each a pure function from what the
applicant gave (and what a source answered) to a result the reviewer reads (`CheckOutcome`)."""

from dataclasses import dataclass, field
from typing import Any

from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from sellerflow.policy import vat
from sellerflow.registry import RegistryAnswer
from sellerflow.vocabulary import CheckCode, CheckStatus

# Where each check's result comes from, as the reviewer reads it.
STDNUM_SOURCE = "python-stdnum check digits"


@dataclass(frozen=True)
class CheckOutcome:
    code: CheckCode
    status: CheckStatus
    detail: str
    source: str
    evidence: dict[str, Any] = field(default_factory=dict)


def vat_number_check(country: str, vat_number: str | None) -> CheckOutcome | None:
    """The VAT number's prefix, format and check digits (None: no VAT number to check)."""
    if not vat_number:
        return None
    if vat.is_valid(country, vat_number):
        return CheckOutcome(
            CheckCode.vat_number,
            CheckStatus.passed,
            f"well-formed VAT number of {country}",
            STDNUM_SOURCE,
        )
    return CheckOutcome(
        CheckCode.vat_number,
        CheckStatus.failed,
        f"not a valid VAT number of {country} (prefix {vat.prefix_for(country)}, format or check"
        " digits)",
        STDNUM_SOURCE,
    )


def iban_check(iban: str | None) -> CheckOutcome | None:
    """The IBAN's country format and its ISO 7064 check digits (None: no IBAN given). The
    detail names the country and the last four characters only, never the whole number."""
    if not iban:
        return None
    try:
        number = stdnum_iban.validate(iban)
    except ValidationError as err:
        return CheckOutcome(
            CheckCode.iban, CheckStatus.failed, f"not a valid IBAN: {err}", STDNUM_SOURCE
        )
    return CheckOutcome(
        CheckCode.iban,
        CheckStatus.passed,
        f"well-formed IBAN of {number[:2]} ending {number[-4:]}",
        STDNUM_SOURCE,
    )


def company_registry_check(answer: RegistryAnswer, source: str) -> CheckOutcome:
    """The company register's answer on the registration number."""
    status, detail = {
        RegistryAnswer.found: (CheckStatus.passed, "the register knows the registration number"),
        RegistryAnswer.not_found: (
            CheckStatus.failed,
            "the registration number is not in the company register",
        ),
        RegistryAnswer.unavailable: (
            CheckStatus.unavailable,
            "the company register did not answer; asked again later",
        ),
    }[answer]
    return CheckOutcome(CheckCode.company_registry, status, detail, source)


def iban_format_error(iban: str | None) -> str | None:
    """The applicant's error code when the IBAN given is malformed (None: fine or none)."""
    outcome = iban_check(iban)
    return "iban_invalid" if outcome is not None and outcome.status == CheckStatus.failed else None
