"""Notifications: every template renders from the activities, and SMTP delivery is not doubled."""

import smtplib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.applications import ApplicationActivities
from activities.notifications import NotificationActivities
from activities.rollout import RolloutActivities
from activities.sellers import SellerActivities
from activities.starts import OnboardingStarts
from activities.tasks import TaskActivities
from sellerflow.config import Settings
from sellerflow.db import session_scope
from sellerflow.models import (
    Application,
    Notification,
    PolicyRollout,
    PolicyVersion,
    Seller,
    SellerAccount,
    Task,
    utcnow,
)
from sellerflow.outbox import Mailer, message_id
from sellerflow.payloads import (
    ApplySellerStatusInput,
    DeliverNotificationInput,
    EscalateTaskInput,
    NotifyInput,
    SweepOutboxInput,
    notification_id,
)
from sellerflow.policy.checks import CheckOutcome
from sellerflow.policy.model import Capabilities, Policy
from sellerflow.policy.seller_state import ReasonRecord, StatusEffect
from sellerflow.registries import LocalRegistry
from sellerflow.rollout_payloads import AnnounceRolloutInput
from sellerflow.security import read_token
from sellerflow.services import seller_accounts
from sellerflow.services.checks import checks_of, record_checks
from sellerflow.services.seller_accounts import new_account
from sellerflow.templating import TEMPLATES
from sellerflow.temporal import connect
from sellerflow.vocabulary import CheckCode, CheckStatus, SellerActionKind, SellerStatus
from tests.conftest import Stack
from tests.journey import APPLICATION, create_application
from tests.mailbox import Mailbox
from tests.support.builders import application_row, seller_row
from tests.support.fakes import fake_of
from tests.support.waiting import eventually
from tests.support.workers import worker_on_new_queue
from worker import SWEEP_EVERY, SWEEP_SCHEDULE_ID, ensure_sweep_schedule
from workflows.common import ACTIVITY_OPTIONS
from workflows.sweep import SweepWorkflow

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REASON = ReasonRecord(summary="late shipment rate 9.1% over 30 days (warn at 8%)")
CAPS = Capabilities(listing_cap=None, daily_order_cap=None, payouts_deferred=False)


def make_seller(engine: sa.Engine, policy: Policy) -> tuple[Application, Seller]:
    with session_scope(engine) as session:
        app = application_row(policy.version, deadline_at=NOW)
        seller = seller_row(app, ssm_username="ssm1", trial_ends_at=NOW + timedelta(days=90))
        app.seller_id = seller.id
        session.add_all([app, seller])
        session.flush()
        session.add(SellerAccount(**new_account(seller.id, app.contact_email)))
    return app, seller


# What the workflows pass to `notify`, template by template (workflows/onboarding.py, seller.py).
ONBOARDING_NOTICES: dict[str, dict[str, object]] = {
    "application_received": {},
    "reminder": {},
    "in_review": {},
    "changes_requested": {"reasons": ["bank_account_proof: the holder is a private person"]},
    "rejected": {"reasons": ["not a professional seller"]},
    "withdrawn": {"reasons": []},
    "expired": {"reasons": []},
    "account_ready": {},
}
SELLER_NOTICES: dict[str, dict[str, object]] = {
    "trial_started": {"trial_ends_at": "2026-08-30 12:00 UTC"},
    "appeal_received": {},
    "appeal_decided": {"decision": "reinstate", "reason": "plan of action accepted"},
    "offboarding_notice": {"reason": REASON.summary, "notice_ends_at": "2026-07-01 12:00 UTC"},
    "trial_extended": {"reason": REASON.summary, "notice_ends_at": ""},
    "mystery_order_finding": {"reason": "battery below 80%", "notice_ends_at": ""},
    **{
        f"renewal_{event}": {"reason": "the identity document on file is valid until 2027-01-31"}
        for event in ("requested", "reminder", "lapsed", "refused", "accepted")
    },
}
STATUS_CHANGES = [
    (SellerStatus.active, SellerStatus.warned, SellerActionKind.warn),
    (SellerStatus.warned, SellerStatus.limited, SellerActionKind.limit),
    (SellerStatus.limited, SellerStatus.suspended, SellerActionKind.suspend),
    (SellerStatus.suspended, SellerStatus.active, SellerActionKind.reinstate),
    (SellerStatus.active, SellerStatus.offboarded, SellerActionKind.offboard),
    (SellerStatus.trial, SellerStatus.active, None),  # trial_passed
    (SellerStatus.warned, SellerStatus.active, None),  # recovered
]


