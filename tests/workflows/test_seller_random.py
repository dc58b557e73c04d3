"""The real SellerWorkflow driven by random message sequences and jumps in time (a few bounded
seeds), on the time-skipping server: after every step it still answers a query and an update
within seconds, and what its activities wrote (the read model: the seller's status, its open
tasks) equals the workflow's own state; once with recording activities, once with the worker's
real activities on a SQLite database (the seller row and the task rows).

A failure names the seed and prints the steps taken, to replay them as a regression test.
"""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import TimeSkipper

from sellerflow.config import Settings
from sellerflow.db import make_engine, session_scope, upgrade_schema
from sellerflow.models import Seller, Task
from sellerflow.payloads import (
    AppealFiledInput,
    AppealWithdrawnInput,
    ManualActionInput,
    SellerInput,
    StandingChangedInput,
)
from sellerflow.policy.model import load_policy
from sellerflow.temporal import connect
from sellerflow.vocabulary import TASK_DECISIONS, SellerActionKind, SellerStatus, Standing, TaskKind
from tests.support.builders import application_row, seller_row
from tests.support.workers import worker_on_new_queue
from tests.workflows.conftest import Harness, Recorded
from tests.workflows.random_runs import (
    ANSWER_SECONDS,
    jump_in_time,
    random_run,
    refused_in_seconds,
)
from worker import build_activities
from workflows.seller import SellerWorkflow

# (seed, graduated first): half the runs start in the trial, half on the ladder.
SEEDS = [(11, False), (23, True), (42, False), (77, True)]
JUMPS = [timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=31)]
DECIDER = {
    TaskKind.mystery_order: "lab1",
    TaskKind.trial_review: "ssm1",
    TaskKind.appeal_review: "ssm1",
}


def written_status(harness: Harness) -> SellerStatus:
    return harness.rec.statuses[-1] if harness.rec.statuses else SellerStatus.trial


def written_open_tasks(harness: Harness) -> set[str]:
    if harness.rec.cancelled_all:
        return set()
    done = set(harness.rec.closed) | set(harness.rec.cancelled)
    return {t.task_id for t in harness.rec.opened} - done


async def step(
    harness: Harness, handle: WorkflowHandle[SellerWorkflow, str], rng: random.Random, n: int
) -> str:
    """One random message or jump in time; returns what it did (for the failure report)."""
    view = await handle.query(SellerWorkflow.view)
    choice = rng.choices(
        ["time", "standing", "action", "appeal", "decide"], weights=[4, 3, 2, 1, 4]
    )[0]
    try:
        if choice == "time":
            return await jump_in_time(harness.skipper, handle, rng, JUMPS)
        if choice == "standing":
            standing = rng.choice(list(Standing))
            signal = StandingChangedInput(event_id=f"e{n}", standing=standing)
            await handle.signal(SellerWorkflow.standing_changed, signal)
            return f"standing {standing.value}"
        if choice == "action":
            # Offboarding ends the sequence: rare.
            action = rng.choices(list(SellerActionKind), weights=[3, 3, 3, 3, 1])[0]
            fraud = action == SellerActionKind.offboard and rng.random() < 0.5
            await handle.execute_update(
                SellerWorkflow.manual_action,
                ManualActionInput(
                    request_id=f"r{n}", action=action, actor="ops1", reason="test", fraud=fraud
                ),
            )
            return f"action {action.value} fraud={fraud}"
        if choice == "appeal":
            await handle.execute_update(
                SellerWorkflow.file_appeal, AppealFiledInput(appeal_id=f"a{n}")
            )
            return f"appeal a{n}"
        if not view.open_tasks:
            return "decide: nothing open"
        task_id, kind = rng.choice(sorted(view.open_tasks.items()))
        decision = rng.choice(sorted(TASK_DECISIONS[kind]))
        await harness.decide(handle, task_id, decision, actor=DECIDER[kind])
        return f"decide {kind.value} {decision.value}"
    except WorkflowUpdateFailedError as err:
        return f"{choice} refused: {err.cause}"


@pytest.mark.parametrize(("seed", "graduated"), SEEDS)
async def test_random_messages_and_time_keep_the_seller_workflow_answering(
    harness: Harness, seed: int, graduated: bool
) -> None:
    rng = random.Random(seed)
    handle = await harness.start()
    if graduated:
        await harness.graduate(handle)
    async for report in random_run(handle, seed, lambda n: step(harness, handle, rng, n)):
        view = await asyncio.wait_for(handle.query(SellerWorkflow.view), ANSWER_SECONDS)
        assert written_status(harness) == view.status, report
        assert written_open_tasks(harness) == set(view.open_tasks), report
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            assert view.status == SellerStatus.offboarded, report
            return
        # An update answers (here: refused by its validator) within seconds.
        await refused_in_seconds(
            handle.execute_update(
                SellerWorkflow.withdraw_appeal, AppealWithdrawnInput(appeal_id="none")
            )
        )


@pytest_asyncio.fixture
async def on_sqlite(
    temporal_address: str, tmp_path: Path
) -> AsyncIterator[tuple[Harness, sa.Engine, str]]:
    """The worker's real activities on a migrated SQLite database, one seller row in it."""
    url = f"sqlite:///{tmp_path / 'sellerflow.db'}"
    upgrade_schema(url)
    engine = make_engine(url)
    policy = load_policy("default")
    settings = Settings(temporal_address=temporal_address)
    with session_scope(engine) as session:
        app = application_row(policy.version)
        seller = seller_row(app, ssm_username="ssm1")
        app.seller_id = seller.id
        session.add_all([app, seller])
        seller_id, app_id = str(seller.id), str(app.id)
    client = await connect(settings)
    async with worker_on_new_queue(
        client,
        "seller-sqlite",
        workflows=[SellerWorkflow],
        activities=build_activities(engine, settings, policy),
    ) as task_queue:
        harness = Harness(client, TimeSkipper(client), Recorded(), policy, task_queue)
        await client.start_workflow(
            SellerWorkflow.run,
            SellerInput(seller_id=seller_id, application_id=app_id, policy=policy),
            id=f"seller-{seller_id}",
            task_queue=task_queue,
        )
        yield harness, engine, seller_id
    engine.dispose()


def database_read_model(engine: sa.Engine, seller_id: str) -> tuple[str, set[str]]:
    """The seller row's status and the seller's open task rows."""
    with Session(engine) as session:
        seller = session.get(Seller, uuid.UUID(seller_id))
        assert seller is not None
        tasks = session.exec(
            select(Task.id).where(Task.seller_id == seller.id, Task.status == "open")
        ).all()
        return seller.status, {str(t) for t in tasks}


@pytest.mark.parametrize("seed", [5, 61])
async def test_random_messages_keep_the_database_equal_to_the_workflow(
    on_sqlite: tuple[Harness, sa.Engine, str], seed: int
) -> None:
    harness, engine, seller_id = on_sqlite
    rng = random.Random(seed)
    handle = harness.client.get_workflow_handle_for(SellerWorkflow.run, f"seller-{seller_id}")
    async for report in random_run(handle, seed, lambda n: step(harness, handle, rng, n)):
        view = await asyncio.wait_for(handle.query(SellerWorkflow.view), ANSWER_SECONDS)
        written = database_read_model(engine, seller_id)
        assert written == (view.status.value, set(view.open_tasks)), report
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            return
