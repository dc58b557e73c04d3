"""The seller workflow's carried state, the effects the lifecycle rules ask for, and the
reason record every status change stores."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sellerflow.policy.model import Capabilities, Policy
from sellerflow.vocabulary import (
    Decision,
    NoticeDecision,
    RenewalStatus,
    SellerActionKind,
    SellerStatus,
    Standing,
    TaskKind,
)

TASK_NAMESPACE = uuid.UUID("5d3a3f0e-3b7e-4c55-9d8e-6a1b2c3d4e5f")


def task_id_for(workflow_key: str, task_key: str) -> str:
    """Deterministic task id, so a retried activity or replayed workflow opens the same task."""
    return str(uuid.uuid5(TASK_NAMESPACE, f"{workflow_key}:{task_key}"))


class ReasonRecord(BaseModel):
    """Why a seller's status changed: the KPI, its value, the threshold, the window, evidence."""

    model_config = ConfigDict(frozen=True)
    summary: str
    kpi: str | None = None
    value: float | None = None
    threshold: float | None = None
    window_days: int | None = None
    sample: int | None = None
    evidence: list[str] = []
    # The kind of clause the decision rests on, where the rule knows it (`policy.notices`).
    ground: str | None = None


class MysteryOrder(BaseModel):
    key: str
    due_at: datetime
    task_id: str | None = None
    outcome: Decision | None = None


class Renewal(BaseModel):
    """A document on file the seller renews before it stops being valid (rules 5)."""

    kind: str
    # Until when the document on file is valid, and when its renewal is asked and reminded.
    valid_until: datetime
    ask_at: datetime
    remind_at: datetime
    # How many times this kind was renewed: keys the renewal's records and tasks.
    round: int = 0
    asked: bool = False
    reminded: bool = False
    # It stopped being valid before a new file was accepted: the seller is held limited.
    lapsed: bool = False
    submissions: int = 0
    # The new file a reviewer is checking, and until when it would be valid.
    review_task: str | None = None
    offered_document: str | None = None
    offered_until: datetime | None = None


class OpenTaskEffect(BaseModel):
    model_config = ConfigDict(frozen=True)
    task_id: str
    kind: TaskKind
    due_at: datetime
    note: str = ""


class StatusEffect(BaseModel):
    """Move the seller to a status: capabilities, reason record and notice go with it."""

    model_config = ConfigDict(frozen=True)
    status: SellerStatus
    action: SellerActionKind | None
    capabilities: Capabilities
    reason: ReasonRecord
    actor: str = "system"
    notice_ends_at: datetime | None = None
    improve_by: datetime | None = None
    # Until when the seller may appeal this change (its appeal window), None when it may not.
    appeal_by: datetime | None = None


class EscalateEffect(BaseModel):
    model_config = ConfigDict(frozen=True)
    task_id: str


class NoticeEffect(BaseModel):
    model_config = ConfigDict(frozen=True)
    template: str
    reason: ReasonRecord
    actor: str = "system"
    # When what it announces takes effect or ends (the notice period, the extended trial).
    ends_at: datetime | None = None
    appeal_by: datetime | None = None


class RenewalEffect(BaseModel):
    """Record where a renewal stands, for the seller's portal and the staff pages."""

    model_config = ConfigDict(frozen=True)
    kind: str
    round: int
    status: RenewalStatus
    valid_until: datetime
    document_id: str | None = None
    actor: str = "system"
    # Why a new file was refused, for the seller.
    note: str = ""


class CancelTasksEffect(BaseModel):
    """Close tasks nobody needs to decide any more (an appeal withdrawn, a seller offboarded)."""

    model_config = ConfigDict(frozen=True)
    task_ids: list[str]


Effect = (
    OpenTaskEffect
    | StatusEffect
    | NoticeEffect
    | EscalateEffect
    | CancelTasksEffect
    | RenewalEffect
)

# The lifecycle rules a state follows. Runs started before the rules of version 2 replay with
# version 1 (the workflow sets it when its history has no marker of the change); see
# `workflows.seller`. Version 1 is kept only for those replays. Version 3: a limit and an
# offboarding notice may be appealed too, not only a suspension. Version 4: while an appeal
# against a limit or an offboarding notice is under review, the restriction does not run its
# course (the improvement period's end, the notice's end wait for the decision). Version 5:
# documents on file are renewed before they stop being valid, or the seller is limited.
CURRENT_RULES = 5


