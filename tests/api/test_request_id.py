"""Every API answer carries a request id, and so does every log record of that request."""

import logging

import pytest

from sellerflow.logs import RequestIdFilter
from tests.conftest import Stack

# Too long and with characters a log line should not carry: replaced, never echoed.
FORGED = "a" * 200 + "; rm -rf /"


async def test_the_request_id_is_kept_or_made_and_reaches_the_logs(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="sellerflow.api"):
        given = await stack.http.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
        made = await stack.http.get("/healthz")
        forged = await stack.http.get("/healthz", headers={"X-Request-ID": FORGED})

    assert given.headers["X-Request-ID"] == "lb-7f3a.42"
    made_id = made.headers["X-Request-ID"]
    assert len(made_id) == 32
    assert forged.headers["X-Request-ID"] not in (FORGED, made_id)
    logged = [r for r in caplog.records if r.name == "sellerflow.api" and r.msg == "request"]
    assert [getattr(r, "request_id", None) for r in logged] == [
        "lb-7f3a.42",
        made_id,
        forged.headers["X-Request-ID"],
    ]
    assert [getattr(r, "route", None) for r in logged] == ["/healthz"] * 3
