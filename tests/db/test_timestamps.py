"""Timestamps are timezone-aware on both backends: stored as UTC, read back as UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.models import Application, OrderEvent
from tests.support.builders import ORDER_TABLE, application_row, make_order, make_seller

UTC_PLUS_TWO = timezone(timedelta(hours=2))
PLACED = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=UTC_PLUS_TWO)
PLACED_UTC_WALL_CLOCK = datetime(2026, 3, 1, 12, 30, 15, 123456)


def test_order_event_reads_back_aware_in_utc(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        order_id = make_order(conn, make_seller(conn), placed_at=PLACED)

    with Session(engine) as session:
        order = session.get(OrderEvent, order_id)

    assert order is not None
    assert order.placed_at == PLACED
    assert order.placed_at.utcoffset() == timedelta(0)
    assert order.placed_at.replace(tzinfo=None) == PLACED_UTC_WALL_CLOCK


def test_aware_bound_in_another_offset_finds_the_row(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        order_id = make_order(conn, make_seller(conn), placed_at=PLACED)
        in_california = PLACED.astimezone(timezone(timedelta(hours=-7)))
        found = conn.execute(
            sa.select(ORDER_TABLE.c.order_id).where(ORDER_TABLE.c.placed_at == in_california)
        ).scalar_one_or_none()
        later = conn.execute(
            sa.select(ORDER_TABLE.c.order_id).where(
                ORDER_TABLE.c.placed_at > in_california - timedelta(microseconds=1)
            )
        ).scalar_one_or_none()

    assert found == order_id
    assert later == order_id


def test_application_reads_back_aware_in_utc(engine: sa.Engine) -> None:
    deadline = datetime(2026, 3, 15, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    with Session(engine) as session:
        created = application_row("default-2026-11-26", deadline_at=deadline)
        session.add(created)
        session.commit()
        application_id = created.id

    with Session(engine) as session:
        stored = session.get(Application, application_id)

    assert stored is not None
    assert stored.deadline_at == deadline
    assert stored.deadline_at.utcoffset() == timedelta(0)
    assert stored.deadline_at.replace(tzinfo=None) == datetime(2026, 3, 16, 4, 0)
    assert stored.created_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stored.created_at) < timedelta(minutes=5)


def test_reads_are_utc_whatever_the_session_time_zone(engine: sa.Engine) -> None:
    """A PostgreSQL server configured for another zone must not leak it into the models."""
    with engine.begin() as conn:
        order_id = make_order(conn, make_seller(conn), placed_at=PLACED)

    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET TIME ZONE 'America/New_York'"))
        placed_at = conn.execute(
            sa.select(ORDER_TABLE.c.placed_at).where(ORDER_TABLE.c.order_id == order_id)
        ).scalar_one()
        conn.rollback()

    assert placed_at == PLACED
    assert placed_at.utcoffset() == timedelta(0)
    assert placed_at.replace(tzinfo=None) == PLACED_UTC_WALL_CLOCK


def test_naive_datetime_is_refused_on_core_insert(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        seller_id = make_seller(conn)

    with pytest.raises(sa.exc.StatementError, match="naive datetime"), engine.begin() as conn:
        make_order(conn, seller_id, placed_at=datetime(2026, 3, 1, 12, 0))

    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(ORDER_TABLE)).scalar_one()
    assert stored == 0


def test_naive_datetime_is_refused_on_session_flush(engine: sa.Engine) -> None:
    with Session(engine) as session:
        session.add(application_row("default-2026-11-26", deadline_at=datetime(2026, 3, 15, 23, 0)))
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            session.commit()

    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0
