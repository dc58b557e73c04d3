"""The inbox under pressure: simultaneous claims, and completions while no worker runs."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType

from sellerflow import workflow_calls
from sellerflow.db import make_engine
from sellerflow.models import AuditLog, Task
from sellerflow.policy.model import load_policy
from tests.api.conftest import Api, api_without_worker
from tests.conftest import make_settings
from tests.journey import complete_application, create_application, staff_token, wait_for_task
from tests.support.waiting import eventually
from worker import build_worker


@asynccontextmanager
async def running_worker(api: Api) -> AsyncIterator[None]:
    policy = load_policy(api.settings.sellerflow_policy)
    engine = make_engine(api.settings.database_url)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(api.temporal, engine, api.settings, policy, executor):
            yield
    engine.dispose()


def open_tasks(engine: sa.Engine, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    with Session(engine) as session:
        for task_id in ids:
            session.add(
                Task(
                    id=task_id,
                    kind="onboarding_review",
                    workflow_id=f"onboarding-{uuid.uuid4()}",
                    role="onboarding",
                    due_at=datetime.now(UTC) + timedelta(days=2),
                )
            )
        session.commit()
    return ids


async def test_of_two_simultaneous_claims_exactly_one_wins(api_on_either_database: Api) -> None:
    http = api_on_either_database.http
    claimers = {
        name: await staff_token(http, name) for name in ("onboarding1", "onboarding2", "ops1")
    }
    claimers.pop("ops1")  # ops may not claim a review: only the two reviewers race
    for task_id in open_tasks(api_on_either_database.engine, 20):
        answers = await asyncio.gather(
            *(http.post(f"/v1/tasks/{task_id}/claim", headers=auth) for auth in claimers.values())
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        winner = next(a.json()["assignee"] for a in answers if a.status_code == 200)
        with Session(api_on_either_database.engine) as session:
            task = session.get(Task, task_id)
            assert task is not None
            assert task.assignee == winner


async def test_a_task_can_be_read_by_who_may_see_it(api_on_either_database: Api) -> None:
    http = api_on_either_database.http
    (task_id,) = open_tasks(api_on_either_database.engine, 1)
    reviewer = await staff_token(http, "onboarding1")
    found = await http.get(f"/v1/tasks/{task_id}", headers=reviewer)
    assert found.status_code == 200, found.text
    assert (found.json()["id"], found.json()["kind"]) == (str(task_id), "onboarding_review")
    assert found.json()["status"] == "open"
    assert found.json()["assignee"] is None
    ops = await http.get(f"/v1/tasks/{task_id}", headers=await staff_token(http, "ops1"))
    assert ops.status_code == 200
    lab = await http.get(f"/v1/tasks/{task_id}", headers=await staff_token(http, "lab1"))
    assert lab.status_code == 403
    assert lab.json()["error"] == "Forbidden"
    missing = await http.get(f"/v1/tasks/{uuid.uuid4()}", headers=reviewer)
    assert missing.status_code == 404
    assert missing.json()["error"] == "NotFound"


@pytest_asyncio.fixture
async def api(tmp_path: Path, temporal_address: str, s3_endpoint: str) -> AsyncIterator[Api]:
    async with api_without_worker(make_settings(tmp_path, temporal_address, s3_endpoint)) as api:
        yield api


async def claimed_review(api: Api) -> tuple[str, str, dict[str, str]]:
    """An application in onboarding review whose task onboarding1 has claimed."""
    http = api.http
    app_id, auth = await create_application(http, settings=api.settings)
    await complete_application(http, load_policy(api.settings.sellerflow_policy), app_id, auth)
    assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth)).status_code == 200
    reviewer = await staff_token(http, "onboarding1")
    task = await wait_for_task(http, reviewer, "onboarding_review", subject=app_id)
    assert (await http.post(f"/v1/tasks/{task['id']}/claim", headers=reviewer)).status_code == 200
    return app_id, task["id"], reviewer


async def decisions_in_history(api: Api, app_id: str) -> int:
    history = await api.temporal.get_workflow_handle(f"onboarding-{app_id}").fetch_history()
    return sum(
        1
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == "complete_task"
    )


def task_row(api: Api, task_id: str) -> Task:
    with Session(api.engine) as session:
        task = session.get(Task, uuid.UUID(task_id))
        assert task is not None
        return task


async def test_a_completion_while_no_worker_runs_is_503_then_applied_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_worker(api):
        app_id, task_id, reviewer = await claimed_review(api)
    monkeypatch.setattr(workflow_calls, "UPDATE_TIMEOUT_SECONDS", 2.0)
    url, approve = f"/v1/tasks/{task_id}/complete", {"decision": "approve"}
    started = time.monotonic()
    down = await api.http.post(url, headers=reviewer, json=approve)
    assert down.status_code == 503, down.text
    assert time.monotonic() - started < 5
    task = task_row(api, task_id)
    assert (task.status, task.assignee, task.decision) == ("open", "onboarding1", None)

    monkeypatch.setattr(workflow_calls, "UPDATE_TIMEOUT_SECONDS", 30.0)
    async with running_worker(api):
        retried = await api.http.post(url, headers=reviewer, json=approve)
        assert retried.status_code == 200, retried.text
        assert retried.json()["state"] == "ssm_signoff"
        # The answer comes as the workflow accepts the decision; its close_task follows.
        await eventually(
            lambda: task_row(api, task_id).status == "completed",
            timeout=10,
            interval=0.05,
            why="close_task never completed the task row",
        )
        again = await api.http.post(url, headers=reviewer, json=approve)
        assert again.json() == retried.json()
    assert await decisions_in_history(api, app_id) == 1
    assert task_row(api, task_id).status == "completed"


async def test_an_idempotency_key_names_a_new_attempt(api: Api) -> None:
    async with running_worker(api):
        app_id, task_id, reviewer = await claimed_review(api)
        url = f"/v1/tasks/{task_id}/complete"
        first = await api.http.post(
            url, headers={**reviewer, "Idempotency-Key": "a"}, json={"decision": "approve"}
        )
        assert first.status_code == 200, first.text
        same = await api.http.post(
            url, headers={**reviewer, "Idempotency-Key": "a"}, json={"decision": "approve"}
        )
        assert same.json() == first.json()
        other = await api.http.post(
            url, headers={**reviewer, "Idempotency-Key": "b"}, json={"decision": "approve"}
        )
        assert other.status_code == 409, other.text
    assert await decisions_in_history(api, app_id) == 1


async def test_a_completion_repeated_with_another_body_is_a_conflict(api: Api) -> None:
    """The same decision with another comment is not a retry: 409, not a 200 that drops it."""
    async with running_worker(api):
        app_id, task_id, reviewer = await claimed_review(api)
        url = f"/v1/tasks/{task_id}/complete"
        first = await api.http.post(
            url, headers=reviewer, json={"decision": "approve", "comment": "all in order"}
        )
        assert first.status_code == 200, first.text
        await eventually(
            lambda: task_row(api, task_id).status == "completed",
            timeout=10,
            interval=0.05,
            why="close_task never completed the task row",
        )
        same = await api.http.post(
            url, headers=reviewer, json={"decision": "approve", "comment": "all in order"}
        )
        assert same.json() == first.json()
        other = await api.http.post(
            url, headers=reviewer, json={"decision": "approve", "comment": "looked twice"}
        )
        assert other.status_code == 409, other.text
        assert set(other.json()) == {"error", "detail"}
    assert task_row(api, task_id).comment == "all in order"
    assert await decisions_in_history(api, app_id) == 1


async def test_approving_over_a_finding_needs_check_overridden_and_is_audited(api: Api) -> None:
    """The second application with the same VAT and registration numbers is a duplicate the
    reviewer must approve over explicitly; the audit entry names the checks approved over."""
    async with running_worker(api):
        earlier, _ = await create_application(api.http, settings=api.settings)
        app_id, task_id, reviewer = await claimed_review(api)
        url = f"/v1/tasks/{task_id}/complete"
        refused = await api.http.post(url, headers=reviewer, json={"decision": "approve"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "ChecksNotOverridden"
        assert "duplicates" in refused.json()["detail"]
        assert "check_overridden" in refused.json()["detail"]
        body = {
            "decision": "approve",
            "reason_codes": ["check_overridden"],
            "comment": "same owner",
        }
        approved = await api.http.post(url, headers=reviewer, json=body)
        assert approved.status_code == 200, approved.text
        await eventually(
            lambda: task_row(api, task_id).status == "completed",
            timeout=10,
            why="the approval never closed the task",
        )
        applicant_view = await api.http.get(
            f"/v1/applications/{app_id}", headers=await staff_token(api.http, "onboarding1")
        )
        duplicates = {c["code"]: c for c in applicant_view.json()["checks"]}["duplicates"]
        assert earlier in duplicates["detail"]
    with Session(api.engine) as session:
        entry = session.exec(
            select(AuditLog).where(
                AuditLog.subject_id == app_id, AuditLog.action == "onboarding_review.approve"
            )
        ).one()
    assert entry.reason.startswith("check_overridden (duplicates")
    assert entry.reason.endswith("same owner")


async def test_a_rejection_needs_no_override(api: Api) -> None:
    async with running_worker(api):
        await create_application(api.http, settings=api.settings)
        _, task_id, reviewer = await claimed_review(api)
        rejected = await api.http.post(
            f"/v1/tasks/{task_id}/complete",
            headers=reviewer,
            json={"decision": "reject", "reason_codes": ["suspected_fraud"]},
        )
        assert rejected.status_code == 200, rejected.text
