"""Business records and read models (SQLModel tables). Alembic owns the schema."""

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, col

from sellerflow.vocabulary import (
    KPI,
    CheckCode,
    CheckStatus,
    Decision,
    DocumentStatus,
    KpiStatus,
    NoticeDecision,
    PolicyStatus,
    RenewalStatus,
    Role,
    RolloutState,
    SellerCategory,
    SellerStatus,
    SimulationStatus,
    Stage,
    Standing,
    TaskKind,
    TaskStatus,
)

E = TypeVar("E", bound=StrEnum)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware on every backend: SQLite stores naive UTC, reads come back as UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def ts(*, nullable: bool = False, index: bool = False, default_now: bool = False) -> Any:
    kwargs: dict[str, Any] = {"default_factory": utcnow} if default_now else {"default": None}
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index), **kwargs)


class VocabularyText(TypeDecorator[E]):
    """A column of one of the vocabulary's enums: text in the database, the enum in Python. A
    value outside the enum is refused when written and when read."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length=length)
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> E | None:
        return None if value is None else self.enum(value)


def vocabulary(
    enum: type[StrEnum],
    length: int,
    *,
    default: StrEnum | None = None,
    nullable: bool = False,
    index: bool = False,
    primary_key: bool = False,
) -> Any:
    column: sa.Column[Any] = sa.Column(
        VocabularyText(enum, length), nullable=nullable, index=index, primary_key=primary_key
    )
    return Field(default=default, sa_column=column)


def json_col(default: Any) -> Any:
    return Field(
        default_factory=lambda: default.copy(), sa_column=sa.Column(sa.JSON, nullable=False)
    )


def role_list(roles: str) -> list[str]:
    """The roles of a staff row's comma-separated `roles` column."""
    return [r for r in roles.split(",") if r]


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    email: str = Field(max_length=254)
    password_hash: str
    roles: str = Field(description="comma-separated roles")
    disabled: bool = False
    created_at: datetime = ts(default_now=True)
    # Carried by the user's tokens; bumped to revoke them all (migration 0007, sellerflow.users).
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    @property
    def role_list(self) -> list[str]:
        return role_list(self.roles)


class Application(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    legal_name: str = Field(max_length=200, index=True)
    seller_category: SellerCategory = vocabulary(SellerCategory, 32, index=True)
    country: str = Field(max_length=2, index=True)
    registration_number: str = Field(max_length=64)
    vat_number: str | None = Field(default=None, max_length=32)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=254)
    product_categories: list[str] = json_col([])
    stage: Stage = vocabulary(Stage, 32, default=Stage.draft, index=True)
    stage_entered_at: datetime = ts(default_now=True)
    policy_version: str = Field(max_length=64)
    deadline_at: datetime | None = ts(nullable=True)
    seller_id: uuid.UUID | None = Field(default=None, index=True)
    created_at: datetime = ts(default_now=True, index=True)
    updated_at: datetime = ts(default_now=True)
    # When the applicant opened the link of the first mail (migration 0010): documents are
    # declared only after it (sellerflow.services.email_confirmation).
    email_confirmed_at: datetime | None = ts(nullable=True)
    # When its personal data and files were erased after the policy's retention period
    # (migration 0011, sellerflow.services.retention).
    personal_data_erased_at: datetime | None = ts(nullable=True)
    # The bank account the payouts go to (migration 0024): checked, and compared with other
    # applications' and departed sellers' (sellerflow.policy.checks).
    iban: str | None = Field(default=None, max_length=42)
    # Compared with the registers' answers, the sanctions list and other applications
    # (migration 0027, sellerflow.policy.checks); erased with the rest of the personal data.
    company_address: str | None = Field(default=None, max_length=300)
    legal_representative: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)