def test_every_template_renders_with_the_context_the_activities_give_it(
    engine: sa.Engine, policy: Policy
) -> None:
    app, seller = make_seller(engine, policy)
    env = ActivityEnvironment()
    notes = NotificationActivities(engine, Settings(), policy)
    for template, context in ONBOARDING_NOTICES.items():
        inp = NotifyInput(template=template, key=template, application_id=str(app.id))
        env.run(notes.notify, inp.model_copy(update={"context": context}))
    for template, context in SELLER_NOTICES.items():
        inp = NotifyInput(template=template, key=template, seller_id=str(seller.id))
        env.run(notes.notify, inp.model_copy(update={"context": context}))
    sellers = SellerActivities(engine)
    for number, (before, after, action) in enumerate(STATUS_CHANGES):
        effect = StatusEffect(status=after, action=action, capabilities=CAPS, reason=REASON)
        env.run(
            sellers.apply_status,
            ApplySellerStatusInput(
                seller_id=str(seller.id),
                key=f"s{number}",
                from_status=before,
                effect=effect,
                at=NOW,
            ),
        )
    task_id = uuid.uuid4()
    with session_scope(engine) as session:
        session.add(
            Task(
                id=task_id, kind="onboarding_review", workflow_id="w", role="onboarding", due_at=NOW
            )
        )
    env.run(TaskActivities(engine).escalate_task, EscalateTaskInput(task_id=str(task_id), at=NOW))
    # A rollout's notice, stored for every seller at once.
    with session_scope(engine) as session:
        rules = policy.model_dump(mode="json")
        for version in (policy.version, "next"):
            session.add(PolicyVersion(version=version, rules=rules, proposed_by="ops1"))
        session.flush()
        session.add(
            PolicyRollout(
                version="next", replaces=policy.version, effective_at=NOW, requested_by="ops1"
            )
        )
    env.run(RolloutActivities(engine).announce_rollout, AnnounceRolloutInput(version="next"))
    # The one mail a request of the API stores, not an activity: a new activation link.
    with Session(engine) as session:
        seller_accounts.mail_link(session, Settings(), app.contact_email, None)

    with Session(engine) as session:
        rows = session.exec(select(Notification)).all()
    files = {path.name.split(".")[0] for path in (TEMPLATES / "notifications").glob("*.j2")}
    assert {row.template for row in rows} == files
    for path in (TEMPLATES / "notifications").glob("*.txt.j2"):
        assert path.with_name(path.name.replace(".txt.", ".html.")).exists(), path
    for row in rows:
        assert row.subject, row.template
        assert "Subject:" not in row.body_text, row.template
        assert row.body_html.startswith("<!doctype html>"), row.template
        greeting = "ops" if row.template == "task_escalated" else APPLICATION["contact_name"]
        assert f"Hello {greeting}" in row.body_text, row.template
    decided = next(r for r in rows if r.template == "appeal_decided")
    assert "reinstated on probation" in decided.body_text


# --- delivery through a Worker, with the first attempt failing at each point --------------


@workflow.defn(sandboxed=False)
class NotifyThenDeliver:
    @workflow.run
    async def run(self, inp: NotifyInput) -> bool:
        await ACTIVITY_OPTIONS.execute(NotificationActivities.notify, inp)
        return await workflow.execute_activity_method(
            NotificationActivities.deliver_notification,
            DeliverNotificationInput(notification_id=notification_id(inp.key)),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )


class FailingFirstAttempt(Mailer):
    """The real SMTP mailer, but attempt 1 dies before or after the SMTP hand-off."""

    def __init__(self, smtp_url: str, when: str) -> None:
        super().__init__(smtp_url)
        self.when = when

    def send(self, mail: EmailMessage) -> None:
        first = activity.info().attempt == 1
        if first and self.when == "before_send":
            raise ConnectionError("worker lost before the SMTP hand-off")
        super().send(mail)
        if first and self.when == "after_send":
            raise ConnectionError("worker lost after the SMTP hand-off, before sent_at")


