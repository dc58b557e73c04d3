"""The rollout workflow on the time-skipping server, with real seller workflows and the real
rollout activities on a database: the sellers told, the version put in force at `effective_at`,
every running seller workflow switched page after page, once, even when the switch fails
halfway and resumes on another worker."""

import asyncio
import json
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleRange,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment, TimeSkipper
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

import workflows.rollout as rollout_module
from activities.rollout import EVALUATION_SCHEDULE_ID, RolloutActivities
from activities.sellers import SellerActivities
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.models import AuditLog, Notification, PolicyRollout, PolicyVersion, Seller
from sellerflow.payloads import EvaluationInput, RecordPolicySwitchInput, SellerInput
from sellerflow.policy.model import Policy, load_policy
from sellerflow.rollout_payloads import (
    EvaluationScheduleInput,
    RolloutInput,
    RolloutResult,
    SellersToSwitch,
    SellersToSwitchInput,
)
from sellerflow.vocabulary import PolicyStatus, RolloutState, SellerStatus
from tests.db.test_simulation import stricter
from tests.histories import HISTORIES
from tests.support.builders import application_row, seller_row
from tests.support.fakes import fake_of, fakes_in
from tests.support.waiting import eventually
from tests.workflows.conftest import Recorded, RecordingActivities
from worker import ALL_WORKFLOWS, ensure_evaluation_schedule
from workflows.rollout import PolicyRolloutWorkflow, workflow_id
from workflows.seller import SellerWorkflow

VERSION = "stricter-rollout"
LIVE_SELLERS = 10  # pages of 4: three pages
CRON = "5 4 * * *"


class SellerRecords(RecordingActivities):
    """The seller workflow's activities as recorders, but the switch recorded for real."""

    def __init__(self, engine: sa.Engine, policy: Policy) -> None:
        super().__init__(Recorded(), policy)
        self.real = SellerActivities(engine)

    @fake_of(SellerActivities.record_policy_switch)
    def record_policy_switch(self, inp: RecordPolicySwitchInput) -> None:
        self.real.record_policy_switch(inp)


class FailingSecondPage:
    """The real page reader, whose first attempt at the second page fails (a lost database,
    a worker killed): the rollout must resume there and switch nobody twice."""

    def __init__(self, engine: sa.Engine) -> None:
        self.real = RolloutActivities(engine)
        self.calls = 0
        self.failed = threading.Event()

    @fake_of(RolloutActivities.sellers_to_switch)
    def sellers_to_switch(self, inp: SellersToSwitchInput) -> SellersToSwitch:
        self.calls += 1
        if inp.after_seller_id and activity.info().attempt == 1 and not self.failed.is_set():
            self.failed.set()
            raise RuntimeError("the worker died after the first page")
        return self.real.sellers_to_switch(inp)


@dataclass
class World:
    engine: sa.Engine
    current: Policy
    proposed: Policy
    live: list[uuid.UUID]
    already: uuid.UUID  # started under the new version: nothing to switch
    offboarded: uuid.UUID


def add_seller(engine: sa.Engine, version: str, status: str = "active") -> uuid.UUID:
    with Session(engine) as session:
        app = application_row(version)
        seller = seller_row(app, status=status, policy_version=version)
        app.seller_id = seller.id
        session.add_all([app, seller])
        session.commit()
        return seller.id


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'rollout.db'}"
    upgrade_schema(url)
    engine = make_engine(url)
    current = load_policy("default")
    proposed = stricter(current).model_copy(update={"version": VERSION})
    with Session(engine) as session:
        session.add(
            PolicyVersion(
                version=current.version,
                status=PolicyStatus.active,
                rules=current.model_dump(mode="json"),
                proposed_by="built-in",
            )
        )
        session.add(
            PolicyVersion(
                version=VERSION,
                status=PolicyStatus.scheduled,
                rules=proposed.model_dump(mode="json"),
                proposed_by="ops1",
                approved_by="ops2",
            )
        )
        session.commit()
        session.add(
            PolicyRollout(
                version=VERSION,
                replaces=current.version,
                effective_at=datetime.now(UTC) + timedelta(days=15),
                requested_by="ops1",
            )
        )
        session.commit()
    live = [add_seller(engine, current.version) for _ in range(LIVE_SELLERS)]
    yield World(
        engine,
        current,
        proposed,
        live,
        already=add_seller(engine, VERSION),
        offboarded=add_seller(engine, current.version, status=SellerStatus.offboarded.value),
    )
    engine.dispose()


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollout_module, "PAGE_SIZE", 4)
    monkeypatch.setattr(rollout_module, "MAX_EVENTS_PER_RUN", 60)  # a continue-as-new or two


