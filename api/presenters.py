"""Records as the API shows them: one presenter per resource, shared by routes and pages."""

from datetime import UTC, datetime

from sqlmodel import Session

from api.application_view import application_view
from api.schemas import (
    ApplicationPublic,
    ApplicationSummary,
    DocumentPublic,
    SellerSummary,
    TaskPublic,
)
from sellerflow.models import Application, Document, Seller, Task
from sellerflow.policy.model import Policy
from sellerflow.queries.applications import application_row
from sellerflow.vocabulary import TaskStatus


def task_public(task: Task, now: datetime | None = None) -> TaskPublic:
    now = now or datetime.now(UTC)
    return TaskPublic(
        id=str(task.id),
        kind=task.kind,
        role=task.role,
        status=task.status,
        assignee=task.assignee,
        priority=task.priority,
        escalated=task.escalated,
        overdue=task.status == TaskStatus.open.value and task.due_at < now,
        application_id=str(task.application_id) if task.application_id else None,
        seller_id=str(task.seller_id) if task.seller_id else None,
        note=task.note,
        created_at=task.created_at,
        due_at=task.due_at,
        decision=task.decision,
    )


def document_public(doc: Document) -> DocumentPublic:
    return DocumentPublic(
        document_id=str(doc.id),
        kind=doc.kind,
        filename=doc.filename,
        content_type=doc.content_type,
        status=doc.status,
        size_bytes=doc.stored_size,
        sha256=doc.sha256,
        error_code=doc.error_code,
    )


def application_summary(app: Application) -> ApplicationSummary:
    return ApplicationSummary(
        id=str(app.id),
        legal_name=app.legal_name,
        seller_category=app.seller_category,
        country=app.country,
        stage=app.stage,
        created_at=app.created_at,
        seller_id=str(app.seller_id) if app.seller_id else None,
    )


def application_public(session: Session, policy: Policy, app: Application) -> ApplicationPublic:
    """The same view as `GET /v1/applications/{id}`, read in the caller's session."""
    return application_view(application_row(session, app.id), policy)


def seller_summary(seller: Seller) -> SellerSummary:
    return SellerSummary(
        id=str(seller.id),
        legal_name=seller.legal_name,
        seller_category=seller.seller_category,
        country=seller.country,
        status=seller.status,
        score=seller.score,
        category_percentile=seller.category_percentile,
    )
