"""Request and response bodies of the HTTP API."""

import uuid
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from sellerflow.payloads import CompleteTaskInput, DocumentVerdict
from sellerflow.policy.notices import Statement
from sellerflow.policy.requirements import Requirement
from sellerflow.vocabulary import (
    ISO_COUNTRIES,
    AgreementKind,
    Decision,
    DocumentKind,
    KpiStatus,
    ProductCategory,
    RenewalStatus,
    ReturnReason,
    SellerActionKind,
    SellerCategory,
)

T = TypeVar("T")


class ErrorBody(BaseModel):
    error: str = Field(examples=["NotFound"])
    detail: Any = Field(examples=["no application with this id"])


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int
    limit: int
    offset: int


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- applications -------------------------------------------------------------------------


class ApplicationCreate(Strict):
    legal_name: str = Field(min_length=1, max_length=200)
    seller_category: SellerCategory
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    registration_number: str = Field(min_length=1, max_length=64)
    vat_number: str | None = Field(default=None, max_length=32)
    contact_name: str = Field(min_length=1, max_length=200)
    contact_email: EmailStr
    product_categories: list[ProductCategory] = Field(min_length=1, max_length=5)
    iban: str | None = Field(
        default=None,
        max_length=42,
        pattern=r"^[A-Za-z0-9 ]+$",
        description="the payout account; its check digits are checked at submission",
    )
    company_address: str | None = Field(
        default=None, max_length=300, description="the registered address, as in the register"
    )
    legal_representative: str | None = Field(
        default=None, max_length=200, description="the person who represents the company"
    )
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()./-]{4,31}$")

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in ISO_COUNTRIES:
            raise ValueError(f"unknown country code {value}")
        return value

    @field_validator(
        "legal_name",
        "contact_name",
        "registration_number",
        "company_address",
        "legal_representative",
    )
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and any(ord(ch) < 32 for ch in value):
            raise ValueError("control characters are not allowed")
        return value

    def record_fields(self) -> dict[str, Any]:
        """The application's columns as the service stores them."""
        return {
            **self.model_dump(exclude={"product_categories"}),
            "product_categories": [c.value for c in self.product_categories],
        }


class DecisionPublic(BaseModel):
    task_id: str
    kind: str
    decision: str
    actor: str | None
    reason_codes: list[str]
    reasons: list[str] = Field(description="the public text of each reason")
    comment: str | None
    decided_at: datetime | None


class CheckPublic(BaseModel):
    """The newest result of one automated check, with what it was based on."""

    code: str
    status: str = Field(description="passed, failed, needs_review or unavailable")
    detail: str
    source: str
    checked_at: datetime
    evidence: dict[str, Any]


class ApplicationPublic(BaseModel):
    id: str
    legal_name: str
    seller_category: str
    country: str
    registration_number: str
    vat_number: str | None
    contact_name: str
    contact_email: str
    product_categories: list[str]
    stage: str
    stage_entered_at: datetime
    deadline: datetime | None
    policy_version: str
    seller_id: str | None
    created_at: datetime
    requirements: list[Requirement]
    decisions: list[DecisionPublic]
    iban: str | None
    company_address: str | None = None
    legal_representative: str | None = None
    phone: str | None = None
    checks: list[CheckPublic] | None = Field(
        description="the automated checks' results; staff only (null for the applicant)"
    )


class ApplicationSummary(BaseModel):
    id: str
    legal_name: str
    seller_category: str
    country: str
    stage: str
    created_at: datetime
    seller_id: str | None


class ApplicationCreated(BaseModel):
    id: str
    stage: str
    applicant_token: str
    requirements: list[Requirement]


class StageResult(BaseModel):
    id: str
    stage: str


class EmailConfirmationBody(Strict):
    token: str = Field(min_length=1, max_length=2000)


class EmailConfirmed(BaseModel):
    id: str
    email_confirmed_at: datetime


class WithdrawBody(Strict):
    reason: str = Field(default="", max_length=2000)


# --- documents and agreements -------------------------------------------------------------


class DocumentDeclare(Strict):
    kind: DocumentKind
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(gt=0)
    issued_on: date | None = None
    expires_on: date | None = None

    def declaration(self) -> dict[str, Any]:
        """The fields as `services.documents.declare` takes them."""
        return {**self.model_dump(), "kind": self.kind.value}


class UploadForm(BaseModel):
    url: str
    fields: dict[str, str]
    expires_at: datetime


class DocumentDeclared(BaseModel):
    document_id: str
    upload: UploadForm


class DocumentPublic(BaseModel):
    document_id: str
    kind: str
    filename: str
    content_type: str
    status: str
    size_bytes: int | None
    sha256: str | None
    error_code: str | None


class AgreementPublic(BaseModel):
    kind: str
    version: str
    text: str
    sha256: str


class SignatureCreate(Strict):
    kind: AgreementKind
    version: str = Field(max_length=32)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    signer_name: str = Field(min_length=1, max_length=200)
    signer_title: str = Field(min_length=1, max_length=200)


