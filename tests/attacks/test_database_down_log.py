"""The API's answer and log line when the database does not answer: why (the driver's first
line), never the statement's values or the row the driver's message may quote."""

import logging

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from api import errors

EMAIL = "quintessa.wobblebottom@private.example"


class DriverError(Exception):
    pass


def app_whose_database_is_down() -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/down")
    def down() -> None:
        cause = DriverError(f"connection refused\nDETAIL: Key (contact_email)=({EMAIL})")
        raise OperationalError(
            "SELECT * FROM application WHERE contact_email = %s", (EMAIL,), cause
        )

    return app


async def test_the_log_says_why_without_the_row(caplog: pytest.LogCaptureFixture) -> None:
    transport = httpx.ASGITransport(app=app_whose_database_is_down())
    with caplog.at_level(logging.WARNING):
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            answer = await http.get("/down")

    assert answer.status_code == 503
    assert answer.json() == {
        "error": "ServiceUnavailable",
        "detail": "the database is unavailable; retry",
    }
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "connection refused" in logged
    assert EMAIL not in logged
