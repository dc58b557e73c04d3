"""Duplicates and returning sellers: what an application shares with another application or an
offboarded seller, in the forms compared, and what that makes of the check."""

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sellerflow.policy.checks import CheckOutcome
from sellerflow.vocabulary import CheckCode, CheckStatus

SOURCE = "other applications and offboarded sellers"
# Identifiers of the company or its account: the same one with a seller offboarded for fraud is
# the banned seller coming back, whatever the name.
EXACT = frozenset({"vat_number", "registration_number", "iban"})
# Mailbox providers: many unrelated applicants share them, so their domain says nothing.
PUBLIC_MAIL_DOMAINS = frozenset(
    [
        "aol.com",
        "free.fr",
        "gmail.com",
        "gmx.at",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hotmail.com",
        "icloud.com",
        "laposte.net",
        "libero.it",
        "live.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "orange.fr",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "t-online.de",
        "web.de",
        "wanadoo.fr",
        "yahoo.com",
        "yahoo.de",
        "yahoo.fr",
        "yandex.ru",
    ]
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# What `compact` removes in SQL as well (sellerflow.services.duplicates): the same on both sides.
SEPARATORS = (" ", "-", ".", ",", "/", "(", ")", "+")


def compact(value: str | None) -> str | None:
    """Lower case without separators: "DE 1366-95976" and "de136695976" are the same."""
    if not value:
        return None
    out = value.lower()
    for separator in SEPARATORS:
        out = out.replace(separator, "")
    return out or None


def mail_domain(email: str | None) -> str | None:
    """The e-mail address's domain, unless it is a public mailbox provider's."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return None if domain in PUBLIC_MAIL_DOMAINS else domain


@dataclass(frozen=True)
class DuplicateMatch:
    """Another record sharing `fields` with the application."""

    application_id: str
    legal_name: str
    stage: str
    fields: tuple[str, ...]
    seller_id: str | None = None
    seller_status: str | None = None
    offboarded_for_fraud: bool = False


def duplicates_check(matches: Sequence[DuplicateMatch]) -> CheckOutcome:
    code = CheckCode.duplicates
    evidence = {"matches": [asdict(match) for match in matches]}
    if not matches:
        detail = "no other application or offboarded seller shares its identifiers"
        return CheckOutcome(code, CheckStatus.passed, detail, SOURCE, evidence)
    banned = [m for m in matches if m.offboarded_for_fraud and EXACT & set(m.fields)]
    if banned:
        detail = "same " + "; ".join(_named(m) for m in banned) + " (offboarded for fraud)"
        return CheckOutcome(code, CheckStatus.failed, detail, SOURCE, evidence)
    detail = "same " + "; ".join(_named(m) for m in matches)
    return CheckOutcome(code, CheckStatus.needs_review, detail, SOURCE, evidence)


def _named(match: DuplicateMatch) -> str:
    fields = ", ".join(f.replace("_", " ") for f in match.fields)
    if match.seller_id is not None:
        who = f"seller {match.seller_id} ({match.legal_name}, {match.seller_status})"
    else:
        who = f"application {match.application_id} ({match.legal_name}, {match.stage})"
    return f"{fields} as {who}"