class SignaturePublic(BaseModel):
    id: str
    kind: str
    version: str
    signed_at: datetime


# --- auth and tasks -----------------------------------------------------------------------


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    # Staff only: the access token's life in seconds, and what gives the next one.
    expires_in: int | None = None
    refresh_token: str | None = None


class RefreshBody(Strict):
    refresh_token: str = Field(min_length=1, max_length=2000)


class ActivationBody(Strict):
    token: str = Field(max_length=2000)
    password: str = Field(min_length=12, max_length=200)


class Activated(BaseModel):
    seller_id: str


class ActivationRequest(Strict):
    email: EmailStr


class ActivationRequested(BaseModel):
    """The same answer whether or not an account has the address."""

    status: str = "accepted"


class TaskPublic(BaseModel):
    id: str
    kind: str
    role: str
    status: str
    assignee: str | None
    priority: int
    escalated: bool
    overdue: bool
    application_id: str | None
    seller_id: str | None
    note: str
    created_at: datetime
    due_at: datetime
    decision: str | None


class DocumentVerdictBody(Strict):
    document_id: str
    accepted: bool
    error_code: str | None = Field(default=None, max_length=64)


class ChecklistBody(BaseModel):
    """The quality lab's findings on a mystery order (every item is required for a mystery-order
    decision, and refused by name when missing); further keys such as notes may follow."""

    model_config = ConfigDict(extra="allow")
    battery_health_percent: float | None = Field(
        default=None, ge=0, le=100, strict=True, allow_inf_nan=False
    )
    grade_matches_listing: bool | None = Field(default=None, strict=True)
    genuine_parts: bool | None = Field(default=None, strict=True)
    factory_reset_and_unlocked: bool | None = Field(default=None, strict=True)
    packaging_ok: bool | None = Field(default=None, strict=True)
    delivered_on_time: bool | None = Field(default=None, strict=True)

    def answers(self) -> dict[str, Any]:
        """What was sent, without the items left out."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class TaskComplete(Strict):
    decision: Decision
    reason_codes: list[str] = Field(default=[], max_length=20)
    comment: str = Field(default="", max_length=4000)
    document_verdicts: list[DocumentVerdictBody] = Field(default=[], max_length=50)
    checklist: ChecklistBody = Field(default_factory=ChecklistBody)

    def as_input(self, task_id: str, actor: str) -> CompleteTaskInput:
        """The decision as the workflow receives it."""
        return CompleteTaskInput(
            task_id=task_id,
            actor=actor,
            decision=self.decision,
            reason_codes=self.reason_codes,
            comment=self.comment,
            document_verdicts=[DocumentVerdict(**v.model_dump()) for v in self.document_verdicts],
            checklist=self.checklist.answers(),
        )


class TaskAssign(Strict):
    assignee: str = Field(min_length=1, max_length=64)


class TaskCompleted(BaseModel):
    task_id: str
    decision: str
    state: str


# --- sellers, orders, appeals -------------------------------------------------------------


class ScorecardPublic(BaseModel):
    kpi: str
    window_days: int
    numerator: float
    denominator: int
    value: float | None
    warn: float
    limit: float
    status: KpiStatus
    # The version whose thresholds decided the status (none before migration 0026).
    policy_version: str | None = None


class SellerActionPublic(BaseModel):
    at: datetime
    from_status: str
    to_status: str
    action: str | None
    actor: str
    reason: dict[str, Any]
    # The policy version the change was decided under (none before migration 0026).
    policy_version: str | None = None


class CapabilitiesPublic(BaseModel):
    listing_cap: int | None
    daily_order_cap: int | None
    payouts_deferred: bool


class SellerSummary(BaseModel):
    id: str
    legal_name: str
    seller_category: str
    country: str
    status: str
    score: float | None
    category_percentile: float | None


class NoticePublic(Statement):
    """A statement of reasons (DSA art. 17, P2B art. 4); `actor` is shown to staff only."""

    id: str
    actor: str | None = None  # type: ignore[assignment]
    # The policy version the restriction was decided under (none for notices before 0026).
    policy_version: str | None = None


class OffboardingRequestPublic(BaseModel):
    """An offboarding asked by one ops member, waiting for another's confirmation."""

    id: str
    requested_by: str
    reason: str
    requested_at: datetime
    outcome: str | None
    decided_by: str | None
    decided_at: datetime | None


class SellerDayPublic(BaseModel):
    """One day of the seller's evaluation: each KPI's value (null: no data) and sample."""

    day: date
    standing: str
    score: float | None
    kpis: dict[str, float | None]
    samples: dict[str, int]


class MysteryFindingPublic(BaseModel):
    decided_at: datetime | None
    outcome: str = Field(description="passed, minor_issues or blocker")
    to_fix: list[str]
    fix_by: datetime | None = Field(description="a blocker: fixed by then, when a follow-up checks")


