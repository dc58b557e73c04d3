"""Notifications: what the outbox holds, for the people who follow what was sent."""

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from sellerflow.db import page_of
from sellerflow.models import Notification


@dataclass(frozen=True)
class MessageFilters:
    application_id: uuid.UUID | None = None
    seller_id: uuid.UUID | None = None
    template: str | None = None
    # True: only those still waiting in the outbox; False: only those delivered.
    unsent: bool | None = None


def list_messages(
    session: Session, filters: MessageFilters, *, limit: int, offset: int
) -> tuple[list[Notification], int]:
    """The newest messages first, sent or not, and how many match."""
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.application_id:
        conditions.append(col(Notification.application_id) == filters.application_id)
    if filters.seller_id:
        conditions.append(col(Notification.seller_id) == filters.seller_id)
    if filters.template:
        conditions.append(col(Notification.template) == filters.template)
    if filters.unsent is not None:
        sent_at = col(Notification.sent_at)
        conditions.append(sent_at.is_(None) if filters.unsent else sent_at.is_not(None))
    order = [col(Notification.created_at).desc(), col(Notification.id)]
    return page_of(session, Notification, conditions, order, limit=limit, offset=offset)


def recent_messages(session: Session, limit: int) -> list[Notification]:
    """The newest messages first, sent or not."""
    return list_messages(session, MessageFilters(), limit=limit, offset=0)[0]
