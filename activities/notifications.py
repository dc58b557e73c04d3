"""Applicant- and seller-facing messages: stored in the outbox, then delivered by SMTP."""

import smtplib
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sellerflow import outbox
from sellerflow.config import Settings
from sellerflow.db import session_scope
from sellerflow.models import Application, Notification, Seller, utcnow
from sellerflow.outbox import Mailer, build_message
from sellerflow.payloads import DeliverNotificationInput, NotifyInput
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import unmet
from sellerflow.records import requirement_list
from sellerflow.templating import notification_variables


def _fmt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


class NotificationActivities:
    def __init__(
        self, engine: sa.Engine, settings: Settings, policy: Policy, mailer: Mailer | None = None
    ) -> None:
        self.engine, self.settings, self.policy = engine, settings, policy
        self.mailer = mailer

    @activity.defn
    def notify(self, inp: NotifyInput) -> bool:
        """Store the message once per key; `deliver_notification` sends it."""
        with session_scope(self.engine) as session:
            seller = session.get(Seller, uuid.UUID(inp.seller_id)) if inp.seller_id else None
            app_id = inp.application_id or (str(seller.application_id) if seller else None)
            app = session.get(Application, uuid.UUID(app_id)) if app_id else None
            if app is None:
                raise ValueError(f"no application behind notification {inp.key}")
            if seller is None and app.seller_id is not None:
                seller = session.get(Seller, app.seller_id)
            context: dict[str, Any] = {
                "recipient_name": app.contact_name,
                "legal_name": app.legal_name,
                "deadline": _fmt(app.deadline_at),
                # Four queries, for the one template (the reminder) that lists them.
                "missing": unmet(requirement_list(session, self.policy, app))
                if "missing" in notification_variables(inp.template)
                else [],
                "reasons": [],
                "reason": "",
                "ssm": seller.ssm_username if seller else "",
                "status": seller.status if seller else app.stage,
                "trial_ends_at": _fmt(seller.trial_ends_at) if seller else "",
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
        return stored

    @activity.defn
    def deliver_notification(self, inp: DeliverNotificationInput) -> bool:
        """Send one stored message and mark it sent; False when there is nothing to send.

        A retry never resends a message whose `sent_at` is committed, and a failure before the
        SMTP hand-off sends nothing. The window that remains is at-least-once: if the attempt
        dies after the SMTP server accepted the message but before `sent_at` commits, the retry
        sends it again. Both copies carry the same Message-ID (derived from the key), which
        mail clients and archives use to recognise a duplicate. Closing the window would need
        the SMTP server to take part in our transaction, which SMTP cannot.
        """
        if self.mailer is None:
            return False  # no SMTP configured: the outbox stays readable in the UI
        with session_scope(self.engine) as session:
            # FOR UPDATE (PostgreSQL) keeps a timed-out attempt that is still running and its
            # retry from sending at the same time; SQLite ignores it.
            row = session.exec(
                select(Notification)
                .where(col(Notification.id) == uuid.UUID(inp.notification_id))
                .with_for_update()
            ).first()
            if row is None or row.sent_at is not None:
                return False
            try:
                self.mailer.send(build_message(row, self.settings.mail_from))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as err:
                # The server's text names the address: only its codes go into the history.
                raise ApplicationError(
                    f"the mail server refused the message (SMTP {refusal_codes(err)})",
                    type="MailRefused",
                    non_retryable=True,
                ) from None
            row.sent_at = utcnow()
            session.add(row)
        activity.logger.info(
            "notification delivered", extra={"notification_key": row.idempotency_key}
        )
        return True


def refusal_codes(err: smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused) -> str:
    if isinstance(err, smtplib.SMTPSenderRefused):
        return str(err.smtp_code)
    return ", ".join(sorted({str(code) for code, _ in err.recipients.values()}))