class SellerPublic(SellerSummary):
    application_id: str
    ssm: str | None
    policy_version: str | None = Field(
        default=None, description="the policy version the seller's workflow runs under"
    )
    capabilities: CapabilitiesPublic
    standing: str
    scorecard: list[ScorecardPublic]
    actions: list[SellerActionPublic]
    notices: list[NoticePublic] = Field(description="statements of reasons, newest first")
    offboarding_request: OffboardingRequestPublic | None = Field(
        default=None, description="staff only: the offboarding waiting for confirmation"
    )
    mystery_orders: list[MysteryFindingPublic] = Field(
        default=[], description="the decided mystery orders, newest first"
    )
    trend: list[SellerDayPublic] = Field(
        description="the daily evaluations of the last 90 days, oldest first"
    )


class OrderEventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=100)
    seller_id: str
    placed_at: datetime
    ship_by: datetime | None = None
    shipped_at: datetime | None = None
    promised_delivery_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_by_seller: bool = False
    returned: bool = False
    return_reason: ReturnReason | None = None
    refunded: bool = False
    refund_seller_accountable: bool = False
    complaint: bool = False
    chargeback: bool = False
    review_rating: int | None = Field(default=None, ge=1, le=5)

    @field_validator("placed_at", "ship_by", "shipped_at", "promised_delivery_at", "delivered_at")
    @classmethod
    def _with_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("times need an offset (RFC 3339)")
        return value


class RejectedEvent(BaseModel):
    index: int
    order_id: str | None = Field(default=None, description="set when the row itself was valid")
    errors: list[str]


class OrderEventsResult(BaseModel):
    accepted: int
    rejected: list[RejectedEvent]


class RenewalDeclare(Strict):
    """A new file of a document on file that must be renewed."""

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(gt=0)
    issued_on: date | None = None
    expires_on: date | None = None


class RenewalPublic(BaseModel):
    """Where the renewal of one document on file stands."""

    kind: str
    round: int
    status: RenewalStatus
    valid_until: datetime
    document_id: str | None
    note: str | None
    updated_at: datetime


class RenewalSubmitted(BaseModel):
    document_id: str
    # The seller's status as the workflow answered; None when it was slow to (the review
    # opens all the same).
    status: str | None


class EvidenceDeclare(Strict):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(gt=0)


class EvidenceDeclared(BaseModel):
    evidence_id: str
    upload: UploadForm


class EvidencePublic(BaseModel):
    id: str
    filename: str
    content_type: str
    status: str = Field(description="awaiting_upload, uploaded or refused")
    error_reason: str | None
    stored_size: int | None
    sha256: str | None
    appeal_id: str | None


class AppealCreate(Strict):
    notice_id: uuid.UUID | None = Field(
        default=None,
        description="the notice of the restriction appealed against; the newest appealable "
        "notice when left out",
    )
    root_cause: str = Field(min_length=1, max_length=4000)
    actions: str = Field(min_length=1, max_length=4000)
    prevention: str = Field(min_length=1, max_length=4000)
    evidence: list[str] = Field(
        default=[], max_length=20, description="ids of uploaded evidence files of the seller"
    )


class AppealCreated(BaseModel):
    appeal_id: str
    status: str


class AppealPublic(BaseModel):
    appeal_id: str
    status: str
    filed_at: datetime
    decided_at: datetime | None
    reviewer_comment: str | None
    notice_id: str | None = None
    evidence: list[EvidencePublic] = []


class ErasureRequested(BaseModel):
    """A departed seller's erasure, carried out by the next daily retention run."""

    seller_id: str
    erasure_requested_at: datetime
    erasure_requested_by: str


class SellerActionCreate(Strict):
    action: SellerActionKind
    reason: str = Field(min_length=1, max_length=4000)
    fraud: bool = False


class SellerActionResult(BaseModel):
    seller_id: str
    status: str
    offboarding_request: OffboardingRequestPublic | None = Field(
        default=None, description="an offboarding without fraud, waiting for confirmation"
    )


# --- ops ------------------------------------------------------------------------------------


class NotificationPublic(BaseModel):
    """A message of the outbox with its text, for ops who follow what was sent without SMTP."""

    id: str
    template: str
    recipient: str
    subject: str
    body_text: str
    application_id: str | None
    seller_id: str | None
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    gave_up_at: datetime | None


class EvaluationPublic(BaseModel):
    id: str
    status: str
    sellers_scored: int | None = None
    standing_changes: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class TimelineEntry(BaseModel):
    at: datetime
    workflow_id: str
    kind: str
    text: str
    actor: str | None = None


class History(BaseModel):
    application_id: str
    workflows: list[str]
    timeline: list[TimelineEntry]


class WorkflowHistoryJson(BaseModel):
    workflow_id: str
    history: dict[str, Any] = Field(description="Temporal's history JSON, replayable")


class RawHistory(BaseModel):
    workflows: list[WorkflowHistoryJson]


class SellerHistory(BaseModel):
    seller_id: str
    application_id: str
    workflow_id: str
    runs: int = Field(description="runs of the seller workflow in the timeline (continue-as-new)")
    timeline: list[TimelineEntry]
