"""Processes die and come back: the worker inside account setup, Temporal itself, the API.

Each test starts the processes it kills (tests/faults/conftest.py) and checks that no step of
an application is lost or done twice.
"""

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml
from sqlmodel import Session, SQLModel, col, select
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from activities.applications import ApplicationActivities, seller_id_for
from activities.onboarding import OnboardingActivities
from sellerflow.cli.devstack import free_port
from sellerflow.models import AuditLog, Notification, Seller
from sellerflow.payloads import CompleteTaskInput, SetupAccountInput
from sellerflow.policy.model import FILES, load_policy
from sellerflow.registries import LocalRegistry
from sellerflow.services.tasks import completion_update_id
from sellerflow.temporal import connect
from sellerflow.vocabulary import Decision
from tests.conftest import make_settings
from tests.faults.conftest import (
    ChildProcesses,
    RestartableTemporal,
    asgi_http,
    in_process_worker,
    prepared,
)
from tests.idle import wait_for_idle
from tests.journey import (
    approved_seller,
    complete_application,
    create_application,
    decide,
    staff_token,
    wait_for_stage,
    wait_for_task,
)
from tests.support.fakes import activity_name
from tests.support.waiting import eventually
from workflows.onboarding import OnboardingWorkflow

# The account is created by the move into account setup, a `transition` with an `account`.
SETUP_ACCOUNT = activity_name(OnboardingActivities.transition)
# setup_account's start-to-close timeout is 30 s (workflows/common.py): only then does Temporal
# give up on an attempt whose worker died, and retry it.
ACTIVITY_RETRY_WAIT = 60
REVIEW_SLA_SECONDS = 5


def count(engine: sa.Engine, model: type[SQLModel], *where: Any) -> int:
    with Session(engine) as session:
        query = sa.select(sa.func.count()).select_from(model).where(*where)
        return int(session.execute(query).scalar_one())


async def history(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    return [event async for event in handle.fetch_history_events()]


async def first_timer_fires_at(handle: WorkflowHandle[Any, Any], timeout: float = 20) -> datetime:
    """When the first durable timer of a workflow fires, once the workflow has started one (and
    once it exists: a seller workflow starts just after its account is written)."""

    async def fires_at() -> datetime | None:
        for event in await history(handle):
            if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
                fire_in = event.timer_started_event_attributes.start_to_fire_timeout
                return event.event_time.ToDatetime(tzinfo=UTC) + fire_in.ToTimedelta()
        return None

    return await eventually(
        fires_at, timeout=timeout, why=f"{handle.id} started no timer", ignoring=(RPCError,)
    )


# --- the worker dies inside setup_account -----------------------------------------------------


@contextmanager
def seller_table_locked(engine: sa.Engine) -> Iterator[sa.Connection]:
    """An open transaction holding the seller table: setup_account blocks on its first read."""
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("LOCK TABLE seller IN ACCESS EXCLUSIVE MODE"))
        yield conn


async def wait_until_setup_account_blocked(
    handle: WorkflowHandle[Any, Any], lock: sa.Connection, timeout: float = 20
) -> None:
    """Temporal has handed setup_account to a worker, and its transaction waits for our lock."""
    waiting = "SELECT count(*) FROM pg_locks WHERE relation = 'seller'::regclass AND NOT granted"

    async def blocked() -> bool:
        started = [
            pending
            for pending in (await handle.describe()).raw_description.pending_activities
            if pending.activity_type.name == SETUP_ACCOUNT
            and pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            and pending.attempt == 1
        ]
        return bool(started) and lock.execute(sa.text(waiting)).scalar_one() == 1

    await eventually(
        blocked,
        timeout=timeout,
        why="setup_account never started and blocked on the seller table",
    )


def sets_up_account(move: bytes) -> bool:
    return json.loads(move).get("account") is not None


async def setup_account_attempts(handle: WorkflowHandle[Any, Any]) -> list[int]:
    """The attempt on which each setup_account activity of the workflow ran to the end."""
    events = await history(handle)
    scheduled = {
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == SETUP_ACCOUNT
        and sets_up_account(e.activity_task_scheduled_event_attributes.input.payloads[0].data)
    }
    return [
        e.activity_task_started_event_attributes.attempt
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]


def assert_set_up_once(engine: sa.Engine, app_id: str, seller_id: uuid.UUID) -> None:
    """One seller, one creation record, one account-ready and one trial-started message."""
    application, seller = uuid.UUID(app_id), str(seller_id)
    assert count(engine, Seller, col(Seller.application_id) == application) == 1
    created = col(AuditLog.action) == "seller.created"
    assert count(engine, AuditLog, created, col(AuditLog.subject_id) == seller) == 1
    ready = col(Notification.template) == "account_ready"
    assert count(engine, Notification, ready, col(Notification.application_id) == application) == 1
    started = col(Notification.template) == "trial_started"
    assert count(engine, Notification, started, col(Notification.seller_id) == seller_id) == 1


