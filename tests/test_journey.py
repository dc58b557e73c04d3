"""Whole applicant journeys over HTTP on the real stack."""

import uuid
from datetime import timedelta

import sqlalchemy as sa
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from sellerflow.models import Notification
from tests.conftest import Stack
from tests.histories import record_histories
from tests.journey import (
    complete_application,
    create_application,
    decide,
    seller_token,
    staff_token,
    upload,
    wait_for_stage,
    wait_for_task,
)
from tests.policy.sellers import PASSING_CHECKLIST
from worker import ALL_WORKFLOWS


async def test_applicant_to_active_seller(stack: Stack) -> None:
    http = stack.http
    app_id, auth = await create_application(http)
    await complete_application(http, stack.policy, app_id, auth)
    submitted = await http.post(f"/v1/applications/{app_id}/submit", headers=auth)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["stage"] == "submitted"

    onboarding1 = await staff_token(http, "onboarding1")
    review = await wait_for_task(http, onboarding1, "onboarding_review", subject=app_id)
    approved = await decide(http, onboarding1, review["id"], "approve", comment="all in order")
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "ssm_signoff"

    ssm1 = await staff_token(http, "ssm1")
    signoff = await wait_for_task(http, ssm1, "ssm_signoff", subject=app_id)
    signed_off = await decide(http, ssm1, signoff["id"], "approve", comment="welcome")
    assert signed_off.status_code == 200, signed_off.text

    app = await wait_for_stage(http, auth, app_id, "approved")
    seller_id = app["seller_id"]
    # From here on the seller follows its account with its own sign-in, not the application's.
    auth = await seller_token(http, app_id)
    seller = (await http.get(f"/v1/sellers/{seller_id}", headers=auth)).json()
    assert seller["status"] == "trial"
    assert seller["capabilities"]["listing_cap"] == stack.policy.trial.listing_cap

    # The trial: skip ahead and let the lab pass the mystery orders as they come due.
    lab1 = await staff_token(http, "lab1")
    handle = stack.temporal.get_workflow_handle(f"seller-{seller_id}")
    passed = 0
    for _ in range(12):
        await stack.skipper.fast_forward(handle, timedelta(days=10))
        listed = await http.get("/v1/tasks", headers=lab1, params={"kind": "mystery_order"})
        for task in listed.json()["data"]:
            if task["seller_id"] == seller_id:
                done = await decide(http, lab1, task["id"], "passed", checklist=PASSING_CHECKLIST)
                assert done.status_code == 200, done.text
                passed += 1
        seller = (await http.get(f"/v1/sellers/{seller_id}", headers=auth)).json()
        if seller["status"] != "trial":
            break
    assert passed >= stack.policy.trial.mystery_orders
    assert seller["status"] == "active", seller
    assert seller["capabilities"]["listing_cap"] is None

    history = await http.get(f"/v1/applications/{app_id}/history", headers=onboarding1)
    assert history.status_code == 200, history.text
    texts = [(e["text"], e["actor"]) for e in history.json()["timeline"]]
    assert any("approve by onboarding1" in t and a == "onboarding1" for t, a in texts), texts
    assert any("approve by ssm1" in t and a == "ssm1" for t, a in texts), texts
    assert any("passed by lab1" in t for t, _ in texts), texts
    assert any("seller status: active" in t for t, _ in texts), texts
    raw = await http.get(
        f"/v1/applications/{app_id}/history", headers=onboarding1, params={"raw": 1}
    )
    workflows = {w["workflow_id"]: w["history"] for w in raw.json()["workflows"]}
    assert set(workflows) == {f"onboarding-{app_id}", f"seller-{seller_id}"}
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=pydantic_data_converter)
    for workflow_id, events in workflows.items():
        replayed = await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, events))
        assert replayed.replay_failure is None
    await record_histories(stack, f"onboarding-{app_id}", name="onboarding-approved")
    await record_histories(stack, f"seller-{seller_id}", name="seller-trial-graduated")


