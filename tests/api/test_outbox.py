"""`GET /v1/ops/notifications`: ops follow what was sent, text included, without an SMTP server."""

import uuid
from typing import Any

from tests.api.test_routes import is_error
from tests.conftest import Stack
from tests.journey import APPLICATION, create_application, staff_token
from tests.support.waiting import eventually


async def test_ops_read_each_message_of_an_application_with_its_text(stack: Stack) -> None:
    http = stack.http
    app_id, _ = await create_application(http, legal_name="Outbox Reader GmbH")
    other_id, _ = await create_application(http, legal_name="Someone Else BV")
    ops = await staff_token(http, "ops1")

    async def received() -> dict[str, Any] | None:
        answer = await http.get(
            "/v1/ops/notifications", params={"application_id": app_id}, headers=ops
        )
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page if page["count"] else None

    page = await eventually(
        received, why="the application_received notice never reached the outbox"
    )
    assert (page["count"], page["limit"], page["offset"]) == (1, 50, 0)
    [message] = page["data"]
    assert message["application_id"] == app_id
    assert message["template"] == "application_received"
    assert message["recipient"] == APPLICATION["contact_email"]
    assert "Outbox Reader GmbH" in message["body_text"]
    assert set(message) >= {"subject", "created_at", "sent_at", "attempts", "last_error"}

    everything = (await http.get("/v1/ops/notifications", headers=ops)).json()
    ids = [m["application_id"] for m in everything["data"]]
    assert {app_id, other_id} <= set(ids) or everything["count"] > everything["limit"]
    first = (await http.get("/v1/ops/notifications?limit=1", headers=ops)).json()
    second = (await http.get("/v1/ops/notifications?limit=1&offset=1", headers=ops)).json()
    assert first["count"] == second["count"] == everything["count"] >= 2
    assert first["data"][0]["id"] != second["data"][0]["id"]
    nobody = await http.get(
        "/v1/ops/notifications", params={"application_id": str(uuid.uuid4())}, headers=ops
    )
    assert nobody.json() == {"data": [], "count": 0, "limit": 50, "offset": 0}


async def test_only_ops_read_the_outbox_and_bad_filters_are_refused(stack: Stack) -> None:
    http = stack.http
    assert is_error(await http.get("/v1/ops/notifications"), 401)
    reviewer = await staff_token(http, "onboarding1")
    assert is_error(await http.get("/v1/ops/notifications", headers=reviewer), 403)
    _, applicant = await create_application(http)
    assert is_error(await http.get("/v1/ops/notifications", headers=applicant), 403)
    ops = await staff_token(http, "ops1")
    for query in ("application_id=nope", "limit=0", "limit=201", "offset=-1", "unsent=maybe"):
        assert is_error(await http.get(f"/v1/ops/notifications?{query}", headers=ops), 422), query
