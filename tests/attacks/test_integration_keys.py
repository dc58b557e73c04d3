"""Order ingestion's service account: an API key shown once, stored as its SHA-256, good for
`POST /v1/order-events` and nothing else, refused once revoked."""

import hashlib

import pytest
import sqlalchemy as sa

from sellerflow.cli.integrations import main
from sellerflow.config import get_settings
from tests.conftest import Stack
from tests.journey import bearer


def run(monkeypatch: pytest.MonkeyPatch, stack: Stack, *argv: str) -> int:
    monkeypatch.setenv("DATABASE_URL", stack.settings.database_url)
    get_settings.cache_clear()
    try:
        return main(list(argv))
    finally:
        get_settings.cache_clear()


async def test_an_integration_key_posts_order_events_and_nothing_else(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, stack, "create", "shop-feed") == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("sfk_")
    assert len(key) > 40
    with stack.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM integration_key"))]
    assert len(stored) == 1
    assert not any(key in str(value) for value in stored[0]), "the key is stored in clear"
    assert hashlib.sha256(key.encode()).hexdigest() in stored[0]
    assert run(monkeypatch, stack, "create", "shop-feed") == 1  # one key per account at a time

    keyed = {"X-Api-Key": key}
    posted = await stack.http.post("/v1/order-events", headers=keyed, json=[])
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"accepted": 0, "rejected": []}
    for method, path in [
        ("GET", "/v1/sellers"),
        ("GET", "/v1/tasks"),
        ("GET", "/v1/applications"),
        ("GET", "/v1/ops/stats"),
        ("POST", "/v1/ops/evaluations"),
    ]:
        for headers in (keyed, bearer(key)):
            answer = await stack.http.request(method, path, headers=headers)
            assert answer.status_code == 401, f"{method} {path} {headers.keys()}"
    as_bearer = await stack.http.post("/v1/order-events", headers=bearer(key), json=[])
    assert as_bearer.status_code == 401
    wrong = await stack.http.post("/v1/order-events", headers={"X-Api-Key": key + "x"}, json=[])
    assert (wrong.status_code, wrong.json()["error"]) == (401, "Unauthorized")

    assert run(monkeypatch, stack, "revoke", "shop-feed") == 0
    revoked = await stack.http.post("/v1/order-events", headers=keyed, json=[])
    assert revoked.status_code == 401
    assert run(monkeypatch, stack, "revoke", "shop-feed") == 1
    assert run(monkeypatch, stack, "create", "shop-feed") == 0
    fresh = capsys.readouterr().out.strip()
    assert fresh != key
    again = await stack.http.post("/v1/order-events", headers={"X-Api-Key": fresh}, json=[])
    assert again.status_code == 200, again.text