async def test_changes_requested_then_reupload_then_approved(stack: Stack) -> None:
    http = stack.http
    app_id, auth = await create_application(http)
    await complete_application(http, stack.policy, app_id, auth)
    assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth)).status_code == 200

    onboarding1 = await staff_token(http, "onboarding1")
    review = await wait_for_task(http, onboarding1, "onboarding_review", subject=app_id)
    app = (await http.get(f"/v1/applications/{app_id}", headers=onboarding1)).json()
    documents = {
        d["document_id"]: d
        for d in (
            await http.get(f"/v1/applications/{app_id}/documents", headers=onboarding1)
        ).json()["data"]
    }
    bank = next(d for d in documents.values() if d["kind"] == "bank_account_proof")
    changes = await decide(
        http,
        onboarding1,
        review["id"],
        "request_changes",
        reason_codes=["bank_account_mismatch"],
        comment="the account holder is a private person",
        document_verdicts=[
            {
                "document_id": bank["document_id"],
                "accepted": False,
                "error_code": "bank_account_mismatch",
            }
        ],
    )
    assert changes.status_code == 200, changes.text
    assert changes.json()["state"] == "changes_requested"

    app = await wait_for_stage(http, auth, app_id, "changes_requested")
    bank_requirement = next(r for r in app["requirements"] if r["code"] == "bank_account_proof")
    assert bank_requirement["status"] == "currently_due"
    assert bank_requirement["errors"][0]["code"] == "bank_account_mismatch"
    others = [
        r
        for r in app["requirements"]
        if r["type"] == "document" and r["code"] != "bank_account_proof"
    ]
    assert all(r["status"] in ("satisfied", "pending_verification") for r in others), others

    refused_submit = await http.post(f"/v1/applications/{app_id}/submit", headers=auth)
    assert refused_submit.status_code == 422
    assert refused_submit.json()["detail"]["codes"] == ["bank_account_proof"]

    assert (await upload(http, app_id, auth, "bank_account_proof")).status_code == 200
    assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth)).status_code == 200
    second = await wait_for_task(http, onboarding1, "onboarding_review", subject=app_id)
    assert second["id"] != review["id"]
    assert (await decide(http, onboarding1, second["id"], "approve")).status_code == 200
    ssm1 = await staff_token(http, "ssm1")
    signoff = await wait_for_task(http, ssm1, "ssm_signoff", subject=app_id)
    assert (await decide(http, ssm1, signoff["id"], "approve")).status_code == 200
    app = await wait_for_stage(http, auth, app_id, "approved")
    assert [d["decision"] for d in app["decisions"]] == ["request_changes", "approve", "approve"]
    listed = await http.get(f"/v1/applications/{app_id}/documents", headers=auth)
    bank_versions = [
        d["status"] for d in listed.json()["data"] if d["kind"] == "bank_account_proof"
    ]
    assert bank_versions == ["accepted", "refused"]
    await record_histories(stack, f"onboarding-{app_id}", name="onboarding-changes-requested")


async def test_missed_deadline_expires_after_reminders(stack: Stack) -> None:
    http = stack.http
    app_id, auth = await create_application(http)
    handle = stack.temporal.get_workflow_handle(f"onboarding-{app_id}")
    await stack.skipper.fast_forward(handle, timedelta(days=15))
    app = await wait_for_stage(http, auth, app_id, "expired")
    assert app["stage"] == "expired"
    with stack.engine.connect() as conn:
        templates = [
            row[0]
            for row in conn.execute(
                sa.select(Notification.template)
                .where(Notification.application_id == uuid.UUID(app_id))
                .order_by(Notification.created_at)
            )
        ]
    assert templates == ["application_received", "reminder", "reminder", "reminder", "expired"]
    late = await http.post(f"/v1/applications/{app_id}/submit", headers=auth)
    assert late.status_code in (409, 422)
    await record_histories(stack, f"onboarding-{app_id}", name="onboarding-expired")