@pytest.mark.postgres
async def test_worker_killed_inside_account_setup_sets_the_account_up_exactly_once(
    tmp_path: Path,
    postgres_url: str,
    s3_endpoint: str,
    restartable_temporal: RestartableTemporal,
    child_processes: ChildProcesses,
) -> None:
    # Its own Temporal server: worker.py also creates the evaluation Schedule, which must not
    # outlive this test on the session's server.
    settings = make_settings(
        tmp_path, restartable_temporal.address, s3_endpoint, database_url=postgres_url
    )
    engine = prepared(settings)
    policy = load_policy(settings.sellerflow_policy)
    temporal = await connect(settings)
    first_worker = child_processes.worker(settings)
    async with asgi_http(settings, temporal) as http:
        app_id, auth = await create_application(http)
        await complete_application(http, policy, app_id, auth)
        assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth)).is_success
        onboarding1 = await staff_token(http, "onboarding1")
        review = await wait_for_task(http, onboarding1, "onboarding_review", subject=app_id)
        assert (await decide(http, onboarding1, review["id"], "approve")).status_code == 200
        ssm1 = await staff_token(http, "ssm1")
        signoff = await wait_for_task(http, ssm1, "ssm_signoff", subject=app_id)
        onboarding = temporal.get_workflow_handle(f"onboarding-{app_id}")

        with seller_table_locked(engine) as lock:
            signed_off = await decide(http, ssm1, signoff["id"], "approve")
            assert signed_off.json()["state"] == "account_setup", signed_off.text
            await wait_until_setup_account_blocked(onboarding, lock)
            first_worker.kill()

        assert count(engine, Seller, col(Seller.application_id) == uuid.UUID(app_id)) == 0
        child_processes.worker(settings)
        app = await wait_for_stage(http, auth, app_id, "approved", timeout=ACTIVITY_RETRY_WAIT)
    await onboarding.result()
    seller_id = seller_id_for(app_id)
    await first_timer_fires_at(temporal.get_workflow_handle(f"seller-{seller_id}"))

    assert app["seller_id"] == str(seller_id)
    assert await setup_account_attempts(onboarding) == [2]
    assert_set_up_once(engine, app_id, seller_id)
    with Session(engine) as session:
        seller = session.get_one(Seller, seller_id)
    caps = policy.trial.capabilities
    assert (seller.listing_cap, seller.daily_order_cap, seller.payouts_deferred) == (
        caps.listing_cap,
        caps.daily_order_cap,
        caps.payouts_deferred,
    )
    sellers = [w.id async for w in temporal.list_workflows("WorkflowType = 'SellerWorkflow'")]
    assert sellers == [f"seller-{seller_id}"]

    # The retry of an attempt that committed but died before reporting back changes nothing.
    again = ApplicationActivities(engine, LocalRegistry()).setup_account(
        SetupAccountInput(
            application_id=app_id,
            ssm_username="ssm2",
            capabilities=caps,
            at=datetime.now(UTC),
            trial_ends_at=datetime.now(UTC) + timedelta(days=1),
        )
    )
    assert again.seller_id == str(seller_id)
    assert_set_up_once(engine, app_id, seller_id)
    with Session(engine) as session:
        unchanged = session.get_one(Seller, seller_id)
    assert (unchanged.ssm_username, unchanged.trial_ends_at) == ("ssm1", seller.trial_ends_at)
    engine.dispose()


# --- Temporal stops while timers are running --------------------------------------------------


def short_timers_policy(tmp_path: Path) -> Path:
    """The demo policy with a review SLA and mystery orders seconds away, and no other timers
    (reminders, deadlines, the trial end) inside the test's run."""
    policy = yaml.safe_load((FILES / "demo.yaml").read_text())
    policy["version"] = "faults-short-timers"
    policy["durations"].update(
        applicant_deadline="1 hour",
        reminders=[],
        changes_deadline="1 hour",
        task_sla=f"{REVIEW_SLA_SECONDS} seconds",
        mystery_order_sla="1 hour",
        # Mystery orders fall at 10-80 % of the trial: the first one 5 s after approval at the
        # soonest (time enough to crash the server before it), typically ~8 s with twelve.
        trial="50 seconds",
    )
    policy["trial"]["mystery_orders"] = 12
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