class ApplicationCheck(SQLModel, table=True):
    """The newest result of one automated check of an application (migration 0024): what the
    reviewer sees, with its evidence; a check the source could not answer is `unavailable`
    and tried again from `next_attempt_at`."""

    __tablename__ = "application_check"
    __table_args__ = (sa.UniqueConstraint("application_id", "code"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(index=True, foreign_key="application.id")
    code: CheckCode = vocabulary(CheckCode, 32)
    status: CheckStatus = vocabulary(CheckStatus, 16)
    detail: str = Field(default="", max_length=2000)
    source: str = Field(default="", max_length=200)
    evidence: dict[str, Any] = json_col({})
    checked_at: datetime = ts()
    attempts: int = Field(default=1)
    next_attempt_at: datetime | None = ts(nullable=True, index=True)


class StageChange(SQLModel, table=True):
    __tablename__ = "stage_change"
    # The ops figures' reads (migration 0008): each journey in order, the stages reached.
    __table_args__ = (
        sa.Index("ix_stage_change_journey", "application_id", "entered_at", "stage"),
        sa.Index("ix_stage_change_reached", "stage", "application_id"),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(index=True, foreign_key="application.id")
    stage: Stage = vocabulary(Stage, 32)
    entered_at: datetime = ts()
    idempotency_key: str = Field(unique=True, max_length=200)


class StageDuration(SQLModel, table=True):
    """How long a stage lasted, for each stage change an application has left: kept by triggers
    on `stage_change` in the writing transaction (migration 0017, sellerflow.ops_read_models)."""

    __tablename__ = "stage_duration"
    __table_args__ = (
        # The order statistics of a stage, one bucket at a time.
        sa.Index("ix_stage_duration_rank", "stage", "bucket", "microseconds"),
        # Where a stage first appears in the changes read by application (the answer's order).
        sa.Index("ix_stage_duration_first", "stage", "application_id", "entered_at"),
    )
    stage_change_id: uuid.UUID = Field(primary_key=True)
    application_id: uuid.UUID = Field(index=True)
    stage: Stage = vocabulary(Stage, 32)
    entered_at: datetime = ts()
    microseconds: int = Field(sa_type=sa.BigInteger)
    bucket: int


class StageDurationBucket(SQLModel, table=True):
    """How many durations of a stage fall in each bucket (`sellerflow.ops_read_models.BUCKETS`)."""

    __tablename__ = "stage_duration_bucket"
    stage: Stage = vocabulary(Stage, 32, primary_key=True)
    bucket: int = Field(primary_key=True)
    durations: int


class StageReach(SQLModel, table=True):
    """How many applications have entered a stage at least once (the funnel)."""

    __tablename__ = "stage_reach"
    stage: Stage = vocabulary(Stage, 32, primary_key=True)
    applications: int


class ApplicationStageCount(SQLModel, table=True):
    """How many applications are in each stage (triggers on `application`)."""

    __tablename__ = "application_stage_count"
    stage: Stage = vocabulary(Stage, 32, primary_key=True)
    applications: int


class SellerStatusCount(SQLModel, table=True):
    """How many sellers have each status (triggers on `seller`)."""

    __tablename__ = "seller_status_count"
    status: SellerStatus = vocabulary(SellerStatus, 16, primary_key=True)
    sellers: int


class Document(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(index=True, foreign_key="application.id")
    kind: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    declared_size: int
    object_key: str = Field(max_length=200)
    status: DocumentStatus = vocabulary(DocumentStatus, 32, default=DocumentStatus.awaiting_upload)
    stored_size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    issued_on: date | None = None
    expires_on: date | None = None
    error_code: str | None = Field(default=None, max_length=64)
    error_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = ts(default_now=True)
    uploaded_at: datetime | None = ts(nullable=True)


class Signature(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(index=True, foreign_key="application.id")
    kind: str = Field(max_length=64)
    version: str = Field(max_length=32)
    sha256: str = Field(max_length=64)
    signer_name: str = Field(max_length=200)
    signer_title: str = Field(max_length=200)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    archive_key: str = Field(max_length=200)
    signed_at: datetime = ts(default_now=True)


class Task(SQLModel, table=True):
    # The ops figures' reads (migration 0017): the open tasks per role and how many are late,
    # and the tasks each person completed lately, each from an index alone.
    __table_args__ = (
        sa.Index("ix_task_open_per_role", "status", "role", "due_at"),
        sa.Index("ix_task_completed", "completed_at", "completed_by"),
    )
    id: uuid.UUID = Field(primary_key=True)
    kind: TaskKind = vocabulary(TaskKind, 32, index=True)
    workflow_id: str = Field(max_length=100)
    application_id: uuid.UUID | None = Field(default=None, index=True, foreign_key="application.id")
    seller_id: uuid.UUID | None = Field(default=None, index=True, foreign_key="seller.id")
    role: Role = vocabulary(Role, 16, index=True)
    assignee: str | None = Field(default=None, max_length=64, index=True)
    status: TaskStatus = vocabulary(TaskStatus, 16, default=TaskStatus.open, index=True)
    priority: int = 0
    escalated: bool = False
    note: str = Field(default="", max_length=1000)
    created_at: datetime = ts(default_now=True)
    due_at: datetime = ts(index=True)
    completed_at: datetime | None = ts(nullable=True)
    completed_by: str | None = Field(default=None, max_length=64)
    decision: Decision | None = vocabulary(Decision, 32, nullable=True)
    reason_codes: list[str] = json_col([])
    comment: str | None = Field(default=None, max_length=4000)
    document_verdicts: list[dict[str, Any]] = json_col([])
    checklist: dict[str, Any] = json_col({})


class Seller(SQLModel, table=True):
    id: uuid.UUID = Field(primary_key=True)
    application_id: uuid.UUID = Field(unique=True)
    legal_name: str = Field(max_length=200)
    seller_category: SellerCategory = vocabulary(SellerCategory, 32, index=True)
    country: str = Field(max_length=2)
    status: SellerStatus = vocabulary(SellerStatus, 16, default=SellerStatus.trial, index=True)
    ssm_username: str | None = Field(default=None, max_length=64)
    trial_ends_at: datetime | None = ts(nullable=True)
    listing_cap: int | None = None
    daily_order_cap: int | None = None
    payouts_deferred: bool = True
    standing: Standing = vocabulary(Standing, 16, default=Standing.good)
    # The standing the seller workflow last acted on: the evaluation signals a change from it.
    applied_standing: Standing = vocabulary(Standing, 16, default=Standing.good)
    score: float | None = Field(default=None, index=True)
    category_percentile: float | None = None
    evaluated_at: datetime | None = ts(nullable=True)
    created_at: datetime = ts(default_now=True)
    updated_at: datetime = ts(default_now=True)
    # A departed seller's erasure, asked by ops; the daily retention run carries it out
    # (sellerflow.services.retention, migration 0018).
    erasure_requested_at: datetime | None = ts(nullable=True)
    erasure_requested_by: str | None = Field(default=None, max_length=64)
    # The policy version the seller workflow runs under: its application's until a rollout
    # switches it (migration 0026).
    policy_version: str | None = Field(default=None, max_length=64, index=True)


def seller_rank() -> list[sa.SQLColumnExpression[Any]]:
    """The ranking's order: best score first, unscored last, then by id. Written on the negated
    score so that plain ascending indexes serve it (migration 0023): ascending sorts NULL last on
    PostgreSQL, as the index keeps them (SQLite sorts this one in memory: it puts NULL first in
    an index, and `NULLS LAST` in an index is refused)."""
    return [sa.nulls_last(sa.asc(-col(Seller.score))), col(Seller.id)]


# The ranking read from an index in its order, unfiltered or within one status, category, SSM
# or standing (migration 0023, bench/README.md "The seller ranking"). The score itself ends each
# one, so that a page's ids come from the index alone (`services.sellers`: a deep page skips
# its offset in the index, then reads only its own rows).
# The negated score in parentheses is an expression to Alembic (a bare `-score` it takes for the
# column itself, and reports a difference on SQLite, which does not reflect expression indexes).
_RANK = ((-col(Seller.score)).self_group(), col(Seller.id), col(Seller.score))
RANKING_INDEXES = [
    sa.Index("ix_seller_rank", *_RANK),
    sa.Index("ix_seller_status_rank", col(Seller.status), *_RANK),
    sa.Index("ix_seller_category_rank", col(Seller.seller_category), *_RANK),
    sa.Index("ix_seller_ssm_rank", col(Seller.ssm_username), *_RANK),
    sa.Index("ix_seller_standing_rank", col(Seller.standing), *_RANK),
]
# The ranking's counts per status within one category, SSM or standing, from an index alone.
COUNT_INDEXES = [
    sa.Index("ix_seller_category_status", col(Seller.seller_category), col(Seller.status)),
    sa.Index("ix_seller_ssm_status", col(Seller.ssm_username), col(Seller.status)),
    sa.Index("ix_seller_standing_status", col(Seller.standing), col(Seller.status)),
]


class SellerAction(SQLModel, table=True):
    """The reason record of every status change of a seller, automatic or manual."""

    __tablename__ = "seller_action"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_id: uuid.UUID = Field(index=True, foreign_key="seller.id")
    idempotency_key: str = Field(unique=True, max_length=200)
    from_status: SellerStatus = vocabulary(SellerStatus, 16)
    to_status: SellerStatus = vocabulary(SellerStatus, 16)
    action: str | None = Field(default=None, max_length=16)
    actor: str = Field(max_length=64)
    reason: dict[str, Any] = json_col({})
    notice_ends_at: datetime | None = ts(nullable=True)
    created_at: datetime = ts(default_now=True)
    # The policy version the change was decided under (none for rows before migration 0026).
    policy_version: str | None = Field(default=None, max_length=64)


class OrderEvent(SQLModel, table=True):
    __tablename__ = "order_event"
    __table_args__ = (sa.Index("ix_order_event_seller_placed", "seller_id", "placed_at"),)
    order_id: str = Field(primary_key=True, max_length=100)
    seller_id: uuid.UUID = Field(foreign_key="seller.id")
    placed_at: datetime = ts()
    ship_by: datetime | None = ts(nullable=True)
    shipped_at: datetime | None = ts(nullable=True)
    promised_delivery_at: datetime | None = ts(nullable=True)
    delivered_at: datetime | None = ts(nullable=True)
    cancelled_by_seller: bool = False
    returned: bool = False
    return_reason: str | None = Field(default=None, max_length=32)
    refunded: bool = False
    refund_seller_accountable: bool = False
    complaint: bool = False
    chargeback: bool = False
    review_rating: int | None = None
    updated_at: datetime = ts(default_now=True)


class ScorecardRow(SQLModel, table=True):
    __tablename__ = "scorecard"
    seller_id: uuid.UUID = Field(primary_key=True, foreign_key="seller.id")
    kpi: KPI = vocabulary(KPI, 32, primary_key=True)
    window_days: int
    numerator: float
    denominator: int
    value: float | None = None
    warn: float
    limit: float
    status: KpiStatus = vocabulary(KpiStatus, 16)
    evaluated_at: datetime = ts()
    # The policy version whose thresholds decided the status (none before migration 0026).
    policy_version: str | None = Field(default=None, max_length=64)


class Appeal(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_id: uuid.UUID = Field(index=True, foreign_key="seller.id")
    root_cause: str = Field(max_length=4000)
    actions: str = Field(max_length=4000)
    prevention: str = Field(max_length=4000)
    evidence: list[str] = json_col([])
    # The notice of the restriction appealed against (migration 0013; none before).
    notice_id: uuid.UUID | None = Field(default=None, foreign_key="seller_notice.id")
    created_at: datetime = ts(default_now=True)


class Notification(SQLModel, table=True):
    """The outbox: one row per applicant- or seller-facing event, keyed so a retry never doubles."""

    # The sellers under an offboarding notice (the ranking's at-risk sellers), read from the
    # index alone (migration 0023).
    __table_args__ = (
        sa.Index("ix_notification_template_seller", "template", "seller_id", "created_at"),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    template: str = Field(max_length=64)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str
    body_html: str
    application_id: uuid.UUID | None = Field(default=None, index=True, foreign_key="application.id")
    seller_id: uuid.UUID | None = Field(default=None, index=True, foreign_key="seller.id")
    created_at: datetime = ts(default_now=True)
    sent_at: datetime | None = ts(nullable=True)
    # Delivery attempts of the outbox sweeper, its last error, and when it stopped trying
    # (never for the notices the law requires).
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    gave_up_at: datetime | None = ts(nullable=True)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    at: datetime = ts(default_now=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    subject_type: str = Field(max_length=32)
    subject_id: str = Field(max_length=64, index=True)
    before: str | None = Field(default=None, max_length=64)
    after: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=4000)
    # A hash chain (sellerflow.audit): unique prev_hash means the chain can never fork.
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64)


class AuditChainHead(SQLModel, table=True):
    """One row: the newest audit hash. Appends lock it, so they are serialized."""

    __tablename__ = "audit_chain_head"
    id: int = Field(default=1, primary_key=True)
    last_id: int | None = None
    last_hash: str = Field(max_length=64)


class EvaluationRun(SQLModel, table=True):
    __tablename__ = "evaluation_run"
    # At most one evaluation runs at a time: the schedule's and one started by ops never overlap.
    __table_args__ = (
        sa.Index(
            "ux_evaluation_run_running",
            "status",
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        ),
    )
    id: str = Field(primary_key=True, max_length=100)
    started_at: datetime = ts(default_now=True)
    finished_at: datetime | None = ts(nullable=True)
    sellers_scored: int = 0
    standing_changes: int = 0
    status: str = Field(default="running", max_length=16)


# --- sign-in throttle (migration 0006) --------------------------------------------------------


class LoginThrottle(SQLModel, table=True):
    """Attempts counted under a named limit (failed sign-ins of a username or an address,
    applications of an address or an e-mail address) in the current window, keyed by an HMAC
    of it with the secret key (sellerflow.services.throttle): no personal data."""

    __tablename__ = "login_throttle"
    key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    window_started_at: datetime = ts()


# --- integration keys (migration 0009) --------------------------------------------------------


class IntegrationKey(SQLModel, table=True):
    """A service account's API key (sellerflow.services.integrations): its SHA-256 only, the key
    itself is shown once at creation."""

    __tablename__ = "integration_key"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    key_sha256: str = Field(unique=True, max_length=64)
    created_at: datetime = ts(default_now=True)
    revoked_at: datetime | None = ts(nullable=True)


# --- seller accounts (migration 0012) ---------------------------------------------------------


class SellerAccount(SQLModel, table=True):
    """The seller's own sign-in, made at account setup for the application's contact person
    (sellerflow.services.seller_accounts). The password is set through a one-time link: the link
    names `link_nonce`, which setting the password clears, and a new link replaces."""

    __tablename__ = "seller_account"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_id: uuid.UUID = Field(unique=True, foreign_key="seller.id")
    email: str = Field(index=True, max_length=254)
    password_hash: str | None = None
    link_nonce: str | None = Field(default=None, max_length=64)
    activated_at: datetime | None = ts(nullable=True)
    disabled: bool = False
    token_version: int = 0
    created_at: datetime = ts(default_now=True)


# --- notices (migration 0013) -----------------------------------------------------------------


class SellerNotice(SQLModel, table=True):
    """A statement of reasons (sellerflow.policy.notices), stored with the restriction it
    announces, in the same transaction as the status change and its e-mail."""

    __tablename__ = "seller_notice"
    __table_args__ = (sa.Index("ix_seller_notice_seller_issued", "seller_id", "issued_at"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_id: uuid.UUID = Field(foreign_key="seller.id")
    # The key of the change or message it goes with: stored once, however often retried.
    idempotency_key: str = Field(unique=True, max_length=200)
    decision: NoticeDecision = vocabulary(NoticeDecision, 32)
    # Who decided the restriction (a username or `system`): not the one to decide its appeal.
    actor: str = Field(max_length=64)
    issued_at: datetime = ts()
    ends_at: datetime | None = ts(nullable=True)
    # The whole statement (`policy.notices.Statement`), as the seller and staff read it.
    statement: dict[str, Any] = json_col({})
    # The policy version the restriction was decided under (none before migration 0026).
    policy_version: str | None = Field(default=None, max_length=64)


# --- the daily KPI history (migration 0014) ---------------------------------------------------


class SellerDay(SQLModel, table=True):
    """One seller's evaluation of one day: each KPI's value and sample, the score and the
    standing. The evaluation writes it with the scorecard (a rerun the same day replaces it) and
    keeps `sellerflow.scoring.HISTORY_DAYS` of it: the seller's trend and what changed."""

    __tablename__ = "seller_day"
    seller_id: uuid.UUID = Field(primary_key=True, foreign_key="seller.id")
    day: date = Field(primary_key=True)
    standing: Standing = vocabulary(Standing, 16)
    score: float | None = None
    # {kpi: value or null}, {kpi: orders counted}
    kpis: dict[str, Any] = json_col({})
    samples: dict[str, Any] = json_col({})


# --- offboarding requests (migration 0015) ----------------------------------------------------


class OffboardingRequest(SQLModel, table=True):
    """An offboarding asked by one ops member, carried out when another confirms it
    (sellerflow.services.sellers); an offboarding for fraud needs no confirmation. At most one
    open request per seller (a partial unique index)."""

    __tablename__ = "offboarding_request"
    __table_args__ = (
        sa.Index(
            "ux_offboarding_request_open",
            "seller_id",
            unique=True,
            sqlite_where=sa.text("outcome IS NULL"),
            postgresql_where=sa.text("outcome IS NULL"),
        ),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_id: uuid.UUID = Field(foreign_key="seller.id")
    requested_by: str = Field(max_length=64)
    reason: str = Field(max_length=4000)
    requested_at: datetime = ts(default_now=True)
    # confirmed, cancelled, or refused (the seller's workflow refused the offboarding)
    outcome: str | None = Field(default=None, max_length=16)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = ts(nullable=True)


# --- appeal evidence (migration 0016) ---------------------------------------------------------


class AppealEvidence(SQLModel, table=True):
    """A file a seller uploads straight to S3 as evidence for an appeal, as applicants upload
    documents (sellerflow.services.evidence); an appeal takes it by id, once."""

    __tablename__ = "appeal_evidence"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_id: uuid.UUID = Field(index=True, foreign_key="seller.id")
    appeal_id: uuid.UUID | None = Field(default=None, foreign_key="appeal.id")
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    declared_size: int
    object_key: str = Field(max_length=300)
    # awaiting_upload, uploaded or refused (too large, or not of its declared type)
    status: str = Field(default="awaiting_upload", max_length=16)
    error_reason: str | None = Field(default=None, max_length=300)
    stored_size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    created_at: datetime = ts(default_now=True)
    uploaded_at: datetime | None = ts(nullable=True)


# --- document renewals (migration 0022) -----------------------------------------------------


class DocumentRenewal(SQLModel, table=True):
    """Where the renewal of one document on file stands, one row per (seller, kind, round): the
    seller workflow writes it (rules 5), the portal and the staff pages read it."""

    __tablename__ = "document_renewal"
    __table_args__ = (sa.UniqueConstraint("seller_id", "kind", "round"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_id: uuid.UUID = Field(index=True, foreign_key="seller.id")
    kind: str = Field(max_length=64)
    round: int
    status: RenewalStatus = vocabulary(RenewalStatus, 16)
    # Until when the document on file is valid (the round's deadline).
    valid_until: datetime = ts()
    # The new file under review, accepted or refused.
    document_id: uuid.UUID | None = Field(default=None, foreign_key="document.id")
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = ts(default_now=True)
    updated_at: datetime = ts(default_now=True)


# --- policy versions and what-if simulations (migration 0025) -------------------------------


class PolicyVersion(SQLModel, table=True):
    """One version of the policy: the built-in files seeded, drafts proposed by ops, approved by
    a second person (sellerflow.services.policies)."""

    __tablename__ = "policy_version"
    version: str = Field(primary_key=True, max_length=64)
    status: PolicyStatus = vocabulary(PolicyStatus, 16, default=PolicyStatus.draft, index=True)
    effective_at: datetime | None = ts(nullable=True)
    # The policy file as JSON (what `Policy.model_validate` reads).
    rules: dict[str, Any] = json_col({})
    # "built-in" for the seeded files; a staff username otherwise.
    proposed_by: str = Field(max_length=64)
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = ts(nullable=True)
    created_at: datetime = ts(default_now=True)


class PolicySimulation(SQLModel, table=True):
    """A what-if: a version's rules evaluated over the stored order events, nothing changed."""

    __tablename__ = "policy_simulation"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: str = Field(foreign_key="policy_version.version", index=True, max_length=64)
    # The version the proposed one is compared with (the active one when it was asked for).
    baseline: str = Field(foreign_key="policy_version.version", max_length=64)
    status: SimulationStatus = vocabulary(SimulationStatus, 16, default=SimulationStatus.running)
    as_of: datetime = ts()
    requested_by: str = Field(max_length=64)
    # {sellers, standings, changes, by_category} once completed (services.policy_simulations).
    result: dict[str, Any] = json_col({})
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = ts(default_now=True)
    finished_at: datetime | None = ts(nullable=True)


class PolicyRollout(SQLModel, table=True):
    """The rollout of an approved version: announced to the sellers, switched to at
    `effective_at` by `PolicyRolloutWorkflow`, which records how far it got (migration 0026)."""

    __tablename__ = "policy_rollout"
    version: str = Field(primary_key=True, foreign_key="policy_version.version", max_length=64)
    # The version in force when the rollout was asked for: what the notices compared with.
    replaces: str = Field(foreign_key="policy_version.version", max_length=64)
    effective_at: datetime = ts()
    requested_by: str = Field(max_length=64)
    state: RolloutState = vocabulary(RolloutState, 16, default=RolloutState.scheduled)
    sellers_notified: int = 0
    # The switch's cursor: the last seller (in id order) whose workflow was signalled.
    after_seller_id: uuid.UUID | None = None
    sellers_switched: int = 0
    created_at: datetime = ts(default_now=True)
    finished_at: datetime | None = ts(nullable=True)


class SanctionsListLoad(SQLModel, table=True):
    """One sanctions list file loaded (migration 0028): the newest is screened against."""

    __tablename__ = "sanctions_list_load"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    source: str = Field(max_length=200)
    # The file's `generationDate` (the EU consolidated list's), as written there.
    generated: str | None = Field(default=None, max_length=64)
    sha256: str = Field(max_length=64)
    entries: int = Field(default=0)
    loaded_at: datetime = ts(default_now=True, index=True)


class SanctionsEntry(SQLModel, table=True):
    """A listed person or organisation (an EU `sanctionEntity`) of a list load."""

    __tablename__ = "sanctions_entry"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    load_id: uuid.UUID = Field(foreign_key="sanctions_list_load.id", index=True)
    # The entity's `logicalId` and `euReferenceNumber` in the list, as the reviewer quotes them.
    logical_id: str = Field(max_length=64)
    reference: str | None = Field(default=None, max_length=64)
    subject_type: str = Field(max_length=32)  # "person" or "enterprise"
    name: str = Field(max_length=500)


class SanctionsAlias(SQLModel, table=True):
    """One name of an entry (a `nameAlias`), with the form it is compared in."""

    __tablename__ = "sanctions_alias"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    entry_id: uuid.UUID = Field(foreign_key="sanctions_entry.id", index=True)
    whole_name: str = Field(max_length=500)
    # `policy.matching.normalised_name`: transliterated, case-folded, without legal forms.
    normalised: str = Field(max_length=500)
