"""The statement of reasons every restriction of a seller gets, at or before it takes effect
(DSA art. 17, P2B art. 4): what is decided, what it restricts and for how long, the facts, whether
automated means detected and decided it, the clause it rests on, and how to contest it.

Pure: the seller activities build one from the effect the lifecycle returned and store it with
the status change and its e-mail, in one transaction; the e-mail's text is `statement_text`."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from sellerflow.policy.disclosure import SYSTEM_ACTOR, public_summary
from sellerflow.policy.model import Capabilities
from sellerflow.policy.seller_state import NoticeEffect, ReasonRecord, StatusEffect
from sellerflow.vocabulary import NoticeDecision, SellerActionKind

# The clause of the Terms or the Quality Charter each kind of ground refers to (the texts are in
# templates/agreements). A rule that knows its ground names it on the reason record; otherwise a
# KPI fact is a performance ground and a termination rests on the termination clause.
GROUNDS: dict[str, str] = {
    "performance": (
        "Terms §5 (Performance): a seller whose figures cross the published thresholds may be "
        "warned, limited or suspended"
    ),
    "mystery_orders": (
        "Quality Charter: the seller accepts mystery orders by the quality lab and fixes any "
        "finding within 15 days"
    ),
    "trial": "Terms §5 (Performance), applied to the trial's targets",
    "obligations": (
        "Terms §2-§4 (Listings, Orders, Warranty): the seller's obligations, as the reason states"
    ),
    "documents": (
        "Terms §3 (Seller information): the seller keeps the documents it was vetted on valid "
        "for as long as it sells, and renews them when asked"
    ),
    "termination": "Terms §6 (Termination): the partnership ends after notice",
    "fraud": "Terms §6 (Termination): fraud ends the partnership without notice",
}

# Out-of-court mediation (P2B art. 12), offered with every notice.
MEDIATOR = (
    "Out-of-court mediation with the mediators named in the Terms (P2B art. 12); the "
    "marketplace pays a reasonable share of its cost."
)
_APPEAL_HOW = (
    "Appeal on the seller portal (/seller, Appeals) or with POST /v1/sellers/<seller id>/appeals: "
    "a plan of action (root cause, actions taken, prevention) and evidence. A person other than "
    "the one who decided reviews it and gives reasons."
)
_NO_APPEAL = (
    "This decision opens no appeal of its own; contest it with your Seller Success Manager "
    "(internal complaint handling, P2B art. 11), or appeal if it leads to a suspension."
)

DECISION_OF_ACTION: dict[SellerActionKind, NoticeDecision] = {
    SellerActionKind.warn: NoticeDecision.warn,
    SellerActionKind.limit: NoticeDecision.limit,
    SellerActionKind.suspend: NoticeDecision.suspend,
    SellerActionKind.offboard: NoticeDecision.offboard,
}
# The restrictions an appeal may be filed against (rules 3; only a suspension before).
APPEALABLE_NOTICES = frozenset(
    {NoticeDecision.limit, NoticeDecision.suspend, NoticeDecision.offboard_notice}
)
DECISION_OF_TEMPLATE: dict[str, NoticeDecision] = {
    "offboarding_notice": NoticeDecision.offboard_notice,
    "trial_extended": NoticeDecision.trial_extend,
}


class Automation(BaseModel):
    model_config = ConfigDict(frozen=True)
    detected: bool
    decided: bool


class Ground(BaseModel):
    model_config = ConfigDict(frozen=True)
    clause: str
    text: str


class Redress(BaseModel):
    model_config = ConfigDict(frozen=True)
    appeal: bool
    appeal_by: datetime | None
    how: str
    mediator: str = MEDIATOR


class Scope(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str
    listing_cap: int | None = None
    daily_order_cap: int | None = None
    payouts_deferred: bool | None = None


class Statement(BaseModel):
    """A notice as the seller reads it; `actor` is for staff only (`policy.disclosure`)."""

    model_config = ConfigDict(frozen=True)
    decision: NoticeDecision
    scope: Scope
    starts_at: datetime
    ends_at: datetime | None
    # The reason records the decision rests on.
    facts: list[ReasonRecord]
    automated: Automation
    ground: Ground
    redress: Redress
    issued_at: datetime
    actor: str


def ground_of(decision: NoticeDecision, reason: ReasonRecord) -> str:
    if reason.ground in GROUNDS:
        return reason.ground
    if reason.kpi is not None:
        return "performance"
    if decision in (NoticeDecision.offboard_notice, NoticeDecision.offboard):
        return "termination"
    return "obligations"


def _caps(capabilities: Capabilities) -> str:
    parts = []
    if capabilities.listing_cap is not None:
        parts.append(f"at most {capabilities.listing_cap} listings")
    if capabilities.daily_order_cap is not None:
        parts.append(f"at most {capabilities.daily_order_cap} orders a day")
    if capabilities.payouts_deferred:
        parts.append("payouts deferred")
    return ", ".join(parts) or "no caps"


def _scope(decision: NoticeDecision, capabilities: Capabilities | None) -> Scope:
    texts = {
        NoticeDecision.warn: "No restriction yet: the KPIs named below must recover by the end "
        "date, or the account will be limited.",
        NoticeDecision.suspend: "Listings offline, no new orders, payouts held.",
        NoticeDecision.offboard_notice: "The partnership ends on the end date; until then the "
        "account works as it does now.",
        NoticeDecision.offboard: "The account is closed: listings removed, no new orders.",
        NoticeDecision.trial_extend: "The trial continues until the end date, with its caps.",
    }
    if capabilities is None:
        return Scope(text=texts.get(decision, ""))
    text = texts.get(decision) or f"Limited: {_caps(capabilities)}."
    return Scope(
        text=text,
        listing_cap=capabilities.listing_cap,
        daily_order_cap=capabilities.daily_order_cap,
        payouts_deferred=capabilities.payouts_deferred,
    )


def statement(
    decision: NoticeDecision,
    reason: ReasonRecord,
    *,
    actor: str,
    at: datetime,
    capabilities: Capabilities | None = None,
    ends_at: datetime | None = None,
    appeal_by: datetime | None = None,
) -> Statement:
    ground = ground_of(decision, reason)
    decided = actor == SYSTEM_ACTOR
    return Statement(
        decision=decision,
        scope=_scope(decision, capabilities),
        starts_at=at,
        ends_at=ends_at,
        facts=[reason],
        automated=Automation(
            detected=reason.kpi is not None or (decided and ground != "mystery_orders"),
            decided=decided,
        ),
        ground=Ground(clause=ground, text=GROUNDS[ground]),
        redress=Redress(
            appeal=appeal_by is not None,
            appeal_by=appeal_by,
            how=_APPEAL_HOW if appeal_by is not None else _NO_APPEAL,
        ),
        issued_at=at,
        actor=actor,
    )


def of_status_change(effect: StatusEffect, at: datetime) -> Statement | None:
    """The statement of a status change that restricts; None for one that restricts nothing."""
    decision = DECISION_OF_ACTION.get(effect.action) if effect.action else None
    if decision is None:
        return None
    return statement(
        decision,
        effect.reason,
        actor=effect.actor,
        at=at,
        capabilities=effect.capabilities,
        # A warning or a limit runs for its improvement period; then the ladder moves.
        # A limit for a lapsed document lasts until it is renewed: no date.
        ends_at=effect.improve_by
        if decision in _FOR_A_PERIOD and effect.reason.ground != "documents"
        else None,
        appeal_by=effect.appeal_by,
    )


def of_notice(template: str, effect: NoticeEffect, at: datetime) -> Statement | None:
    """The statement of a lifecycle notice (offboarding notice, trial extension), else None."""
    decision = DECISION_OF_TEMPLATE.get(template)
    if decision is None:
        return None
    return statement(
        decision,
        effect.reason,
        actor=effect.actor,
        at=at,
        ends_at=effect.ends_at,
        appeal_by=effect.appeal_by,
    )


_FOR_A_PERIOD = frozenset({NoticeDecision.warn, NoticeDecision.limit})


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def _fact_text(fact: ReasonRecord) -> str:
    text = public_summary(fact.summary)
    if fact.kpi is not None and fact.value is not None:
        measured = f"{fact.kpi} {fact.value:.4g} against a threshold of {fact.threshold:g}"
        text += f" ({measured}, over {fact.window_days} days, {fact.sample} orders)"
    return text


def statement_text(notice: Statement) -> str:
    """The statement as the seller's e-mail gives it: the same fields as the portal."""
    lines = [
        f"Decision: {notice.decision.value}, from {_when(notice.starts_at)}"
        + (f" until {_when(notice.ends_at)}" if notice.ends_at else ""),
        f"Scope: {notice.scope.text}",
        *(f"Facts: {_fact_text(fact)}" for fact in notice.facts),
        "Automated means: "
        + ("detected" if notice.automated.detected else "did not detect")
        + " this and "
        + ("decided it" if notice.automated.decided else "a person decided it"),
        f"Ground: {notice.ground.text}",
        "How to contest: "
        + (f"before {_when(notice.redress.appeal_by)}. " if notice.redress.appeal_by else "")
        + notice.redress.how,
        f"Mediation: {notice.redress.mediator}",
    ]
    return "\n".join(lines)