class DyingAfterCommit:
    """The real delivery, but attempt 1 dies once `sent_at` is committed."""

    def __init__(self, notes: NotificationActivities) -> None:
        self.notes = notes

    @fake_of(NotificationActivities.deliver_notification)
    def deliver_notification(self, inp: DeliverNotificationInput) -> bool:
        sent = self.notes.deliver_notification(inp)
        if activity.info().attempt == 1:
            raise ConnectionError("worker lost after sent_at was committed")
        return sent


async def deliver_through_worker(
    engine: sa.Engine,
    policy: Policy,
    temporal_address: str,
    mailbox: Mailbox,
    *,
    fail: str,
) -> tuple[str, bool]:
    """Notify and deliver one message; returns (outbox key, the last attempt's result)."""
    app, _ = make_seller(engine, policy)
    settings = Settings(temporal_address=temporal_address, smtp_url=mailbox.url)
    mailer = FailingFirstAttempt(mailbox.url, fail)
    notes = NotificationActivities(engine, settings, policy, mailer)

    deliver = (
        DyingAfterCommit(notes).deliver_notification
        if fail == "after_commit"
        else notes.deliver_notification
    )
    client = await connect(settings)
    key = f"onboarding-{app.id}:received"
    async with worker_on_new_queue(
        client, "notify", workflows=[NotifyThenDeliver], activities=[notes.notify, deliver]
    ) as queue:
        result = await client.execute_workflow(
            NotifyThenDeliver.run,
            NotifyInput(template="application_received", key=key, application_id=str(app.id)),
            id=f"notify-{uuid.uuid4()}",
            task_queue=queue,
        )
    return key, result


@pytest.mark.parametrize("fail", ["before_send", "after_commit"])
async def test_a_retried_delivery_sends_once(
    engine: sa.Engine, policy: Policy, temporal_address: str, mailbox: Mailbox, fail: str
) -> None:
    key, last_attempt_sent = await deliver_through_worker(
        engine, policy, temporal_address, mailbox, fail=fail
    )

    received = mailbox.to(APPLICATION["contact_email"])
    assert len(received) == 1
    assert received[0]["Message-ID"] == message_id(key)
    assert last_attempt_sent is (fail == "before_send")  # after commit, the retry sends nothing
    with Session(engine) as session:
        row = session.get(Notification, uuid.UUID(notification_id(key)))
    assert row is not None
    assert row.sent_at is not None


async def test_the_window_between_send_and_commit_resends_under_the_same_message_id(
    engine: sa.Engine, policy: Policy, temporal_address: str, mailbox: Mailbox
) -> None:
    """At-least-once, honestly: a copy is sent twice, and both copies are the same message."""
    key, _ = await deliver_through_worker(
        engine, policy, temporal_address, mailbox, fail="after_send"
    )

    received = mailbox.to(APPLICATION["contact_email"])
    assert len(received) == 2
    assert {m["Message-ID"] for m in received} == {message_id(key)}


# --- the whole stack: an application's messages reach a real SMTP server -------------------


async def test_an_applications_messages_arrive_by_smtp(stack: Stack) -> None:
    app_id, auth = await create_application(stack.http)
    withdrawn = await stack.http.post(
        f"/v1/applications/{app_id}/withdraw", headers=auth, json={"reason": "changed our plans"}
    )
    assert withdrawn.status_code == 200, withdrawn.text

    def both_arrived() -> list[EmailMessage]:
        received = stack.mailbox.to(APPLICATION["contact_email"])
        return received if len(received) >= 2 else []

    def arrived() -> str:
        subjects = [m["Subject"] for m in stack.mailbox.to(APPLICATION["contact_email"])]
        return f"two mails expected, arrived: {subjects}"

    received = await eventually(both_arrived, timeout=10, why=arrived)
    subjects = [m["Subject"] for m in received]
    assert len(received) == 2, subjects
    assert "received" in subjects[0].lower()
    assert "withdrawn" in subjects[1].lower()
    assert all(m["From"] == stack.settings.mail_from for m in received)
    assert received[0]["Message-ID"] == message_id(f"onboarding-{app_id}:received")
    with Session(stack.engine) as session:
        rows = session.exec(
            select(Notification).where(Notification.application_id == uuid.UUID(app_id))
        ).all()
    assert len(rows) == 2
    assert all(row.sent_at is not None for row in rows)


