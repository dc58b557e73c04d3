"""Inputs and results of every workflow, update, signal, query and activity. Ids, never files."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sellerflow.policy.kpis import ScorecardEntry
from sellerflow.policy.model import Capabilities, Policy, SharedPolicy
from sellerflow.policy.seller_state import (
    NoticeEffect,
    ReasonRecord,
    RenewalEffect,
    SellerState,
    StatusEffect,
)
from sellerflow.vocabulary import (
    Decision,
    NoticeDecision,
    SellerActionKind,
    SellerStatus,
    Stage,
    Standing,
    TaskKind,
)


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- onboarding workflow -------------------------------------------------------------------


class OnboardingInput(Payload):
    application_id: str
    policy: SharedPolicy


class OnboardingResult(Payload):
    stage: Stage
    seller_id: str | None = None


class SubmitInput(Payload):
    actor: str = "applicant"


class WithdrawInput(Payload):
    actor: str = "applicant"
    reason: str = ""


class DocumentVerdict(Payload):
    document_id: str
    accepted: bool
    error_code: str | None = None


class CompleteTaskInput(Payload):
    task_id: str
    actor: str
    decision: Decision
    reason_codes: list[str] = []
    comment: str = ""
    document_verdicts: list[DocumentVerdict] = []
    checklist: dict[str, Any] = {}
    # The checks approved over (`check_overridden`), named in the decision's audit entry.
    overridden_checks: list[str] = []


class TaskOutcome(Payload):
    task_id: str
    decision: Decision
    state: str = Field(description="the application stage or seller status after the decision")


class OnboardingState(Payload):
    stage: Stage
    open_task_id: str | None
    open_task_kind: TaskKind | None
    deadline: datetime | None
    policy_version: str


# --- seller workflow ---------------------------------------------------------------------


class StandingChangedInput(Payload):
    event_id: str
    standing: Standing
    reasons: list[ReasonRecord] = []


class AppealFiledInput(Payload):
    appeal_id: str
    # The restriction the appeal's notice announced; None (before rules 3): whichever is open.
    against: NoticeDecision | None = None


class AppealWithdrawnInput(Payload):
    appeal_id: str
    actor: str = "seller"


class ManualActionInput(Payload):
    request_id: str
    action: SellerActionKind
    actor: str
    reason: str
    fraud: bool = False


class RenewalSubmittedInput(Payload):
    """A new file of a renewed document, uploaded and checked: a reviewer is to decide it."""

    document_id: str
    kind: str
    # Until when the new document would be valid (`policy.renewals.valid_until`).
    valid_until: datetime
    actor: str = "seller"


class PolicyChangedInput(Payload):
    """A rollout's switch of a seller workflow to a new policy version (`event_id` names the
    rollout: the same switch twice is taken once)."""

    version: str
    policy: SharedPolicy
    event_id: str


class RecordPolicySwitchInput(Payload):
    seller_id: str
    from_version: str
    to_version: str
    event_id: str
    at: datetime


class CarriedMessage(Payload):
    """A message a run received by signal and left to the next one: one field is set."""

    decision: CompleteTaskInput | None = None
    standing: StandingChangedInput | None = None
    appeal_filed: AppealFiledInput | None = None
    appeal_withdrawn: AppealWithdrawnInput | None = None
    manual_action: ManualActionInput | None = None
    renewal: RenewalSubmittedInput | None = None
    policy_changed: PolicyChangedInput | None = None


class SellerInput(Payload):
    seller_id: str
    application_id: str
    policy: SharedPolicy
    state: SellerState | None = None
    # The trial-started notice, when the onboarding's account move stored it: the first run
    # only delivers it.
    trial_notice_key: str | None = None
    # Messages the run before received and left, oldest first: they come before any other.
    carried: list[CarriedMessage] = []


class SellerView(Payload):
    status: SellerStatus
    trial_ends_at: datetime
    open_tasks: dict[str, TaskKind]
    improve_by: datetime | None
    notice_ends_at: datetime | None
    standing: Standing = Standing.good
    # Messages checked again when applied and refused then, newest last (this run only).
    refused: list[str] = []
    # The policy version the workflow runs under (None: asked of a worker from before).
    policy_version: str | None = None


# --- evaluation workflow ------------------------------------------------------------------


class EvaluationProgress(Payload):
    """Where an evaluation stands when it continues as new between chunks."""

    evaluation_id: str
    as_of: datetime
    category_means: dict[str, dict[str, float]]
    after_seller_id: str
    scored: int
    changed: int


class EvaluationInput(Payload):
    policy: SharedPolicy
    evaluation_id: str | None = None
    progress: EvaluationProgress | None = None


class EvaluationResult(Payload):
    evaluation_id: str
    sellers_scored: int
    standing_changes: int
    # Set when this evaluation did not run because another one was running.
    skipped_for: str | None = None


class BeginEvaluationInput(Payload):
    evaluation_id: str
    at: datetime


class BeginEvaluationResult(Payload):
    """None: this evaluation runs now; else the id of the one already running."""

    running: str | None = None


# --- activities -----------------------------------------------------------------------------


class SetStageInput(Payload):
    application_id: str
    stage: Stage
    at: datetime
    deadline: datetime | None = None
    actor: str = "system"
    reason: str = ""


class VerifyApplicationInput(Payload):
    application_id: str
    policy: Policy
    as_of: datetime


class Problem(Payload):
    code: str
    error_code: str
    reason: str


class VerifyApplicationResult(Payload):
    problems: list[Problem]


class OpenTaskInput(Payload):
    task_id: str
    kind: TaskKind
    workflow_id: str
    due_at: datetime
    application_id: str | None = None
    seller_id: str | None = None
    note: str = ""


class CloseTaskInput(Payload):
    decision: CompleteTaskInput
    at: datetime


class EscalateTaskInput(Payload):
    task_id: str
    at: datetime


class CancelTasksInput(Payload):
    workflow_id: str
    at: datetime
    task_ids: list[str] | None = Field(default=None, description="only these; None: every one")


class RecordRefusalInput(Payload):
    """A message the seller workflow accepted but refused when it came to apply it."""

    seller_id: str
    key: str
    message: str
    code: str
    detail: str
    actor: str
    at: datetime


class RecordStandingInput(Payload):
    seller_id: str
    standing: Standing
    at: datetime


class ApplyVerdictsInput(Payload):
    application_id: str
    verdicts: list[DocumentVerdict]
    accept_rest: bool


class NotifyInput(Payload):
    template: str
    key: str = Field(description="idempotency key: the same key never sends twice")
    application_id: str | None = None
    seller_id: str | None = None
    context: dict[str, Any] = {}
    # A lifecycle notice (offboarding notice, trial extension): its statement of reasons is
    # stored with the message. `at` is when the workflow gave it.
    notice: NoticeEffect | None = None
    at: datetime | None = None


# Outbox ids derive from the idempotency key, so a workflow knows which row to deliver
# (even rows that another activity stored, like a seller's status notice) without a lookup.
OUTBOX_NAMESPACE = uuid.UUID("6f1c3c1e-3a8e-4f43-9a55-0b1f3e2f9d10")


def notification_id(key: str) -> str:
    return str(uuid.uuid5(OUTBOX_NAMESPACE, key))


class DeliverNotificationInput(Payload):
    notification_id: str


class SweepOutboxInput(Payload):
    """Deliver what is still unsent `older_than` after it was stored, at most `limit` rows."""

    at: datetime
    older_than: timedelta = timedelta(minutes=5)
    give_up_after: timedelta = timedelta(hours=24)
    limit: int = 500


class RecheckChecksInput(Payload):
    """Ask the registers again for at most `limit` checks they left unavailable."""

    at: datetime
    limit: int = 200


class RecheckChecksResult(Payload):
    asked: int
    still_unavailable: int


class StartLostOnboardingsInput(Payload):
    at: datetime
    older_than: timedelta = timedelta(minutes=2)
    limit: int = 500


class RetentionInput(Payload):
    """Erase at most `limit` applications past their retention period at `at` (the next run
    takes the rest), then remove the stray uploads."""

    at: datetime
    limit: int = 500


class RetentionResult(Payload):
    erased: int
    # Erasures that raised (logged; the next run tries them again).
    failed: int = 0
    objects_deleted: int
    stray_uploads_removed: int


class SweepOutboxResult(Payload):
    sent: int
    failed: int
    gave_up: int


class SetupAccountInput(Payload):
    application_id: str
    ssm_username: str
    capabilities: Capabilities
    at: datetime
    trial_ends_at: datetime | None = None


class SetupAccountResult(Payload):
    seller_id: str


class TransitionInput(Payload):
    """One move of an application, written in one database transaction, in this order: the
    decided task closed, the review's verdicts recorded, the open tasks cancelled, the stages
    entered, the seller account created, the next task opened, the notices stored. Each part is
    idempotent, so a retry of a committed transition changes nothing. `check`: the automated
    checks run once the move is written (the move into `verifying`); they need S3 and the
    registry, so a retry waits for them without writing the move again."""

    close: CloseTaskInput | None = None
    verdicts: ApplyVerdictsInput | None = None
    cancel: CancelTasksInput | None = None
    stages: list[SetStageInput] = []
    account: SetupAccountInput | None = None
    open: OpenTaskInput | None = None
    notices: list[NotifyInput] = []
    check: VerifyApplicationInput | None = None


class TransitionResult(Payload):
    seller_id: str | None = None
    problems: list[Problem] = Field(default=[], description="what the checks found (`check`)")


class ApplySellerStatusInput(Payload):
    seller_id: str
    key: str
    from_status: SellerStatus
    effect: StatusEffect
    at: datetime


class DocumentsOnFileInput(Payload):
    seller_id: str
    policy: Policy


class DocumentOnFile(Payload):
    kind: str
    valid_until: datetime


class DocumentsOnFile(Payload):
    documents: list[DocumentOnFile]


class RecordRenewalInput(Payload):
    seller_id: str
    effect: RenewalEffect
    at: datetime


class TrialSnapshotInput(Payload):
    seller_id: str
    policy: Policy
    as_of: datetime


class TrialSnapshot(Payload):
    entries: list[ScorecardEntry]
    eventually_due_satisfied: bool


class CategoryMeansInput(Payload):
    evaluation_id: str
    policy: Policy
    as_of: datetime


class ScoreChunkInput(Payload):
    evaluation_id: str
    policy: Policy
    as_of: datetime
    after_seller_id: str | None
    limit: int
    category_means: dict[str, dict[str, float]]


class StandingChange(Payload):
    seller_id: str
    standing: Standing
    reasons: list[ReasonRecord]


class ScoreChunkResult(Payload):
    last_seller_id: str | None
    scored: int
    changes: list[StandingChange]


class RankSellersInput(Payload):
    evaluation_id: str
    policy: Policy


class FinishEvaluationInput(Payload):
    evaluation_id: str
    sellers_scored: int
    standing_changes: int
    at: datetime
