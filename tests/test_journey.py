"""Whole applicant journeys over HTTP on the real stack."""

from datetime import timedelta

from tests.conftest import Stack
from tests.journey import (
    complete_application,
    create_application,
    decide,
    staff_token,
    wait_for_stage,
    wait_for_task,
)


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
                done = await decide(
                    http, lab1, task["id"], "passed", checklist={"battery_health": 92}
                )
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
