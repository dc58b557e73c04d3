"""Applicant- and seller-facing messages: stored in the outbox, then delivered by SMTP."""

import smtplib
import uuid
from typing import Any

import sqlalchemy as sa
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sellerflow import outbox, statements
from sellerflow.config import Settings
from sellerflow.models import UTCDateTime, utcnow
from sellerflow.outbox import NOTIFICATIONS, Mailer, build_message, mail_time
from sellerflow.payloads import (
    DeliverNotificationInput,
    NotifyInput,
    SweepOutboxInput,
    SweepOutboxResult,
)
from sellerflow.policy.disclosure import public_summary
from sellerflow.policy.model import Policy
from sellerflow.policy.notices import of_notice, statement_text
from sellerflow.policy.requirements import unmet
from sellerflow.policy.seller_state import LEGAL_NOTICES
from sellerflow.queries.requirements import requirement_list
from sellerflow.services.email_confirmation import confirmation_url
from sellerflow.services.seller_accounts import account_of_seller, new_link, remember_link
from sellerflow.tables import APPLICATIONS, SELLERS
from sellerflow.templating import notification_variables

_APPLICANT = (
    APPLICATIONS.c.id,
    APPLICATIONS.c.contact_name,
    APPLICATIONS.c.contact_email,
    APPLICATIONS.c.legal_name,
    APPLICATIONS.c.deadline_at,
    APPLICATIONS.c.stage,
    APPLICATIONS.c.seller_category,
    APPLICATIONS.c.country,
    APPLICATIONS.c.vat_number,
    APPLICATIONS.c.seller_id,
    SELLERS.c.id.label("seller_row_id"),
    SELLERS.c.ssm_username,
    SELLERS.c.status.label("seller_status"),
    SELLERS.c.trial_ends_at,
)
# Who a message goes to, with the seller behind the application when there is one.
_BY_APPLICATION = (
    sa.select(*_APPLICANT)
    .select_from(APPLICATIONS.outerjoin(SELLERS, SELLERS.c.id == APPLICATIONS.c.seller_id))
    .where(APPLICATIONS.c.id == sa.bindparam("app_id"))
)
_BY_SELLER = (
    sa.select(*_APPLICANT)
    .select_from(SELLERS.join(APPLICATIONS, APPLICATIONS.c.id == SELLERS.c.application_id))
    .where(SELLERS.c.id == sa.bindparam("seller_id"))
)
_UNSENT = (
    sa.select(
        NOTIFICATIONS.c.id,
        NOTIFICATIONS.c.idempotency_key,
        NOTIFICATIONS.c.recipient,
        NOTIFICATIONS.c.subject,
        NOTIFICATIONS.c.body_text,
        NOTIFICATIONS.c.body_html,
        NOTIFICATIONS.c.template,
        NOTIFICATIONS.c.created_at,
    )
    .where(NOTIFICATIONS.c.id == sa.bindparam("id"), NOTIFICATIONS.c.sent_at.is_(None))
    .with_for_update()
)
# What the sweeper still has to deliver: unsent, not given up, stored before the cutoff.
_DUE = (
    sa.select(NOTIFICATIONS.c.id)
    .where(
        NOTIFICATIONS.c.sent_at.is_(None),
        NOTIFICATIONS.c.gave_up_at.is_(None),
        NOTIFICATIONS.c.created_at < sa.bindparam("cutoff", type_=UTCDateTime()),
    )
    .order_by(NOTIFICATIONS.c.created_at)
    .limit(sa.bindparam("limit"))
)
_FAILED = (
    sa.update(NOTIFICATIONS)
    .where(NOTIFICATIONS.c.id == sa.bindparam("notification_id"))
    .values(
        attempts=NOTIFICATIONS.c.attempts + 1,
        last_error=sa.bindparam("error"),
        gave_up_at=sa.bindparam("gave_up_at", type_=UTCDateTime()),
    )
)
_SENT = (
    sa.update(NOTIFICATIONS)
    .where(NOTIFICATIONS.c.id == sa.bindparam("notification_id"))
    .values(sent_at=sa.bindparam("at", type_=UTCDateTime()))
)


