"""What-ifs over HTTP, run by the worker: the result is the what-if of the stored order events,
and bad requests are refused with {error, detail}."""

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sellerflow.policy.model import Policy
from sellerflow.simulation import simulate
from tests.conftest import Stack
from tests.db.test_simulation import seed, stricter
from tests.journey import staff_token
from tests.support.builders import AS_OF
from tests.support.waiting import eventually


async def completed(stack: Stack, simulation_id: str, ops: dict[str, str]) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = await stack.http.get(f"/v1/policy-simulations/{simulation_id}", headers=ops)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["status"] != "failed", body
        return body if body["status"] == "completed" else None

    return await eventually(probe, why="the what-if never completed")


async def test_a_what_if_reports_who_would_change_and_changes_nothing(stack: Stack) -> None:
    with stack.engine.begin() as conn:
        seed(conn, random.Random(19), sellers=30)
    ops = await staff_token(stack.http, "ops1")
    rules = {**stricter(stack.policy).model_dump(mode="json"), "version": "stricter-what-if-1"}
    created = await stack.http.post("/v1/policies", json={"rules": rules}, headers=ops)
    assert created.status_code == 201, created.text
    as_of = AS_OF  # the seeded order events lie before it

    started = await stack.http.post(
        "/v1/policies/stricter-what-if-1/simulations",
        json={"as_of": as_of.isoformat()},
        headers=ops,
    )

    assert started.status_code == 202, started.text
    body = await completed(stack, started.json()["id"], ops)
    with stack.engine.connect() as conn:
        expected = simulate(
            conn, stack.policy, Policy.model_validate(rules), as_of, chunk_size=5000
        )
    assert (body["version"], body["baseline"]) == ("stricter-what-if-1", stack.policy.version)
    assert datetime.fromisoformat(body["as_of"]) == as_of
    assert body["standings"] == expected["standings"]
    assert body["sellers"] == expected["sellers"] > 0
    assert body["changes"], "the stricter rules change no standing: the test proves nothing"
    assert [c["seller_id"] for c in body["changes"]] == [
        c["seller_id"] for c in expected["changes"]
    ]
    assert body["by_category"] == expected["by_category"]
    for change in body["changes"]:
        assert {"from", "to", "kpis", "legal_name", "category"} <= set(change)


async def test_bad_what_if_requests_are_refused(stack: Stack) -> None:
    ops = await staff_token(stack.http, "ops1")
    version = stack.policy.version
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    cases = {
        "future": (f"/v1/policies/{version}/simulations", {"as_of": future}, 422),
        "naive": (f"/v1/policies/{version}/simulations", {"as_of": "2026-01-01T00:00:00"}, 422),
        "ancient": (f"/v1/policies/{version}/simulations", {"as_of": "1999-01-01T00:00Z"}, 422),
        "not a date": (f"/v1/policies/{version}/simulations", {"as_of": "soon"}, 422),
        "unknown field": (f"/v1/policies/{version}/simulations", {"rules": {}}, 422),
        "unknown version": ("/v1/policies/nope/simulations", {}, 404),
    }
    for name, (url, body, status) in cases.items():
        answer = await stack.http.post(url, json=body, headers=ops)
        assert answer.status_code == status, (name, answer.text)
        assert set(answer.json()) == {"error", "detail"}
    for simulation_id, status in ((uuid.uuid4(), 404), ("not-an-id", 422)):
        answer = await stack.http.get(f"/v1/policy-simulations/{simulation_id}", headers=ops)
        assert answer.status_code == status, answer.text