def rollout_activities(engine: sa.Engine, pages: FailingSecondPage) -> list[object]:
    real = RolloutActivities(engine)
    return [
        real.announce_rollout,
        real.activate_version,
        real.update_evaluation_schedule,
        *fakes_in(pages),
        real.record_progress,
        real.finish_rollout,
    ]


def rollout_worker(
    client: Client, world: World, task_queue: str, pages: FailingSecondPage, executor: Executor
) -> Worker:
    real = RolloutActivities(world.engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[PolicyRolloutWorkflow, SellerWorkflow],
        activities=[
            real.announce_rollout,
            real.activate_version,
            real.update_evaluation_schedule,
            *fakes_in(pages),
            real.record_progress,
            real.finish_rollout,
            *fakes_in(SellerRecords(world.engine, world.current)),
        ],
        activity_executor=executor,
        workflow_runner=UnsandboxedWorkflowRunner(),  # the page size is patched in the module
    )


async def start_sellers(
    client: Client, world: World, task_queue: str
) -> list[WorkflowHandle[SellerWorkflow, str]]:
    """The seller workflows of the live sellers (and of the one already under the new rules)."""
    handles = []
    for seller_id, policy in [(s, world.current) for s in world.live] + [
        (world.already, world.proposed)
    ]:
        handles.append(
            await client.start_workflow(
                SellerWorkflow.run,
                SellerInput(
                    seller_id=str(seller_id), application_id=str(uuid.uuid4()), policy=policy
                ),
                id=f"seller-{seller_id}",
                task_queue=task_queue,
            )
        )
    return handles


async def switches_in_history(handle: WorkflowHandle[SellerWorkflow, str]) -> int:
    """How many times the seller workflow recorded a switch (across its runs)."""
    count = 0
    async for event in handle.fetch_history_events():
        attributes = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes") and (
            attributes.activity_type.name == "record_policy_switch"
        ):
            count += 1
    return count


async def test_every_running_seller_switches_once_though_the_switch_fails_halfway(
    temporal_client: Client, world: World, small_pages: None
) -> None:
    task_queue = f"rollout-{uuid.uuid4()}"
    pages = FailingSecondPage(world.engine)
    with Session(world.engine) as session:
        effective_at = session.get(PolicyRollout, VERSION).effective_at  # type: ignore[union-attr]
    rollout_id = f"{workflow_id(VERSION)}-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with rollout_worker(temporal_client, world, task_queue, pages, executor):
            sellers = await start_sellers(temporal_client, world, task_queue)
            handle = await temporal_client.start_workflow(
                PolicyRolloutWorkflow.run,
                RolloutInput(version=VERSION, effective_at=effective_at),
                id=rollout_id,
                task_queue=task_queue,
            )
            # Past `effective_at` on the rollout's own clock (the sellers' clocks stand still).
            await TimeSkipper(temporal_client).fast_forward(handle, timedelta(days=16))
            await asyncio.to_thread(pages.failed.wait, 60)
            assert pages.failed.is_set(), "the second page never came"
        # The first worker is gone after the first page; another one takes the rollout over.
        async with rollout_worker(temporal_client, world, task_queue, pages, executor):
            result: RolloutResult = await handle.result()

            async def all_switched() -> list[str | None] | None:
                views = [(await s.query(SellerWorkflow.view)).policy_version for s in sellers]
                return views if set(views) == {VERSION} else None

            await eventually(all_switched, why="a seller workflow was not switched")
            switches = [await switches_in_history(s) for s in sellers]
            runs = [w async for w in temporal_client.list_workflows(f"WorkflowId = '{rollout_id}'")]
            for seller in sellers:
                await seller.terminate()

    assert (result.sellers_notified, result.sellers_switched) == (LIVE_SELLERS + 1, LIVE_SELLERS)
    assert switches == [1] * LIVE_SELLERS + [0], "a seller switched twice, or one not at all"
    assert WorkflowExecutionStatus.CONTINUED_AS_NEW in {r.status for r in runs}
    with Session(world.engine) as session:
        versions = {v.version: v.status for v in session.exec(select(PolicyVersion))}
        assert versions == {
            world.current.version: PolicyStatus.retired,
            VERSION: PolicyStatus.active,
        }
        rollout = session.get(PolicyRollout, VERSION)
        assert rollout is not None
        assert (rollout.state, rollout.sellers_switched) == (RolloutState.completed, LIVE_SELLERS)
        assert rollout.sellers_notified == LIVE_SELLERS + 1  # the offboarded seller is not told
        told = session.exec(
            select(Notification.seller_id).where(Notification.template == "policy_change")
        ).all()
        assert set(told) == {*world.live, world.already}
        running = {s.id: s.policy_version for s in session.exec(select(Seller))}
        assert running == {
            **dict.fromkeys(world.live, VERSION),
            world.already: VERSION,
            world.offboarded: world.current.version,
        }
        audited = session.exec(
            select(AuditLog.subject_id).where(col(AuditLog.action) == "seller.policy_switched")
        ).all()
        assert sorted(audited) == sorted(str(s) for s in world.live)
    assert pages.failed.is_set()


