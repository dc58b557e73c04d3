"""The automated trust and safety checks of an application, each a pure function from what the
applicant gave (and what a source answered) to a result the reviewer reads (`CheckOutcome`)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from sellerflow.policy import vat
from sellerflow.policy.matching import address_score, name_score
from sellerflow.policy.model import CheckRules, add_duration
from sellerflow.registries import CompanyStatus, RegistryAnswer, RegistryRecord
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


@dataclass(frozen=True)
class CompanyFacts:
    """What the application says of the company, as the registers' answers are compared."""

    legal_name: str
    address: str | None = None


def company_registry_check(
    record: RegistryRecord, company: CompanyFacts, rules: CheckRules, source: str
) -> CheckOutcome:
    """The company register's answer on the registration number: known, active, and under the
    application's name and address."""
    code = CheckCode.company_registry
    if record.answer == RegistryAnswer.unavailable:
        return _unavailable(code, "the company register", source)
    if record.answer == RegistryAnswer.not_found:
        return CheckOutcome(code, CheckStatus.failed, NOT_IN_REGISTER, source)
    evidence = _compared(record, company, rules)
    if record.status == CompanyStatus.dissolved:
        detail = "the register lists the company as dissolved"
        return CheckOutcome(code, CheckStatus.failed, detail, source, evidence)
    return _matched(code, "the register knows the registration number", evidence, source)


NOT_IN_REGISTER = "the registration number is not in the company register"


def not_in_register(outcome: CheckOutcome) -> bool:
    """The register does not know the number: the applicant's to correct (`registry_mismatch`)."""
    return outcome.code == CheckCode.company_registry and outcome.detail == NOT_IN_REGISTER


def vat_registry_check(
    record: RegistryRecord, company: CompanyFacts, rules: CheckRules, source: str
) -> CheckOutcome:
    """The VAT registry's (VIES's) answer: valid, and registered to the application's company."""
    code = CheckCode.vat_registry
    if record.answer == RegistryAnswer.unavailable:
        return _unavailable(code, "the VAT registry", source)
    if record.answer == RegistryAnswer.not_found:
        detail = "the VAT registry does not know the VAT number as valid"
        return CheckOutcome(code, CheckStatus.failed, detail, source)
    evidence = _compared(record, company, rules)
    return _matched(code, "the VAT registry knows the VAT number as valid", evidence, source)


def _unavailable(code: CheckCode, who: str, source: str) -> CheckOutcome:
    detail = f"{who} did not answer; asked again later"
    return CheckOutcome(code, CheckStatus.unavailable, detail, source)


def _compared(record: RegistryRecord, company: CompanyFacts, rules: CheckRules) -> dict[str, Any]:
    """Both names and addresses and their scores, with the fields below the policy's minimum
    under `mismatched` (a field the register or the application leaves out is not compared)."""
    evidence: dict[str, Any] = {"mismatched": []}
    pairs = (
        ("name", company.legal_name, record.name, name_score, rules.name_match_min_score),
        ("address", company.address, record.address, address_score, rules.address_match_min_score),
    )
    for field_name, ours, theirs, score_of, minimum in pairs:
        if not ours or not theirs:
            continue
        score = score_of(ours, theirs)
        evidence |= {
            f"application_{field_name}": ours,
            f"registered_{field_name}": theirs,
            f"{field_name}_score": score,
            f"{field_name}_min_score": minimum,
        }
        if score < minimum:
            evidence["mismatched"].append(field_name)
    return evidence


def _matched(code: CheckCode, found: str, evidence: dict[str, Any], source: str) -> CheckOutcome:
    mismatched = evidence["mismatched"]
    if not mismatched:
        return CheckOutcome(code, CheckStatus.passed, found, source, evidence)
    scores = ", ".join(f"{f} {evidence[f'{f}_score']:g}" for f in mismatched)
    detail = f"{found}, under another {' and '.join(mismatched)} (score {scores})"
    return CheckOutcome(code, CheckStatus.needs_review, detail, source, evidence)


def recheck_at(rules: CheckRules, attempts: int, now: datetime) -> datetime:
    """When a register that has not answered `attempts` times is asked again: the first wait
    doubled each time, never longer than the longest."""
    first = add_duration(now, rules.recheck_first) - now
    longest = add_duration(now, rules.recheck_longest) - now
    doubled: timedelta = first * 2 ** min(max(attempts - 1, 0), 20)
    return now + min(doubled, longest)


def iban_format_error(iban: str | None) -> str | None:
    """The applicant's error code when the IBAN given is malformed (None: fine or none)."""
    outcome = iban_check(iban)
    return "iban_invalid" if outcome is not None and outcome.status == CheckStatus.failed else None
