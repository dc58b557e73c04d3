"""Sanctions screening: the company's and its legal representative's names against every name
and alias of the newest list, transliterated and normalised (`policy.matching`), scored by
rapidfuzz; a name scoring at least the policy's `checks.sanctions_min_score` is a hit."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from rapidfuzz import fuzz, process

from sellerflow.policy.checks import CheckOutcome
from sellerflow.policy.matching import normalised_name
from sellerflow.vocabulary import CheckCode, CheckStatus

SOURCE = "EU consolidated sanctions list"


@dataclass(frozen=True)
class ListedName:
    """One name (or alias) of a list entry, with the form it is compared in."""

    logical_id: str
    reference: str | None
    subject_type: str
    entry_name: str
    alias: str
    normalised: str


@dataclass(frozen=True)
class SanctionsHit:
    screened: str  # "company" or "legal_representative"
    name: str
    score: float
    listed: ListedName


def screen(
    subjects: Mapping[str, str | None], names: Sequence[ListedName], min_score: float
) -> list[SanctionsHit]:
    """The best-scoring listed name of each subject, when it reaches `min_score`."""
    choices = [listed.normalised for listed in names]
    hits = []
    for screened, name in subjects.items():
        if not name:
            continue
        best = process.extractOne(
            normalised_name(name), choices, scorer=fuzz.token_sort_ratio, score_cutoff=min_score
        )
        if best is not None:
            _, score, index = best
            hits.append(SanctionsHit(screened, name, round(score, 1), names[index]))
    return hits


def sanctions_check(
    hits: Sequence[SanctionsHit], list_loaded: str | None, min_score: float
) -> CheckOutcome:
    """`list_loaded` names the list screened against (None: none loaded, so unscreened)."""
    code = CheckCode.sanctions
    if list_loaded is None:
        detail = "no sanctions list loaded: not screened (python -m sellerflow.cli.sanctions load)"
        return CheckOutcome(code, CheckStatus.unavailable, detail, SOURCE)
    source = f"{SOURCE} ({list_loaded})"
    evidence = {"min_score": min_score, "hits": [asdict(hit) for hit in hits]}
    if not hits:
        return CheckOutcome(code, CheckStatus.passed, "no name on the list", source, evidence)
    named = "; ".join(
        f"{h.screened.replace('_', ' ')} {h.name!r} ~ {h.listed.alias!r}"
        f" ({h.listed.reference or h.listed.logical_id}, score {h.score:g})"
        for h in hits
    )
    return CheckOutcome(code, CheckStatus.needs_review, f"on the list: {named}", source, evidence)
