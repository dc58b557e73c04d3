"""Applications keep arriving while no worker runs; then a worker starts, is stopped in the
middle of the backlog, and another one starts: every workflow reaches its state, none lost.

The API starts onboarding workflows without a worker (Temporal keeps the tasks); a quarter of
the applicants also withdraw by signal, the fire-and-forget path, while the workers are down.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.worker import Worker

from api.main import build_state, create_app
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.models import Application, Notification
from sellerflow.payloads import WithdrawInput
from sellerflow.policy.model import load_policy
from sellerflow.temporal import connect
from sellerflow.vocabulary import Stage
from tests.conftest import make_settings
from tests.journey import create_application
from tests.mailbox import Mailbox
from tests.support.waiting import eventually
from worker import build_worker
from workflows.onboarding import OnboardingWorkflow

APPLICATIONS = 32
WITHDRAWN_EVERY = 4
DRAIN_SECONDS = 120.0


@dataclass
class Outage:
    """API and database up, no worker on the task queue until `worker()` is entered."""

    http: httpx.AsyncClient
    temporal: Client
    settings: Settings
    engine: sa.Engine

    def worker(self, executor: ThreadPoolExecutor) -> Worker:
        policy = load_policy(self.settings.sellerflow_policy)
        return build_worker(self.temporal, self.engine, self.settings, policy, executor)

    def count(self, template: str) -> int:
        with Session(self.engine) as session:
            query = select(func.count()).where(col(Notification.template) == template)
            return session.exec(query).one()

    async def until(self, condition: Callable[[], bool], why: str) -> None:
        await eventually(condition, timeout=DRAIN_SECONDS, why=why)


@pytest_asyncio.fixture
async def outage(
    tmp_path: Path, temporal_address: str, s3_endpoint: str, mailbox: Mailbox
) -> AsyncIterator[Outage]:
    settings = make_settings(tmp_path, temporal_address, s3_endpoint, smtp_url=mailbox.url)
    upgrade_schema(settings.database_url)
    client = await connect(settings)
    engine = make_engine(settings.database_url)
    app = create_app(settings, temporal=client)
    app.state.sellerflow = state = build_state(settings, client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield Outage(http, client, settings, engine)
    await state.close()
    engine.dispose()


async def test_backlog_drains_after_workers_were_down(outage: Outage, mailbox: Mailbox) -> None:
    emails = [f"applicant-{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(APPLICATIONS)]
    created = [
        await create_application(outage.http, confirm_email=False, contact_email=e) for e in emails
    ]
    app_ids = [app_id for app_id, _ in created]
    withdrawn = set(app_ids[::WITHDRAWN_EVERY])
    for app_id in withdrawn:
        handle = outage.temporal.get_workflow_handle(f"onboarding-{app_id}")
        await handle.signal(
            OnboardingWorkflow.withdraw_signal, WithdrawInput(reason="changed mind")
        )
    # The API answers from the database while no worker runs; nothing has happened yet.
    shown = await outage.http.get(f"/v1/applications/{app_ids[0]}", headers=created[0][1])
    assert shown.json()["stage"] == Stage.draft.value
    assert outage.count("application_received") == 0

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with outage.worker(executor):
            await outage.until(
                lambda: outage.count("application_received") >= APPLICATIONS // 3,
                why="the first worker sent no third of the received notices",
            )
        # Stopped in the middle of the backlog.
        received_at_stop = outage.count("application_received")
        withdrawn_at_stop = outage.count("withdrawn")
        assert received_at_stop + withdrawn_at_stop < APPLICATIONS + len(withdrawn)
        async with outage.worker(executor):
            await outage.until(
                lambda: (
                    outage.count("application_received") == APPLICATIONS
                    and outage.count("withdrawn") == len(withdrawn)
                ),
                why="the backlog never drained: a notice missing",
            )
            await settle(outage.temporal, app_ids, withdrawn)
    print(
        f"drained {APPLICATIONS} applications in {time.monotonic() - started:.1f} s "
        f"(stopped after {received_at_stop} received, {withdrawn_at_stop} withdrawn)"
    )

    with Session(outage.engine) as session:
        stages = {str(a.id): a.stage for a in session.exec(select(Application)).all()}
    assert stages == {a: Stage.withdrawn if a in withdrawn else Stage.draft for a in app_ids}
    for app_id, email in zip(app_ids, emails, strict=True):
        subjects = sorted(str(m["Subject"]) for m in mailbox.to(email))
        assert len(subjects) == (2 if app_id in withdrawn else 1), (email, subjects)


async def started_a_timer(handle: WorkflowHandle[Any, Any]) -> bool:
    events = [e.event_type for e in (await handle.fetch_history()).events]
    return EventType.EVENT_TYPE_TIMER_STARTED in events


async def settle(client: Client, app_ids: list[str], withdrawn: set[str]) -> None:
    """Each withdrawn workflow finished with that result; each other one waits for its
    applicant on a timer (its first steps all done)."""
    async with asyncio.timeout(DRAIN_SECONDS):
        for app_id in app_ids:
            handle = client.get_workflow_handle_for(OnboardingWorkflow.run, f"onboarding-{app_id}")
            if app_id in withdrawn:
                assert (await handle.result()).stage == Stage.withdrawn
                continue
            await eventually(
                partial(started_a_timer, handle),
                timeout=DRAIN_SECONDS,
                why=f"{handle.id} started no timer",
            )
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
