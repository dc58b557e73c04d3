"""The notification outbox: render once, store under an idempotency key, deliver separately."""

import smtplib
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlparse

from sqlmodel import Session, col, select

from sellerflow.models import Notification
from sellerflow.payloads import notification_id
from sellerflow.templating import render_notification


def enqueue(
    session: Session,
    *,
    key: str,
    template: str,
    recipient: str,
    context: dict[str, Any],
    application_id: uuid.UUID | None = None,
    seller_id: uuid.UUID | None = None,
) -> bool:
    """Store a rendered message; False when the key was stored before (a retry)."""
    exists = session.exec(
        select(col(Notification.id)).where(col(Notification.idempotency_key) == key)
    ).first()
    if exists:
        return False
    message = render_notification(template, context)
    session.add(
        Notification(
            id=uuid.UUID(notification_id(key)),
            idempotency_key=key,
            template=template,
            recipient=recipient,
            subject=message.subject,
            body_text=message.text,
            body_html=message.html,
            application_id=application_id,
            seller_id=seller_id,
        )
    )
    return True


def message_id(key: str) -> str:
    """The same key always gives the same Message-ID, so a resent copy is recognisably the same.

    The key's UUID rather than the key itself: short enough that the header is never folded.
    """
    return f"<{notification_id(key)}@sellerflow>"


def build_message(row: Notification, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, row.recipient, row.subject
    mail["Message-ID"] = message_id(row.idempotency_key)
    mail.set_content(row.body_text)
    mail.add_alternative(row.body_html, subtype="html")
    return mail


class Mailer:
    """Sends over SMTP: smtp://host:port, smtps:// for TLS, user:password@ for login."""

    def __init__(self, smtp_url: str, timeout: float = 10) -> None:
        self.url, self.timeout = urlparse(smtp_url), timeout

    def send(self, mail: EmailMessage) -> None:
        host, tls = self.url.hostname or "127.0.0.1", self.url.scheme == "smtps"
        smtp_class = smtplib.SMTP_SSL if tls else smtplib.SMTP
        port = self.url.port or (465 if tls else 25)
        # Our name for EHLO, from the sender's domain: smtplib would otherwise look it up by
        # reverse DNS for every message (seconds where that lookup times out).
        local = str(mail["From"]).rpartition("@")[2].strip(" >") or "localhost"
        with smtp_class(host, port, local_hostname=local, timeout=self.timeout) as smtp:
            if self.url.username:
                smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
            smtp.send_message(mail)
