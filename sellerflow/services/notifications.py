"""Notifications: what the outbox holds, for the people who follow what was sent."""

from sqlmodel import Session, col, select

from sellerflow.models import Notification


def recent_messages(session: Session, limit: int) -> list[Notification]:
    """The newest messages first, sent or not."""
    rows = session.exec(
        select(Notification).order_by(col(Notification.created_at).desc()).limit(limit)
    ).all()
    return list(rows)
