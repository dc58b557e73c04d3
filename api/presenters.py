"""Records as the API shows them: one presenter per resource, shared by routes and pages."""

import uuid
from datetime import UTC, datetime

from sqlmodel import Session

from api.application_view import application_view
from api.fields import copied
from api.schemas import (
    ApplicationPublic,
    ApplicationSummary,
    DocumentPublic,
    EvidencePublic,
    NoticePublic,
    NotificationPublic,
    OffboardingRequestPublic,
    SellerActionPublic,
    SellerSummary,
    TaskPublic,
)
from sellerflow import statements
from sellerflow.models import (
    AppealEvidence,
    Application,
    Document,
    Notification,
    OffboardingRequest,
    Seller,
    SellerAction,
    Task,
)
from sellerflow.policy.disclosure import public_actor, public_summary
from sellerflow.policy.model import Policy
from sellerflow.policy.notices import Statement
from sellerflow.principal import Principal
from sellerflow.queries.applications import application_row
from sellerflow.services import sellers
from sellerflow.vocabulary import TaskStatus


def task_public(task: Task, now: datetime | None = None) -> TaskPublic:
    now = now or datetime.now(UTC)
    return copied(
        TaskPublic,
        task,
        id=str(task.id),
        overdue=task.status == TaskStatus.open and task.due_at < now,
        application_id=str(task.application_id) if task.application_id else None,
        seller_id=str(task.seller_id) if task.seller_id else None,
    )


def document_public(doc: Document) -> DocumentPublic:
    return copied(DocumentPublic, doc, document_id=str(doc.id), size_bytes=doc.stored_size)


def application_summary(app: Application) -> ApplicationSummary:
    return copied(
        ApplicationSummary,
        app,
        id=str(app.id),
        seller_id=str(app.seller_id) if app.seller_id else None,
    )


def application_public(
    session: Session, policy: Policy, app: Application, *, for_staff: bool
) -> ApplicationPublic:
    """The same view as `GET /v1/applications/{id}`, read in the caller's session."""
    return application_view(application_row(session, app.id), policy, for_staff=for_staff)


def notification_public(message: Notification) -> NotificationPublic:
    return copied(
        NotificationPublic,
        message,
        id=str(message.id),
        application_id=str(message.application_id) if message.application_id else None,
        seller_id=str(message.seller_id) if message.seller_id else None,
    )


def seller_summary(seller: Seller) -> SellerSummary:
    return copied(SellerSummary, seller, id=str(seller.id))


def action_public(action: SellerAction, *, for_staff: bool) -> SellerActionPublic:
    """The seller is told whether a person or the system decided, not who (`policy.disclosure`)."""
    reason = action.reason
    if not for_staff:
        reason = {**reason, "summary": public_summary(str(reason.get("summary", "")))}
    return SellerActionPublic(
        at=action.created_at,
        from_status=action.from_status,
        to_status=action.to_status,
        action=action.action,
        actor=action.actor if for_staff else public_actor(action.actor),
        reason=reason,
        policy_version=action.policy_version,
    )


def offboarding_public(asked: OffboardingRequest) -> OffboardingRequestPublic:
    return copied(OffboardingRequestPublic, asked, id=str(asked.id))


def pending_offboarding(
    session: Session, seller: Seller, caller: Principal
) -> OffboardingRequestPublic | None:
    """The offboarding waiting for confirmation, for staff (the seller is told once decided)."""
    if not caller.is_staff:
        return None
    asked = sellers.open_offboarding(session, seller)
    return offboarding_public(asked) if asked is not None else None


def notices_public(session: Session, seller: Seller, *, for_staff: bool) -> list[NoticePublic]:
    """The seller's statements of reasons, newest first."""
    return [
        notice_public(notice_id, notice, for_staff=for_staff, policy_version=version)
        for notice_id, notice, version in statements.notices_of(session.connection(), seller.id)
    ]


def notice_public(
    notice_id: uuid.UUID, notice: Statement, *, for_staff: bool, policy_version: str | None = None
) -> NoticePublic:
    """As `action_public`: the seller reads the facts without the staff member's name."""
    facts = notice.facts
    if not for_staff:
        facts = [f.model_copy(update={"summary": public_summary(f.summary)}) for f in facts]
    return NoticePublic(
        **notice.model_dump(exclude={"facts", "actor"}),
        id=str(notice_id),
        facts=facts,
        actor=notice.actor if for_staff else None,
        policy_version=policy_version,
    )


def evidence_public(found: AppealEvidence) -> EvidencePublic:
    return EvidencePublic(
        id=str(found.id),
        filename=found.filename,
        content_type=found.content_type,
        status=found.status,
        error_reason=found.error_reason,
        stored_size=found.stored_size,
        sha256=found.sha256,
        appeal_id=str(found.appeal_id) if found.appeal_id else None,
    )
