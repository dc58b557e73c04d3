"""Everything held about one applicant, and the seller it became: the answer to an access
request (GDPR art. 15), for ops to hand over. Files are listed by name and checksum; their
content is fetched with the document download links."""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, or_, select

from sellerflow.errors import NotFound
from sellerflow.models import (
    Appeal,
    AppealEvidence,
    Application,
    AuditLog,
    Document,
    Notification,
    OffboardingRequest,
    OrderEvent,
    ScorecardRow,
    Seller,
    SellerAccount,
    SellerAction,
    SellerDay,
    SellerNotice,
    Signature,
    StageChange,
    Task,
)

# What never leaves: the key a file is stored under, the hashes chaining the audit log, and the
# seller account's credentials (its password's hash, its activation link's nonce).
WITHHELD = {"object_key", "prev_hash", "entry_hash", "password_hash", "link_nonce"}

Records = list[dict[str, Any]]
# The records of each kind (application, documents, ..., seller, order_events).
Export = dict[str, Records]


def export_application(session: Session, application_id: uuid.UUID) -> Export:
    """Every record of the application and of its seller account, by kind."""
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound("no application with this id")
    seller = session.get(Seller, app.seller_id) if app.seller_id else None
    subjects = [str(app.id), *([str(seller.id)] if seller else [])]
    of_app: dict[str, Sequence[SQLModel]] = {
        "application": [app],
        "stage_changes": _rows(session, StageChange, col(StageChange.application_id) == app.id),
        "documents": _rows(session, Document, col(Document.application_id) == app.id),
        "signatures": _rows(session, Signature, col(Signature.application_id) == app.id),
        "tasks": _rows(session, Task, col(Task.application_id) == app.id),
        "notifications": _rows(session, Notification, col(Notification.application_id) == app.id),
        "audit_log": list(
            session.exec(
                select(AuditLog)
                .where(col(AuditLog.subject_id).in_(subjects))
                .order_by(col(AuditLog.id))
            ).all()
        ),
    }
    of_seller: dict[str, Sequence[SQLModel]] = {}
    if seller is not None:
        of_seller = {
            "seller": [seller],
            "seller_actions": _rows(
                session, SellerAction, col(SellerAction.seller_id) == seller.id
            ),
            "seller_account": _rows(
                session, SellerAccount, col(SellerAccount.seller_id) == seller.id
            ),
            "notices": _rows(session, SellerNotice, col(SellerNotice.seller_id) == seller.id),
            "appeals": _rows(session, Appeal, col(Appeal.seller_id) == seller.id),
            "appeal_evidence": _rows(
                session, AppealEvidence, col(AppealEvidence.seller_id) == seller.id
            ),
            "offboarding_requests": _rows(
                session, OffboardingRequest, col(OffboardingRequest.seller_id) == seller.id
            ),
            "kpi_history": _rows(session, SellerDay, col(SellerDay.seller_id) == seller.id),
            "scorecard": _rows(session, ScorecardRow, col(ScorecardRow.seller_id) == seller.id),
            "order_events": _rows(session, OrderEvent, col(OrderEvent.seller_id) == seller.id),
            "seller_tasks": list(
                session.exec(
                    select(Task).where(
                        Task.seller_id == seller.id,
                        or_(col(Task.application_id).is_(None), Task.application_id != app.id),
                    )
                ).all()
            ),
            "seller_notifications": list(
                session.exec(
                    select(Notification).where(
                        Notification.seller_id == seller.id,
                        or_(
                            col(Notification.application_id).is_(None),
                            Notification.application_id != app.id,
                        ),
                    )
                ).all()
            ),
        }
    return {kind: _plain(rows) for kind, rows in {**of_app, **of_seller}.items()}


def _rows(
    session: Session, model: type[SQLModel], condition: sa.ColumnElement[bool]
) -> list[SQLModel]:
    return list(session.exec(select(model).where(condition)).all())


def _plain(rows: Sequence[SQLModel]) -> Records:
    return [row.model_dump(mode="json", exclude=WITHHELD) for row in rows]