def notified_text(engine: sa.Engine, policy: Policy, template: str) -> str:
    """The text of the one `template` message `notify` stores for a seller's application."""
    app, _ = make_seller(engine, policy)
    notes = NotificationActivities(engine, Settings(), policy)
    inp = NotifyInput(template=template, key=template, application_id=str(app.id))
    ActivityEnvironment().run(notes.notify, inp)
    with session_scope(engine) as session:
        row = session.exec(
            select(Notification).where(Notification.idempotency_key == template)
        ).one()
    return row.body_text


def test_account_ready_names_the_ssm_and_the_trial_end(engine: sa.Engine, policy: Policy) -> None:
    text = notified_text(engine, policy, "account_ready")
    assert "Your Seller Success Manager is ssm1." in text
    assert (NOW + timedelta(days=90)).strftime("%Y-%m-%d") in text


def test_account_ready_carries_the_only_activation_link_of_the_account(
    engine: sa.Engine, policy: Policy
) -> None:
    text = notified_text(engine, policy, "account_ready")
    token = seller_accounts.token_in(text)
    assert token is not None
    claims = read_token(Settings().sellerflow_secret_key, token)
    with session_scope(engine) as session:
        account = session.exec(select(SellerAccount)).one()
        assert account.link_nonce == claims["nonce"]
        assert str(account.id) == claims["sub"]


def test_a_reminder_lists_what_is_missing(engine: sa.Engine, policy: Policy) -> None:
    """Only templates that read `missing` pay for the requirement queries; the reminder does."""
    text = notified_text(engine, policy, "reminder")
    assert "still needs: " in text
    assert "company_registration_extract" in text


class RefusingMailer(Mailer):
    def send(self, mail: EmailMessage) -> None:
        address = str(mail["To"])
        raise smtplib.SMTPRecipientsRefused({address: (550, f"5.1.1 <{address}> unknown".encode())})


async def test_a_refused_mail_leaves_the_address_out_of_the_history(
    engine: sa.Engine, policy: Policy
) -> None:
    app, _ = make_seller(engine, policy)
    url = "smtp://127.0.0.1:1"
    notes = NotificationActivities(engine, Settings(smtp_url=url), policy, RefusingMailer(url))
    key = f"onboarding-{app.id}:received"
    env = ActivityEnvironment()
    env.run(
        notes.notify,
        NotifyInput(template="application_received", key=key, application_id=str(app.id)),
    )
    with pytest.raises(ApplicationError) as refused:
        env.run(
            notes.deliver_notification,
            DeliverNotificationInput(notification_id=notification_id(key)),
        )
    assert refused.value.type == "MailRefused"
    assert refused.value.non_retryable
    assert refused.value.message == "the mail server refused the message (SMTP 550)"
    assert refused.value.__cause__ is None


DEAD_SMTP = "smtp://127.0.0.1:1"


class Outage(Mailer):
    """Records what it sends; while `down`, every send fails as a dead SMTP server does."""

    def __init__(self) -> None:
        super().__init__(DEAD_SMTP)
        self.down = False
        self.sent: list[str] = []

    def send(self, mail: EmailMessage) -> None:
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")
        self.sent.append(str(mail["Message-ID"]))


def swept(notes: NotificationActivities, at: datetime) -> tuple[int, int, int]:
    result = ActivityEnvironment().run(notes.sweep_outbox, SweepOutboxInput(at=at))
    return result.sent, result.failed, result.gave_up


def outbox_rows(engine: sa.Engine) -> dict[str, Notification]:
    with Session(engine) as session:
        return {n.template: n for n in session.exec(select(Notification)).all()}


def unsent_receipt_and_suspension(
    engine: sa.Engine, policy: Policy
) -> tuple[NotificationActivities, Outage]:
    """An application's receipt and a suspension notice in the outbox, never delivered (keys
    `k-<template>`), and the activities that will deliver them through an `Outage` mailer."""
    app, _ = make_seller(engine, policy)
    mailer = Outage()
    notes = NotificationActivities(engine, Settings(smtp_url=DEAD_SMTP), policy, mailer)
    for template in ("application_received", "suspended"):
        inp = NotifyInput(template=template, key=f"k-{template}", application_id=str(app.id))
        ActivityEnvironment().run(notes.notify, inp)
    return notes, mailer