class NotificationActivities:
    def __init__(
        self, engine: sa.Engine, settings: Settings, policy: Policy, mailer: Mailer | None = None
    ) -> None:
        self.engine, self.settings, self.policy = engine, settings, policy
        self.mailer = mailer

    @activity.defn
    def notify(self, inp: NotifyInput) -> bool:
        """Store the message once per key; `deliver_notification` sends it."""
        with self.engine.begin() as conn:
            return store_notice(conn, self.settings, self.policy, inp)

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
        with self.engine.begin() as conn:
            # FOR UPDATE (PostgreSQL) keeps a timed-out attempt that is still running and its
            # retry from sending at the same time; SQLite ignores it.
            row = conn.execute(_UNSENT, {"id": uuid.UUID(inp.notification_id)}).first()
            if row is None:
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
            conn.execute(_SENT, {"notification_id": row.id, "at": utcnow()})
        activity.logger.info(
            "notification delivered", extra={"notification_key": row.idempotency_key}
        )
        return True

    @activity.defn
    def sweep_outbox(self, inp: SweepOutboxInput) -> SweepOutboxResult:
        """Deliver every message left unsent (its workflow's delivery gave up, or the worker
        stopped in between), each under the same row lock and Message-ID as a first delivery.

        A failure is counted on the row with its error; a message that is not a legal notice is
        given up `give_up_after` its creation; legal notices are tried on every sweep, forever.
        """
        sent = failed = gave_up = 0
        if self.mailer is None:
            return SweepOutboxResult(sent=0, failed=0, gave_up=0)
        with self.engine.connect() as conn:
            due = conn.execute(
                _DUE, {"cutoff": inp.at - inp.older_than, "limit": inp.limit}
            ).scalars()
            ids = list(due)
        for notification_id in ids:
            activity.heartbeat(sent + failed)
            with self.engine.begin() as conn:
                row = conn.execute(_UNSENT, {"id": notification_id}).first()
                if row is None:
                    continue  # delivered meanwhile
                try:
                    self.mailer.send(build_message(row, self.settings.mail_from))
                except (smtplib.SMTPException, OSError) as err:
                    failed += 1
                    give_up = row.template not in LEGAL_NOTICES and (
                        row.created_at <= inp.at - inp.give_up_after
                    )
                    gave_up += give_up
                    error = f"{type(err).__name__}: {err}"[:500]
                    conn.execute(
                        _FAILED,
                        {
                            "notification_id": row.id,
                            "error": error,
                            "gave_up_at": inp.at if give_up else None,
                        },
                    )
                    continue
                conn.execute(_SENT, {"notification_id": row.id, "at": utcnow()})
                sent += 1
        if sent or failed:
            activity.logger.info(
                "outbox swept", extra={"sent": sent, "failed": failed, "gave_up": gave_up}
            )
        return SweepOutboxResult(sent=sent, failed=failed, gave_up=gave_up)


def refusal_codes(err: smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused) -> str:
    if isinstance(err, smtplib.SMTPSenderRefused):
        return str(err.smtp_code)
    return ", ".join(sorted({str(code) for code, _ in err.recipients.values()}))


def store_notice(conn: sa.Connection, settings: Settings, policy: Policy, inp: NotifyInput) -> bool:
    """Store the message once per key, in the caller's transaction (False: stored before)."""
    if inp.seller_id and not inp.application_id:
        found = conn.execute(_BY_SELLER, {"seller_id": uuid.UUID(inp.seller_id)})
    else:
        app_id = uuid.UUID(inp.application_id) if inp.application_id else None
        found = conn.execute(_BY_APPLICATION, {"app_id": app_id})
    app = found.first()
    if app is None:
        raise ValueError(f"no application behind notification {inp.key}")
    has_seller = app.seller_row_id is not None
    variables = notification_variables(inp.template)
    context: dict[str, Any] = {
        "recipient_name": app.contact_name,
        "legal_name": app.legal_name,
        "deadline": mail_time(app.deadline_at),
        # Four queries, for the one template (the reminder) that lists them.
        "missing": unmet(requirement_list(conn, policy, app)) if "missing" in variables else [],
        "reasons": [],
        "reason": "",
        "ssm": (app.ssm_username or "") if has_seller else "",
        "status": app.seller_status if has_seller else app.stage,
        "trial_ends_at": mail_time(app.trial_ends_at) if has_seller else "",
        "improve_by": "",
        "notice_ends_at": "",
        "activation_url": "",
        "statement": "",
        "against": "",
    }
    if "confirmation_url" in variables:
        context["confirmation_url"] = confirmation_url(settings, app.id)
    link = None
    if "activation_url" in variables and has_seller:
        # Read for the one template (account_ready) that holds the link.
        account_id = account_of_seller(conn, app.seller_row_id)
        link = new_link(settings, account_id) if account_id is not None else None
        context["activation_url"] = link.url if link is not None else ""
    context.update(inp.context)
    notice = None
    if inp.notice is not None and has_seller:
        notice = of_notice(inp.template, inp.notice, inp.at or utcnow())
    if notice is not None:
        context["statement"] = statement_text(notice)
    # The seller workflow's notices carry its reason records' summaries, which name the staff
    # member who decided ("extend by ssm1: ..."): the seller is told what, not who.
    context["reason"] = public_summary(str(context["reason"]))
    stored = outbox.enqueue(
        conn,
        key=inp.key,
        template=inp.template,
        recipient=app.contact_email,
        context=context,
        application_id=app.id,
        seller_id=app.seller_row_id,
    )
    if stored and link is not None:
        remember_link(conn, link)  # only the link of the stored mail works
    if stored and notice is not None:
        statements.record(conn, app.seller_row_id, inp.key, notice)
    return stored
