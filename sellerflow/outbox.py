"""The notification outbox: render once, store under an idempotency key, deliver separately."""

import smtplib
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlparse

from sqlmodel import Session, col, select

from sellerflow.models import Notification, utcnow
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


def deliver_pending(session: Session, smtp_url: str, sender: str, limit: int = 100) -> int:
    """Send unsent outbox rows over SMTP (smtp://host:port) and mark them sent."""
    rows = session.exec(
        select(Notification)
        .where(col(Notification.sent_at).is_(None))
        .order_by(col(Notification.created_at))
        .limit(limit)
    ).all()
    if not rows:
        return 0
    url = urlparse(smtp_url)
    with smtplib.SMTP(url.hostname or "127.0.0.1", url.port or 25, timeout=10) as smtp:
        for row in rows:
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = sender, row.recipient, row.subject
            mail["Message-ID"] = f"<{row.idempotency_key.replace(':', '.')}@sellerflow>"
            mail.set_content(row.body_text)
            mail.add_alternative(row.body_html, subtype="html")
            smtp.send_message(mail)
            row.sent_at = utcnow()
            session.add(row)
    return len(rows)