def test_the_sweeper_delivers_what_was_left_unsent_once(engine: sa.Engine, policy: Policy) -> None:
    notes, mailer = unsent_receipt_and_suspension(engine, policy)
    now = utcnow()
    assert swept(notes, now) == (0, 0, 0), "messages younger than the cutoff are the workflow's"
    assert swept(notes, now + timedelta(minutes=10)) == (2, 0, 0)
    assert swept(notes, now + timedelta(minutes=20)) == (0, 0, 0), "sent once"
    expected = [message_id(f"k-{t}") for t in ("application_received", "suspended")]
    assert sorted(mailer.sent) == sorted(expected)


def test_legal_notices_are_never_given_up_other_messages_are(
    engine: sa.Engine, policy: Policy
) -> None:
    notes, mailer = unsent_receipt_and_suspension(engine, policy)
    mailer.down = True
    now = utcnow()
    assert swept(notes, now + timedelta(hours=1)) == (0, 2, 0)
    rows = outbox_rows(engine)
    assert [rows[t].attempts for t in ("application_received", "suspended")] == [1, 1]
    assert "ConnectionRefusedError" in (rows["suspended"].last_error or "")
    # A day later the receipt is given up; the suspension notice is tried on every sweep.
    assert swept(notes, now + timedelta(hours=25)) == (0, 2, 1)
    assert swept(notes, now + timedelta(days=30)) == (0, 1, 0)
    rows = outbox_rows(engine)
    assert rows["application_received"].gave_up_at is not None
    assert (rows["suspended"].attempts, rows["suspended"].gave_up_at) == (3, None)
    mailer.down = False
    assert swept(notes, now + timedelta(days=31)) == (1, 0, 0)
    assert mailer.sent == [message_id("k-suspended")]
    assert outbox_rows(engine)["suspended"].sent_at is not None


async def test_the_worker_schedules_the_sweeper_every_few_minutes(
    engine: sa.Engine, policy: Policy, temporal_address: str
) -> None:
    app, _ = make_seller(engine, policy)
    mailer = Outage()
    queue = f"outbox-{uuid.uuid4()}"
    settings = Settings(temporal_address=temporal_address, temporal_task_queue=queue)
    notes = NotificationActivities(engine, settings, policy, mailer)
    starts = OnboardingStarts(engine, settings, policy)
    inp = NotifyInput(template="suspended", key="k-lost", application_id=str(app.id))
    ActivityEnvironment().run(notes.notify, inp)
    with session_scope(engine) as session:  # stored an hour ago, its delivery lost
        row = session.exec(select(Notification)).one()
        row.created_at = utcnow() - timedelta(hours=1)
        # An application whose workflow start was lost (the API answered 202).
        lost = application_row(
            policy.version,
            contact_email="lost@example.com",
            created_at=utcnow() - timedelta(hours=1),
        )
        session.add(lost)
    # A register that did not answer at verification, due to be asked again.
    silent = CheckOutcome(
        CheckCode.company_registry, CheckStatus.unavailable, "did not answer", "register"
    )
    with engine.begin() as conn:
        record_checks(conn, app.id, [silent], utcnow(), retry_at=utcnow() - timedelta(minutes=1))
    apps = ApplicationActivities(engine, LocalRegistry())
    client = await connect(settings)
    await ensure_sweep_schedule(client, settings)
    await ensure_sweep_schedule(client, settings)  # idempotent: a restarted worker
    schedule = client.get_schedule_handle(SWEEP_SCHEDULE_ID)
    try:
        described = await schedule.describe()
        assert [i.every for i in described.schedule.spec.intervals] == [SWEEP_EVERY]
        with ThreadPoolExecutor(max_workers=2) as executor:
            async with Worker(
                client,
                task_queue=queue,
                workflows=[SweepWorkflow],
                activities=[
                    notes.sweep_outbox,
                    starts.start_lost_onboardings,
                    apps.recheck_checks,
                ],
                activity_executor=executor,
            ):
                await schedule.trigger()
                await eventually(
                    lambda: mailer.sent, timeout=20, why="the sweep delivered no message"
                )
                started = client.get_workflow_handle(f"onboarding-{lost.id}")
                assert (await started.describe()).status is not None
                await started.terminate()
    finally:
        await schedule.delete()
    assert mailer.sent == [message_id("k-lost")]
    with session_scope(engine) as session:
        (check,) = checks_of(session, app.id)
    assert (check.status, check.attempts) == ("passed", 1), "the sweep asked the register again"