async def wait_for_worker(handle: WorkflowHandle[Any, Any], timeout: float = 30) -> None:
    """A query is answered only by a worker: once one is, workers poll the server again."""

    async def answered() -> bool:
        await handle.query(OnboardingWorkflow.state, rpc_timeout=timedelta(seconds=1))
        return True

    # Each query may take its rpc_timeout while the server is down: the limit is wall-clock.
    await eventually(
        answered,
        timeout=timeout,
        tries=1,
        ignoring=(RPCError,),
        why=f"no worker answered for {handle.id}",
    )


async def wait_for_escalation(
    http: httpx.AsyncClient, auth: dict[str, str], task_id: str, timeout: float = 20
) -> dict[str, Any]:

    async def escalated() -> dict[str, Any] | None:
        listed = await http.get("/v1/tasks", headers=auth, params={"limit": 200})
        task = next((t for t in listed.json()["data"] if t["id"] == task_id), None)
        return dict(task) if task is not None and task["escalated"] else None

    return await eventually(escalated, timeout=timeout, why=f"task {task_id} was not escalated")


async def test_timers_due_while_temporal_is_down_fire_after_it_restarts(
    tmp_path: Path, s3_endpoint: str, restartable_temporal: RestartableTemporal
) -> None:
    policy_file = short_timers_policy(tmp_path)
    settings = make_settings(
        tmp_path, restartable_temporal.address, s3_endpoint, sellerflow_policy=str(policy_file)
    )
    engine = prepared(settings)
    policy = load_policy(settings.sellerflow_policy)
    temporal = await connect(settings)
    async with in_process_worker(temporal, engine, settings), asgi_http(settings, temporal) as http:
        onboarding1, lab1 = await staff_token(http, "onboarding1"), await staff_token(http, "lab1")
        in_review, auth = await create_application(http)
        await complete_application(http, policy, in_review, auth)
        _, seller_id, _ = await approved_seller(http, policy)
        in_trial = temporal.get_workflow_handle(f"seller-{seller_id}")
        mystery_due = await first_timer_fires_at(in_trial)
        assert (await http.post(f"/v1/applications/{in_review}/submit", headers=auth)).is_success
        review = await wait_for_task(http, onboarding1, "onboarding_review", subject=in_review)
        review_due = datetime.fromisoformat(review["due_at"])
        onboarding = temporal.get_workflow_handle(f"onboarding-{in_review}")

        crashed_at = datetime.now(UTC)
        assert crashed_at < min(review_due, mystery_due), "a timer fell due before the crash"
        restartable_temporal.kill()
        # Nothing can be polled while the server is down: the clock has to pass both timers.
        await asyncio.sleep((max(review_due, mystery_due) - crashed_at).total_seconds() + 1)
        restartable_temporal.start()
        await wait_for_worker(onboarding)

        mystery = await wait_for_task(http, lab1, "mystery_order", subject=seller_id)
        assert datetime.fromisoformat(mystery["created_at"]) > crashed_at
        escalated = await wait_for_escalation(http, onboarding1, review["id"])
        assert (escalated["status"], escalated["priority"]) == ("open", 1)
        # One mail per member of the role that must act (nobody had claimed the review).
        prefix = f"task-escalated:{review['id']}:"
        with Session(engine) as session:
            keys = session.exec(
                select(Notification.idempotency_key).where(
                    col(Notification.idempotency_key).startswith(prefix)
                )
            ).all()
        assert sorted(k.removeprefix(prefix) for k in keys) == ["onboarding1", "onboarding2"]

        # A clean stop while the review waits: the decision goes through after the restart.
        restartable_temporal.stop()
        restartable_temporal.start()
        await wait_for_worker(onboarding)
        approved = await decide(http, onboarding1, review["id"], "approve")
        assert approved.json()["state"] == "ssm_signoff", approved.text
        ssm1 = await staff_token(http, "ssm1")
        signoff = await wait_for_task(http, ssm1, "ssm_signoff", subject=in_review)
        assert (await decide(http, ssm1, signoff["id"], "approve")).status_code == 200
        await wait_for_stage(http, auth, in_review, "approved")
        seller = (await http.get(f"/v1/sellers/{seller_id}", headers=onboarding1)).json()
        assert seller["status"] == "trial"
    engine.dispose()


# --- the API dies with a decision in flight ---------------------------------------------------


async def update_waiting(handle: WorkflowHandle[Any, Any]) -> None:
    """Until an update waits at Temporal for a worker: the idle workflow has a task again."""

    async def waiting() -> bool:
        return (await handle.describe()).raw_description.HasField("pending_workflow_task")

    await eventually(waiting, timeout=20, why="the update never reached Temporal")


