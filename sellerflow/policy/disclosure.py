"""What applicants and sellers are told of a staff record: the public text of each reason,
internal reason codes as a neutral text, no staff usernames, a reviewer's comment only where it
tells the applicant what to change. Staff keep the full record."""

import re
from collections.abc import Iterable

from sellerflow.vocabulary import (
    HIDDEN_REASON_CODES,
    INTERNAL_REASON_CODES,
    NEUTRAL_REASON,
    REASON_CODES,
    Decision,
)

SYSTEM_ACTOR = "system"
# The decisions whose comment is written for the applicant: what to change.
COMMENT_SHOWN = frozenset({Decision.request_changes})
# "manual suspend by ops1: ..." and "reinstate by ssm1: ..." (policy.lifecycle's summaries).
_BY_STAFF = re.compile(r"^((?:manual )?[a-z_]+) by [^\s:]+(?=: |$)")


def public_reason_codes(codes: Iterable[str]) -> list[str]:
    return [code for code in codes if code not in INTERNAL_REASON_CODES | HIDDEN_REASON_CODES]


def public_reasons(codes: Iterable[str]) -> list[str]:
    """The public text of each reason, in order, each once."""
    texts: list[str] = []
    for code in (code for code in codes if code not in HIDDEN_REASON_CODES):
        text = NEUTRAL_REASON if code in INTERNAL_REASON_CODES else REASON_CODES.get(code, code)
        if text not in texts:
            texts.append(text)
    return texts


def public_comment(decision: str, comment: str | None) -> str | None:
    return comment if decision in COMMENT_SHOWN else None


def public_reasons_text(decision: str, codes: Iterable[str], comment: str | None) -> str:
    """`policy.onboarding.reasons_text` as the applicant's notice gives it."""
    shown = public_comment(decision, comment)
    return "; ".join([*public_reasons(codes), *([shown] if shown else [])])


def public_actor(actor: str) -> str:
    """`system` for what automated means decided, `staff` for a person."""
    return actor if actor == SYSTEM_ACTOR else "staff"


def public_summary(summary: str) -> str:
    """A seller's reason record's summary without the staff member who decided it."""
    return _BY_STAFF.sub(r"\1", summary)
