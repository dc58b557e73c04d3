"""The seller workflow's carried state, the effects the lifecycle rules ask for, and the
reason record every status change stores."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sellerflow.policy.model import Capabilities, Policy
from sellerflow.vocabulary import Decision, SellerActionKind, SellerStatus, Standing, TaskKind

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
    evidence: list[str] = []


class MysteryOrder(BaseModel):
    key: str
    due_at: datetime
    task_id: str | None = None
    outcome: Decision | None = None


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


class EscalateEffect(BaseModel):
    model_config = ConfigDict(frozen=True)
    task_id: str


class NoticeEffect(BaseModel):
    model_config = ConfigDict(frozen=True)
    template: str
    reason: ReasonRecord


Effect = OpenTaskEffect | StatusEffect | NoticeEffect | EscalateEffect


class SellerState(BaseModel):
    """Everything the seller workflow carries across continue-as-new."""

    seller_id: str
    status: SellerStatus = SellerStatus.trial
    trial_ends_at: datetime
    trial_extended: bool = False
    trial_review_task: str | None = None
    mystery_orders: list[MysteryOrder] = []
    blockers: int = 0
    blocker_fix_until: datetime | None = None
    standing: Standing = Standing.good
    improve_by: datetime | None = None
    suspended_at: datetime | None = None
    suspensions: int = 0
    appeal_task: str | None = None
    appeal_deadline: datetime | None = None
    probation_until: datetime | None = None
    notice_ends_at: datetime | None = None
    seen_events: list[str] = Field(default_factory=list)
    open_tasks: dict[str, TaskKind] = Field(default_factory=dict)
    task_due: dict[str, datetime] = Field(default_factory=dict)
    escalated: list[str] = Field(default_factory=list)

    def remember(self, event_id: str, keep: int = 200) -> bool:
        """Record an event id; False if it was seen already (signals deduplicated across runs)."""
        if event_id in self.seen_events:
            return False
        self.seen_events = [*self.seen_events, event_id][-keep:]
        return True

    @property
    def finished(self) -> bool:
        return self.status == SellerStatus.offboarded


def capabilities_for(policy: Policy, status: SellerStatus) -> Capabilities:
    if status == SellerStatus.trial:
        return policy.trial.capabilities
    if status in (SellerStatus.active, SellerStatus.warned):
        return Capabilities(listing_cap=None, daily_order_cap=None, payouts_deferred=False)
    if status == SellerStatus.limited:
        return policy.limited
    return Capabilities(listing_cap=0, daily_order_cap=0, payouts_deferred=True)