async def update_events(handle: WorkflowHandle[Any, Any], update_id: str) -> list[str]:
    """The accepted / completed events of one update in the workflow's history."""
    found = []
    for e in await history(handle):
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            meta = e.workflow_execution_update_accepted_event_attributes.accepted_request.meta
            step = "accepted"
        elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            meta, step = e.workflow_execution_update_completed_event_attributes.meta, "completed"
        else:
            continue
        if meta.update_id == update_id:
            found.append(step)
    return found


async def wait_for_acceptance(
    handle: WorkflowHandle[Any, Any], update_id: str, timeout: float = 20
) -> None:

    async def accepted() -> bool:
        return "accepted" in await update_events(handle, update_id)

    await eventually(
        accepted, timeout=timeout, why=f"update {update_id} never reached the workflow"
    )


async def approve_with_key(
    http: httpx.AsyncClient, auth: dict[str, str], task_id: str, key: str
) -> httpx.Response:
    """A reviewer's approval that the client may send again, unchanged, after a failure."""
    return await http.post(
        f"/v1/tasks/{task_id}/complete",
        headers={**auth, "Idempotency-Key": key},
        json={"decision": "approve", "comment": "all in order"},
    )


async def test_api_killed_mid_journey_loses_nothing(
    tmp_path: Path, temporal_address: str, s3_endpoint: str, child_processes: ChildProcesses
) -> None:
    settings = make_settings(tmp_path, temporal_address, s3_endpoint)
    engine = prepared(settings)
    policy = load_policy(settings.sellerflow_policy)
    temporal = await connect(settings)
    port = free_port()
    first_api = child_processes.api(settings, port=port)
    base_url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        async with in_process_worker(temporal, engine, settings):
            app_id, auth = await create_application(http)
            await complete_application(http, policy, app_id, auth)
            submitted = await http.post(f"/v1/applications/{app_id}/submit", headers=auth)
            assert submitted.is_success
            onboarding1 = await staff_token(http, "onboarding1")
            ssm1 = await staff_token(http, "ssm1")
            review = await wait_for_task(http, onboarding1, "onboarding_review", subject=app_id)
            claimed = await http.post(f"/v1/tasks/{review['id']}/claim", headers=onboarding1)
            assert claimed.status_code == 200, claimed.text
            onboarding = temporal.get_workflow_handle(f"onboarding-{app_id}")
            await wait_for_idle(onboarding)

        # The reviewer approves while no worker runs: the API waits for the workflow's answer
        # and dies waiting. The decision has reached Temporal, not yet the workflow.
        update_id = completion_update_id(
            uuid.UUID(review["id"]),
            "onboarding1",
            CompleteTaskInput(
                task_id=review["id"],
                actor="onboarding1",
                decision=Decision.approve,
                comment="all in order",
            ),
            "review-approve",
        )
        in_flight = asyncio.create_task(
            approve_with_key(http, onboarding1, review["id"], "review-approve")
        )
        await update_waiting(onboarding)
        first_api.kill()
        with pytest.raises(httpx.TransportError):
            await in_flight

        # A worker and a new API; the client retries the same request with the same tokens.
        async with in_process_worker(temporal, engine, settings):
            child_processes.api(settings, port=port)
            retried = await approve_with_key(http, onboarding1, review["id"], "review-approve")
            assert retried.status_code == 200, retried.text
            assert retried.json()["state"] == "ssm_signoff"
            assert await update_events(onboarding, update_id) == ["accepted", "completed"]

            await wait_for_stage(http, auth, app_id, "ssm_signoff")
            # Staff read who decided (the applicant is not told).
            app = (await http.get(f"/v1/applications/{app_id}", headers=onboarding1)).json()
            decisions = [(d["kind"], d["decision"], d["actor"]) for d in app["decisions"]]
            assert decisions == [("onboarding_review", "approve", "onboarding1")]
            documents = await http.get(f"/v1/applications/{app_id}/documents", headers=auth)
            expected = [r["code"] for r in app["requirements"] if r["type"] == "document"]
            assert sorted(d["kind"] for d in documents.json()["data"]) == sorted(expected)
            assert {d["status"] for d in documents.json()["data"]} == {"accepted"}
            params = {"status": "completed", "kind": "onboarding_review"}
            done = (await http.get("/v1/tasks", headers=onboarding1, params=params)).json()
            task = next(t for t in done["data"] if t["id"] == review["id"])
            assert (task["assignee"], task["decision"]) == ("onboarding1", "approve")

            signoff = await wait_for_task(http, ssm1, "ssm_signoff", subject=app_id)
            assert (await decide(http, ssm1, signoff["id"], "approve")).status_code == 200
            approved = await wait_for_stage(http, auth, app_id, "approved")
            assert approved["seller_id"] == str(seller_id_for(app_id))
    engine.dispose()
