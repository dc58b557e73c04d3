"""A failed statement's values stay out of its error and of the log lines that report it: the
engines hide SQL parameters, so a row's personal data is not copied into a traceback."""

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from sellerflow.db import make_async_engine, make_engine, table_of, upgrade_schema
from sellerflow.models import StaffUser
from tests.attacks.test_personal_data import logged

STAFF = table_of(StaffUser)
EMAIL = "zephyrine.quackenbush@personal.example"


def staff_row(username: str, email: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "username": username,
        "email": email,
        "password_hash": "x",
        "roles": "ops",
        "disabled": False,
        "created_at": datetime.now(UTC),
    }


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sellerflow.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    upgrade_schema(url)
    with make_engine(url).begin() as conn:
        conn.execute(sa.insert(STAFF).values(**staff_row("taken", "first@staff.example")))
    return url


def reported(err: Exception) -> str:
    """The error as the API's handlers would log it: its text and its traceback."""
    with logged(logging.WARNING) as lines:
        logging.getLogger("sellerflow.api").warning("database error: %s", err, exc_info=err)
    return "\n".join(lines.lines)


def test_a_failed_insert_does_not_report_its_values(database_url: str) -> None:
    engine = make_engine(database_url)
    with pytest.raises(sa.exc.IntegrityError) as failed, engine.begin() as conn:
        conn.execute(sa.insert(STAFF).values(**staff_row("taken", EMAIL)))
    engine.dispose()
    assert "INSERT INTO staff_user" in str(failed.value)
    assert EMAIL not in str(failed.value)
    assert EMAIL not in reported(failed.value)


async def test_a_failed_read_on_the_event_loop_does_not_report_its_values(
    database_url: str,
) -> None:
    reads = make_async_engine(database_url)
    query = sa.text("SELECT id FROM staff_user WHERE email = :email AND no_such_column = 1")
    try:
        with pytest.raises(sa.exc.DBAPIError) as failed:
            async with reads.connect() as conn:
                await conn.execute(query, {"email": EMAIL})
    finally:
        await reads.dispose()
    assert "no_such_column" in str(failed.value)
    assert EMAIL not in str(failed.value)
    assert EMAIL not in reported(failed.value)