class SellerState(BaseModel):
    """Everything the seller workflow carries across continue-as-new."""

    seller_id: str
    rules: int = CURRENT_RULES
    status: SellerStatus = SellerStatus.trial
    trial_ends_at: datetime
    trial_extended: bool = False
    trial_review_task: str | None = None
    trial_reviews: int = 0
    mystery_orders: list[MysteryOrder] = []
    blockers: int = 0
    blocker_fix_until: datetime | None = None
    standing: Standing = Standing.good
    # The KPI facts behind the standing, cited when the ladder climbs at a deadline.
    breaches: list[ReasonRecord] = Field(default_factory=list)
    improve_by: datetime | None = None
    suspended_at: datetime | None = None
    # The status a suspension interrupted: a trial seller reinstated goes back to its trial.
    suspended_from: SellerStatus | None = None
    suspensions: int = 0
    appeal_task: str | None = None
    # The restriction the open appeal is against (rules 3; a suspension before).
    appeal_against: NoticeDecision | None = None
    # The suspension's appeal window: when it lapses with no appeal, the notice is given.
    appeal_deadline: datetime | None = None
    # Until when the limit or the offboarding notice in force may be appealed (rules 3).
    appeal_open_until: datetime | None = None
    # The restriction in force was appealed and the appeal decided: it takes no second one.
    appealed: bool = False
    probation_until: datetime | None = None
    notice_ends_at: datetime | None = None
    notice_given_at: datetime | None = None
    seen_events: list[str] = Field(default_factory=list)
    open_tasks: dict[str, TaskKind] = Field(default_factory=dict)
    task_due: dict[str, datetime] = Field(default_factory=dict)
    escalated: list[str] = Field(default_factory=list)
    # Rules 5: the documents on file the seller renews (`policy.renewals`).
    renewals: list[Renewal] = Field(default_factory=list)
    # The limit in force was set because a document lapsed: its renewal lifts it.
    limited_for_documents: bool = False

    @model_validator(mode="before")
    @classmethod
    def _count_earlier_reviews(cls, data: Any) -> Any:
        # A state saved before `trial_reviews` existed: the reviews it opened so far.
        if isinstance(data, dict) and "trial_reviews" not in data:
            opened = int(bool(data.get("trial_extended"))) + int(
                bool(data.get("trial_review_task"))
            )
            data = {**data, "trial_reviews": opened}
        return data

    def remember(self, event_id: str, keep: int = 200) -> bool:
        """Record an event id; False if it was seen already (signals deduplicated across runs)."""
        if event_id in self.seen_events:
            return False
        self.seen_events = [*self.seen_events, event_id][-keep:]
        return True

    @property
    def finished(self) -> bool:
        return self.status == SellerStatus.offboarded

    @property
    def legacy(self) -> bool:
        """Replaying a run started under the rules before version 2."""
        return self.rules < 2

    @property
    def appeals_any_restriction(self) -> bool:
        """Rules 3: a limit and an offboarding notice may be appealed, not only a suspension."""
        return self.rules >= 3

    @property
    def holds_under_appeal(self) -> bool:
        """Rules 4: a limit or a notice under appeal waits for the review before it runs on."""
        return self.rules >= 4

    @property
    def renews_documents(self) -> bool:
        """Rules 5: documents on file are asked for again before they stop being valid."""
        return self.rules >= 5

    @property
    def selling_freely(self) -> bool:
        """Active or warned: no caps beyond what every seller has."""
        return self.status in (SellerStatus.active, SellerStatus.warned)

    @property
    def in_trial(self) -> bool:
        """In the trial, or suspended during it (the trial then waits for the reinstatement)."""
        return self.status == SellerStatus.trial or (
            self.status == SellerStatus.suspended and self.suspended_from == SellerStatus.trial
        )


def capabilities_for(policy: Policy, status: SellerStatus) -> Capabilities:
    if status == SellerStatus.trial:
        return policy.trial.capabilities
    if status in (SellerStatus.active, SellerStatus.warned):
        return Capabilities(listing_cap=None, daily_order_cap=None, payouts_deferred=False)
    if status == SellerStatus.limited:
        return policy.limited
    return Capabilities(listing_cap=0, daily_order_cap=0, payouts_deferred=True)


# Where each status may move; `offboarded` is final. A reinstated trial seller returns to trial.
LADDER: dict[SellerStatus, frozenset[SellerStatus]] = {
    SellerStatus.trial: frozenset(
        {SellerStatus.active, SellerStatus.suspended, SellerStatus.offboarded}
    ),
    SellerStatus.active: frozenset(
        {SellerStatus.warned, SellerStatus.limited, SellerStatus.suspended, SellerStatus.offboarded}
    ),
    SellerStatus.warned: frozenset(
        {SellerStatus.active, SellerStatus.limited, SellerStatus.suspended, SellerStatus.offboarded}
    ),
    SellerStatus.limited: frozenset(
        {SellerStatus.active, SellerStatus.warned, SellerStatus.suspended, SellerStatus.offboarded}
    ),
    SellerStatus.suspended: frozenset(
        {SellerStatus.active, SellerStatus.trial, SellerStatus.offboarded}
    ),
    SellerStatus.offboarded: frozenset(),
}

RESTRICTIONS = frozenset(
    {
        SellerActionKind.warn,
        SellerActionKind.limit,
        SellerActionKind.suspend,
        SellerActionKind.offboard,
    }
)
NOTICE_TEMPLATES = {
    SellerActionKind.warn: "warned",
    SellerActionKind.limit: "limited",
    SellerActionKind.suspend: "suspended",
    SellerActionKind.reinstate: "reinstated",
    SellerActionKind.offboard: "offboarded",
}


# Notices a seller must receive before or as a restriction takes effect (P2B art. 4): the outbox
# keeps trying to deliver them however long the mail server refuses; other messages give up.
# The notices the law requires: the outbox sweeper never gives up on them. A change of the
# rules is announced with notice too (P2B art. 3: `policy_change`).
LEGAL_NOTICES = frozenset(
    {"warned", "limited", "suspended", "offboarding_notice", "offboarded", "policy_change"}
)


def notice_template(effect: StatusEffect, from_status: SellerStatus) -> str:
    """The message a status change sends the seller (stored with the change, in one step)."""
    if effect.action is not None:
        return NOTICE_TEMPLATES[effect.action]
    if from_status == SellerStatus.trial:
        return "trial_passed"
    return "recovered"
