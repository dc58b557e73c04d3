"""Every route of the API answers for real, and bad input gets a 4xx with {error, detail}."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sellerflow.users import ensure_user
from tests.conftest import Stack
from tests.journey import (
    APPLICATION,
    approved_seller,
    bearer,
    complete_application,
    create_application,
    decide,
    staff_token,
    suspend,
    wait_for_task,
)
from tests.support.waiting import eventually


def is_error(response: object, status: int, error: str | None = None) -> bool:
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == status, (response.status_code, body)  # type: ignore[attr-defined]
    assert set(body) == {"error", "detail"}, body
    return error is None or body["error"] == error


async def test_bad_applications_are_refused_clearly(stack: Stack) -> None:
    http = stack.http
    assert is_error(
        await http.post("/v1/applications", json={**APPLICATION, "seller_category": "pirate"}),
        422,
        "InvalidRequest",
    )
    assert is_error(await http.post("/v1/applications", json={**APPLICATION, "country": "XX"}), 422)
    assert is_error(
        await http.post("/v1/applications", json={**APPLICATION, "legal_name": ""}), 422
    )
    assert is_error(
        await http.post("/v1/applications", json={**APPLICATION, "legal_name": "x" * 1_000_000}),
        422,
    )
    assert is_error(await http.post("/v1/applications", content=b"{not json"), 422)
    listed = await http.get("/v1/applications", headers=await staff_token(http, "ops1"))
    assert listed.json()["count"] == 0


async def test_tokens_roles_and_ownership(stack: Stack) -> None:
    http = stack.http
    first, first_auth = await create_application(http)
    second, second_auth = await create_application(http, legal_name="Other Ltd")
    assert is_error(await http.get(f"/v1/applications/{first}"), 401, "Unauthorized")
    assert is_error(
        await http.get(f"/v1/applications/{first}", headers={"Authorization": "Bearer forged"}), 401
    )
    assert is_error(await http.get(f"/v1/applications/{first}", headers=second_auth), 404)
    assert is_error(await http.post(f"/v1/applications/{first}/submit", headers=second_auth), 404)
    assert (await http.get(f"/v1/applications/{second}", headers=second_auth)).status_code == 200
    assert is_error(await http.get("/v1/applications", headers=first_auth), 403)
    onboarding1 = await staff_token(http, "onboarding1")
    assert is_error(await http.get("/v1/ops/stats", headers=onboarding1), 403)
    stats = await http.get("/v1/ops/stats", headers=await staff_token(http, "ops1"))
    assert stats.status_code == 200
    assert stats.json()["applications_per_stage"]["draft"] == 2
    wrong = await http.post("/v1/auth/token", data={"username": "ops1", "password": "nope"})
    assert is_error(wrong, 401)


async def test_submit_with_missing_requirements_lists_them(stack: Stack) -> None:
    http = stack.http
    app_id, auth = await create_application(http)
    refused = await http.post(f"/v1/applications/{app_id}/submit", headers=auth)
    assert is_error(refused, 422, "MissingRequirements")
    assert "company_registration_extract" in refused.json()["detail"]["codes"]
    assert "terms" in refused.json()["detail"]["codes"]
    app = (await http.get(f"/v1/applications/{app_id}", headers=auth)).json()
    assert app["stage"] == "draft"


async def test_task_completion_conflicts_and_four_eyes(stack: Stack) -> None:
    http = stack.http
    ensure_user(stack.engine, "dual", ["onboarding", "ssm"], "dual-password")
    dual = bearer(
        (
            await http.post(
                "/v1/auth/token", data={"username": "dual", "password": "dual-password"}
            )
        ).json()["access_token"]
    )
    app_id, auth = await create_application(http)
    await complete_application(http, stack.policy, app_id, auth)
    assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth)).status_code == 200
    onboarding2 = await staff_token(http, "onboarding2")
    lab1 = await staff_token(http, "lab1")
    task = await wait_for_task(http, dual, "onboarding_review", subject=app_id)
    url = f"/v1/tasks/{task['id']}"
    approve = {"decision": "approve"}
    assert is_error(await http.post(f"{url}/complete", headers=dual, json=approve), 409)
    assert is_error(await http.post(f"{url}/claim", headers=lab1), 403)
    assert (await http.post(f"{url}/claim", headers=dual)).status_code == 200
    assert is_error(await http.post(f"{url}/claim", headers=onboarding2), 409)
    assert is_error(await http.post(f"{url}/complete", headers=onboarding2, json=approve), 409)
    passed = {"decision": "passed"}
    assert is_error(await http.post(f"{url}/complete", headers=dual, json=passed), 422)
    reject = {"decision": "reject"}
    assert is_error(await http.post(f"{url}/complete", headers=dual, json=reject), 422)
    done = await http.post(f"{url}/complete", headers=dual, json=approve)
    assert done.status_code == 200, done.text
    retried = await http.post(f"{url}/complete", headers=dual, json=approve)
    assert retried.json() == done.json(), "a retry gets the first answer"
    changes = {"decision": "request_changes"}
    assert is_error(await http.post(f"{url}/complete", headers=dual, json=changes), 409)
    assert is_error(await http.post(f"{url}/complete", headers=onboarding2, json=approve), 409)

    signoff = await wait_for_task(http, dual, "ssm_signoff", subject=app_id)
    own = await decide(http, dual, signoff["id"], "approve")
    assert is_error(own, 409, "Conflict")
    assert "other than the approver" in own.json()["detail"]
    app = (await http.get(f"/v1/applications/{app_id}", headers=auth)).json()
    assert app["stage"] == "ssm_signoff"


async def test_seller_routes_orders_evaluation_actions_and_appeal(stack: Stack) -> None:
    http = stack.http
    _, seller_id, seller_auth = await approved_seller(http, stack.policy)
    ops1 = await staff_token(http, "ops1")
    now = datetime.now(UTC)
    events = [
        {
            "order_id": f"o-{i}",
            "seller_id": seller_id,
            "placed_at": (now - timedelta(days=2)).isoformat(),
            "ship_by": (now - timedelta(days=1)).isoformat(),
            "shipped_at": (now - timedelta(days=1, hours=2)).isoformat(),
            "cancelled_by_seller": i < 5,
        }
        for i in range(30)
    ]
    bad = [
        {"order_id": "x", "seller_id": seller_id, "placed_at": "yesterday"},
        {**events[0], "order_id": "o-unknown", "seller_id": "00000000-0000-0000-0000-000000000000"},
    ]
    posted = await http.post("/v1/order-events", headers=ops1, json=events + bad)
    assert posted.status_code == 200, posted.text
    assert posted.json()["accepted"] == 30
    assert [r["index"] for r in posted.json()["rejected"]] == [30, 31]
    again = await http.post("/v1/order-events", headers=ops1, json=events[:3])
    assert again.json()["accepted"] == 3

    started = await http.post("/v1/ops/evaluations", headers=ops1)
    assert started.status_code == 202, started.text
    evaluation_id = started.json()["id"]
    evaluation: dict[str, Any] = {}

    async def completed() -> dict[str, Any] | None:
        nonlocal evaluation
        evaluation = (await http.get(f"/v1/ops/evaluations/{evaluation_id}", headers=ops1)).json()
        return evaluation if evaluation["status"] == "completed" else None

    await eventually(
        completed, timeout=10, why=lambda: f"the evaluation never completed: {evaluation}"
    )
    assert evaluation["status"] == "completed", evaluation
    assert evaluation["sellers_scored"] == 1
    seller = (await http.get(f"/v1/sellers/{seller_id}", headers=seller_auth)).json()
    cancellation = next(c for c in seller["scorecard"] if c["kpi"] == "seller_cancellation_rate")
    assert (cancellation["numerator"], cancellation["denominator"]) == (5, 30)
    assert cancellation["status"] == "limit"
    ranking = (await http.get("/v1/sellers", headers=ops1)).json()
    assert ranking["data"][0]["id"] == seller_id
    assert ranking["data"][0]["score"] is not None

    assert is_error(
        await http.post(
            f"/v1/sellers/{seller_id}/appeals",
            headers=seller_auth,
            json={"root_cause": "a", "actions": "b", "prevention": "c"},
        ),
        409,
    )
    suspended = await suspend(http, seller_id, ops1)
    assert suspended.json()["status"] == "suspended"
    assert is_error(
        await http.post(
            f"/v1/sellers/{seller_id}/actions", headers=ops1, json={"action": "warn", "reason": "x"}
        ),
        409,
    )
    appeal = await http.post(
        f"/v1/sellers/{seller_id}/appeals",
        headers=seller_auth,
        json={
            "root_cause": "a supplier batch",
            "actions": "recalled",
            "prevention": "incoming inspection",
        },
    )
    assert appeal.status_code == 201, appeal.text
    ssm1 = await staff_token(http, "ssm1")
    review = await wait_for_task(http, ssm1, "appeal_review", subject=seller_id)
    reinstated = await decide(http, ssm1, review["id"], "reinstate", comment="plan accepted")
    assert reinstated.status_code == 200, reinstated.text
    # Suspended during its trial, the seller goes back to its trial: it was never graduated.
    assert reinstated.json()["state"] == "trial"
    seller = (await http.get(f"/v1/sellers/{seller_id}", headers=ops1)).json()
    assert [a["to_status"] for a in seller["actions"]] == ["suspended", "trial"]
    assert seller["actions"][0]["reason"]["summary"].endswith("counterfeit report")


async def test_health_metrics_and_openapi(stack: Stack) -> None:
    http = stack.http
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "s3": "ok", "temporal": "ok"}
    assert "sellerflow_http_requests_total" in (await http.get("/metrics")).text
    spec = (await http.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert errors, f"{method.upper()} {path} documents no error response"


async def test_nobody_reviews_an_application_whose_contact_is_themselves(stack: Stack) -> None:
    http = stack.http
    ensure_user(
        stack.engine, "ada", ["onboarding"], "ada-password", email=APPLICATION["contact_email"]
    )
    token = await http.post("/v1/auth/token", data={"username": "ada", "password": "ada-password"})
    ada = bearer(token.json()["access_token"])
    app_id, auth = await create_application(http)
    await complete_application(http, stack.policy, app_id, auth)
    assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth)).status_code == 200
    task = await wait_for_task(http, ada, "onboarding_review", subject=app_id)
    own = await decide(http, ada, task["id"], "approve")
    assert is_error(own, 409, "Conflict")
    assert "contact" in own.json()["detail"]
    app = (await http.get(f"/v1/applications/{app_id}", headers=auth)).json()
    assert (app["stage"], app["decisions"]) == ("onboarding_review", [])
