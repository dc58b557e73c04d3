"""The notification outbox: render once, store under an idempotency key, deliver separately."""

import contextlib
import smtplib
import ssl
import threading
import uuid
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.db import connection_of, insert_once, table_of
from sellerflow.models import Notification
from sellerflow.payloads import notification_id
from sellerflow.templating import render_notification

NOTIFICATIONS: sa.Table = table_of(Notification)


def mail_time(value: datetime | None) -> str:
    """A moment as messages write it ("" for none)."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


_STORED = sa.select(NOTIFICATIONS.c.id).where(
    NOTIFICATIONS.c.idempotency_key == sa.bindparam("key")
)


def enqueue(
    db: Session | sa.Connection,
    *,
    key: str,
    template: str,
    recipient: str,
    context: dict[str, Any],
    application_id: uuid.UUID | None = None,
    seller_id: uuid.UUID | None = None,
) -> bool:
    """Store a rendered message; False when the key was stored before (a retry)."""
    conn = connection_of(db)
    if conn.execute(_STORED, {"key": key}).first():
        return False  # checked first: a retry does not render the message again
    row = notification_row(
        key=key,
        template=template,
        recipient=recipient,
        context=context,
        application_id=application_id,
        seller_id=seller_id,
    )
    return insert_once(conn, NOTIFICATIONS, "idempotency_key", row)


def notification_row(
    *,
    key: str,
    template: str,
    recipient: str,
    context: dict[str, Any],
    application_id: uuid.UUID | None = None,
    seller_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The outbox row of a message, rendered: what `enqueue` stores, or many of them at once."""
    message = render_notification(template, context)
    return Notification(
        id=uuid.UUID(notification_id(key)),
        idempotency_key=key,
        template=template,
        recipient=recipient,
        subject=message.subject,
        body_text=message.text,
        body_html=message.html,
        application_id=application_id,
        seller_id=seller_id,
    ).model_dump()


def message_id(key: str) -> str:
    """The same key always gives the same Message-ID, so a resent copy is recognisably the same.

    The key's UUID rather than the key itself: short enough that the header is never folded.
    """
    return f"<{notification_id(key)}@sellerflow>"


class Stored(Protocol):
    """What a message needs of its outbox row."""

    idempotency_key: str
    recipient: str
    subject: str
    body_text: str
    body_html: str


def build_message(row: Stored, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, row.recipient, row.subject
    mail["Message-ID"] = message_id(row.idempotency_key)
    mail.set_content(row.body_text)
    mail.add_alternative(row.body_html, subtype="html")
    return mail


class CleartextLoginRefused(smtplib.SMTPException):
    """The server offers no STARTTLS: the password is not sent in clear text."""


class Mailer:
    """Sends over SMTP: smtp://host:port, smtps:// for TLS, user:password@ for login.

    TLS verifies the server's certificate and name against the system's trust store. With a
    password, smtp:// upgrades with STARTTLS before logging in, and refuses a server without it.

    Each activity thread keeps its connection open between messages (one TCP and EHLO
    exchange per thread, not per message; the process's exit closes them). A kept connection
    the server has closed fails before anything is sent, so the message goes out once more on
    a new connection.
    """

    def __init__(self, smtp_url: str, timeout: float = 10) -> None:
        self.url, self.timeout = urlparse(smtp_url), timeout
        self._local = threading.local()
        self._tls = ssl.create_default_context()

    def send(self, mail: EmailMessage) -> None:
        kept: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        if kept is not None:
            try:
                kept.send_message(mail)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self._forget(kept)  # closed by the server while idle: sent on a new one
            except BaseException:
                self._forget(kept)
                raise
        smtp = self._connect(mail)
        try:
            smtp.send_message(mail)
        except BaseException:
            self._forget(smtp)
            raise
        self._local.smtp = smtp

    def _connect(self, mail: EmailMessage) -> smtplib.SMTP:
        host, implicit_tls = self.url.hostname or "127.0.0.1", self.url.scheme == "smtps"
        port = self.url.port or (465 if implicit_tls else 25)
        # Our name for EHLO, from the sender's domain: smtplib would otherwise look it up by
        # reverse DNS for every message (seconds where that lookup times out).
        local = str(mail["From"]).rpartition("@")[2].strip(" >") or "localhost"
        smtp = (
            smtplib.SMTP_SSL(
                host, port, local_hostname=local, timeout=self.timeout, context=self._tls
            )
            if implicit_tls
            else smtplib.SMTP(host, port, local_hostname=local, timeout=self.timeout)
        )
        try:
            if self.url.username:
                if not implicit_tls:
                    self._starttls(smtp, host, port)
                smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
        except BaseException:
            self._forget(smtp)
            raise
        return smtp

    def _starttls(self, smtp: smtplib.SMTP, host: str, port: int) -> None:
        smtp.ehlo()
        if not smtp.has_extn("starttls"):
            raise CleartextLoginRefused(
                f"the mail server {host}:{port} offers no STARTTLS: refusing to send the SMTP "
                "password in clear text (use smtps://, or a server with STARTTLS)"
            )
        smtp.starttls(context=self._tls)
        smtp.ehlo()

    def _forget(self, smtp: smtplib.SMTP) -> None:
        if getattr(self._local, "smtp", None) is smtp:
            self._local.smtp = None
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.close()
