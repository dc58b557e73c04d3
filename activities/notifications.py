"""Applicant- and seller-facing messages, through the outbox."""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from temporalio import activity

from sellerflow import outbox
from sellerflow.config import Settings
from sellerflow.db import session_scope
from sellerflow.models import Application, Seller
from sellerflow.payloads import NotifyInput
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import unmet
from sellerflow.records import requirement_list


def _fmt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


class NotificationActivities:
    def __init__(self, engine: sa.Engine, settings: Settings, policy: Policy) -> None:
        self.engine, self.settings, self.policy = engine, settings, policy

    @activity.defn
    def notify(self, inp: NotifyInput) -> bool:
        """Store the message once per key, then try to deliver what is pending."""
        with session_scope(self.engine) as session:
            seller = session.get(Seller, uuid.UUID(inp.seller_id)) if inp.seller_id else None
            app_id = inp.application_id or (str(seller.application_id) if seller else None)
            app = session.get(Application, uuid.UUID(app_id)) if app_id else None
            if app is None:
                raise ValueError(f"no application behind notification {inp.key}")
            context: dict[str, Any] = {
                "recipient_name": app.contact_name,
                "legal_name": app.legal_name,
                "deadline": _fmt(app.deadline_at),
                "missing": unmet(requirement_list(session, self.policy, app)),
                "reasons": [],
                "reason": "",
                "ssm": seller.ssm_username if seller else "",
                "status": seller.status if seller else app.stage,
                "trial_ends_at": "",
                "improve_by": "",
                "notice_ends_at": "",
            }
            context.update(inp.context)
            stored = outbox.enqueue(
                session,
                key=inp.key,
                template=inp.template,
                recipient=app.contact_email,
                context=context,
                application_id=app.id,
                seller_id=seller.id if seller else None,
            )
        if self.settings.smtp_url:
            with session_scope(self.engine) as session:
                outbox.deliver_pending(session, self.settings.smtp_url, self.settings.mail_from)
        return stored