async def test_the_switch_moves_the_evaluation_schedule_to_the_new_rules(
    temporal_client: Client, world: World, tmp_path: Path
) -> None:
    settings = Settings(temporal_task_queue=f"rollout-{uuid.uuid4()}")
    switch = RolloutActivities(world.engine, temporal_client)
    inp = EvaluationScheduleInput(
        policy=world.proposed.model_copy(
            update={
                "evaluation": world.proposed.evaluation.model_copy(update={"cron": "5 4 * * *"})
            }
        )
    )
    assert not await ActivityEnvironment().run(switch.update_evaluation_schedule, inp)
    await ensure_evaluation_schedule(temporal_client, settings, world.current)
    schedule = temporal_client.get_schedule_handle(EVALUATION_SCHEDULE_ID)
    try:
        assert await ActivityEnvironment().run(switch.update_evaluation_schedule, inp)

        described = await schedule.describe()
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        [started] = pydantic_data_converter.payload_converter.from_payloads(
            list(action.args),  # type: ignore[arg-type]
            [EvaluationInput],
        )
        assert started.policy.version == VERSION
        # The server keeps a cron as a calendar: 04:05 daily.
        [calendar] = described.schedule.spec.calendars
        assert (list(calendar.hour), list(calendar.minute)) == (
            [ScheduleRange(4, 4)],
            [ScheduleRange(5, 5)],
        )
        assert action.task_queue == settings.temporal_task_queue  # the rest as it was
    finally:
        await schedule.delete()


async def test_a_switched_seller_history_replays(
    temporal_client: Client, world: World, small_pages: None
) -> None:
    """The new message in a seller history (and the rollout's own) replays deterministically."""
    task_queue = f"rollout-{uuid.uuid4()}"
    pages = FailingSecondPage(world.engine)
    pages.failed.set()  # no failure this time
    with Session(world.engine) as session:
        rollout = session.get(PolicyRollout, VERSION)
        assert rollout is not None
        effective_at = rollout.effective_at
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with rollout_worker(temporal_client, world, task_queue, pages, executor):
            sellers = await start_sellers(temporal_client, world, task_queue)
            handle = await temporal_client.start_workflow(
                PolicyRolloutWorkflow.run,
                RolloutInput(version=VERSION, effective_at=effective_at),
                id=f"{workflow_id(VERSION)}-{uuid.uuid4()}",
                task_queue=task_queue,
            )
            await TimeSkipper(temporal_client).fast_forward(handle, timedelta(days=16))
            await handle.result()

            async def switched() -> bool:
                view = await sellers[0].query(SellerWorkflow.view)
                return view.policy_version == VERSION

            await eventually(switched, why="the first seller was not switched")
            seller_history = await sellers[0].fetch_history()
            rollout_history = await handle.fetch_history()
            for seller in sellers:
                await seller.terminate()
    if os.environ.get("SELLERFLOW_RECORD_HISTORIES") == "1":  # kept for tests/test_replay.py
        saved = json.dumps(seller_history.to_json_dict(), indent=1) + "\n"
        (HISTORIES / "seller-policy-switched.json").write_text(saved)
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=pydantic_data_converter)
    for history in (seller_history, rollout_history):
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, history.workflow_id
    signals = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in seller_history.events
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert signals == ["policy_changed"]
