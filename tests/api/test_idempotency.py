"""Writes that go through a workflow are idempotent by key, and no row a workflow may have seen
is deleted: a retried appeal, manual action or application creation is the same request."""

import asyncio
import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

from sellerflow import workflow_calls
from sellerflow.models import Appeal, Application, SellerAction, Task
from sellerflow.services import applications
from tests.conftest import Stack
from tests.journey import APPLICATION, approved_seller, staff_token, wait_for_stage, wait_for_task

PLAN = {"root_cause": "a supplier batch", "actions": "recalled", "prevention": "inspection"}


async def suspended_seller(stack: Stack) -> tuple[str, dict[str, str], dict[str, str]]:
    http = stack.http
    _, seller_id, seller_auth = await approved_seller(http, stack.policy)
    ops1 = await staff_token(http, "ops1")
    action = {"action": "suspend", "reason": "counterfeit report"}
    suspended = await http.post(f"/v1/sellers/{seller_id}/actions", headers=ops1, json=action)
    assert suspended.status_code == 200, suspended.text
    return seller_id, seller_auth, ops1


async def test_a_retried_appeal_opens_one_review_and_can_be_followed(stack: Stack) -> None:
    http = stack.http
    seller_id, seller_auth, _ = await suspended_seller(stack)
    url = f"/v1/sellers/{seller_id}/appeals"
    first = await http.post(url, headers=seller_auth, json=PLAN)
    again = await http.post(url, headers=seller_auth, json=PLAN)
    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.json()["appeal_id"] == first.json()["appeal_id"]
    ssm1 = await staff_token(http, "ssm1")
    await wait_for_task(http, ssm1, "appeal_review", subject=seller_id)
    with Session(stack.engine) as session:
        reviews = session.exec(
            select(Task).where(Task.seller_id == uuid.UUID(seller_id), Task.kind == "appeal_review")
        ).all()
        appeals = session.exec(select(Appeal).where(Appeal.seller_id == uuid.UUID(seller_id))).all()
    assert (len(reviews), len(appeals)) == (1, 1)
    followed = await http.get(f"{url}/{first.json()['appeal_id']}", headers=seller_auth)
    assert followed.status_code == 200, followed.text
    assert followed.json()["status"] == "in_review"
    withdrawn = await http.post(f"{url}/{first.json()['appeal_id']}/withdraw", headers=seller_auth)
    assert withdrawn.status_code == 200, withdrawn.text
    followed = await http.get(f"{url}/{first.json()['appeal_id']}", headers=seller_auth)
    assert followed.json()["status"] == "closed"


async def test_an_appeal_the_workflow_is_slow_to_answer_is_202_and_kept(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = stack.http
    seller_id, seller_auth, _ = await suspended_seller(stack)
    monkeypatch.setattr(workflow_calls, "UPDATE_TIMEOUT_SECONDS", 0.001)
    slow = await http.post(f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=PLAN)
    assert slow.status_code == 202, slow.text
    assert slow.json()["status"] == "pending"
    monkeypatch.setattr(workflow_calls, "UPDATE_TIMEOUT_SECONDS", 10.0)
    # The client retries the same request until it is answered (on a loaded machine the
    # workflow may still be opening the review from the first attempt).
    for _ in range(3):
        retried = await http.post(
            f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=PLAN
        )
        if retried.status_code != 202:
            break
    assert retried.status_code == 201, retried.text
    assert retried.json()["appeal_id"] == slow.json()["appeal_id"]
    with Session(stack.engine) as session:
        assert session.get(Appeal, uuid.UUID(slow.json()["appeal_id"])) is not None


async def test_a_manual_action_retried_without_a_key_is_applied_once(stack: Stack) -> None:
    http = stack.http
    _, seller_id, _ = await approved_seller(http, stack.policy)
    ops1 = await staff_token(http, "ops1")
    action = {"action": "suspend", "reason": "counterfeit report"}
    url = f"/v1/sellers/{seller_id}/actions"
    first = await http.post(url, headers=ops1, json=action)
    again = await http.post(url, headers=ops1, json=action)
    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    with Session(stack.engine) as session:
        count = len(
            session.exec(
                select(SellerAction).where(SellerAction.seller_id == uuid.UUID(seller_id))
            ).all()
        )
    assert count == 1, "the repeat was answered, not applied again"


async def test_an_application_whose_start_is_slow_is_kept_and_started(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start may have happened: the row stays (202) and a retry with the same key finds it
    and the one workflow, as the sweeper does for a client that never retries."""
    http = stack.http
    real_start = applications.start_onboarding

    async def started_then_slow(*args: Any, **kwargs: Any) -> object:
        """The start happens; its answer comes after the API stopped waiting."""
        handle = await real_start(*args, **kwargs)
        await asyncio.sleep(2)
        return handle

    monkeypatch.setattr(applications, "start_onboarding", started_then_slow)
    monkeypatch.setattr(workflow_calls, "UPDATE_TIMEOUT_SECONDS", 0.5)
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    slow = await http.post("/v1/applications", json=APPLICATION, headers=key)
    assert slow.status_code == 202, slow.text
    with Session(stack.engine) as session:
        assert session.get(Application, uuid.UUID(slow.json()["id"])) is not None
    monkeypatch.setattr(applications, "start_onboarding", real_start)
    monkeypatch.setattr(workflow_calls, "UPDATE_TIMEOUT_SECONDS", 10.0)
    retried = await http.post("/v1/applications", json=APPLICATION, headers=key)
    assert retried.status_code == 201, retried.text
    assert retried.json()["id"] == slow.json()["id"]
    auth = {"Authorization": f"Bearer {retried.json()['applicant_token']}"}
    await wait_for_stage(http, auth, retried.json()["id"], "draft")
    other = await http.post(
        "/v1/applications", json={**APPLICATION, "legal_name": "Another GmbH"}, headers=key
    )
    assert other.status_code == 409, other.text
