"""The read models of the ops figures (sellerflow.ops_read_models), kept by triggers on the
records, against the Python computation over every record: after stage changes written out of
order, retried, moved and deleted, after sellers changing status, and after migration 0017's
backfill."""

import random
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from activities.applications import STAGE_CHANGES, enter_stage
from sellerflow import ops_read_models
from sellerflow.db import make_engine
from sellerflow.models import (
    Application,
    Seller,
    StageChange,
    StageDuration,
    StageDurationBucket,
    StageReach,
)
from sellerflow.payloads import SetStageInput
from sellerflow.services.stats import _time_in_stage, stats
from sellerflow.tables import APPLICATIONS, SELLERS
from sellerflow.vocabulary import SellerStatus, Stage
from tests.db.test_stats_sql import time_in_stage_in_python
from tests.support.builders import application_row, seller_row

START = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
HOUR = ops_read_models.HOUR
# The buckets' edges and both sides of them, so that a duration lands on every boundary.
EDGES = [0, HOUR // 10, ops_read_models.DAY, ops_read_models.WEEK, 3 * ops_read_models.WEEK]
NEAR_EDGES = sorted({max(0, edge + d) for edge in EDGES for d in (-1, 0, 1)})
offsets = st.one_of(
    st.sampled_from(NEAR_EDGES),
    st.integers(0, 4).map(lambda h: h * HOUR),
    st.integers(0, 800 * HOUR),
)
# (stage, microseconds after START) in the order written: out of order, repeated (a retry).
journeys = st.lists(
    st.lists(st.tuples(st.sampled_from(Stage), offsets), min_size=1, max_size=8), max_size=6
)


def reached_in_python(session: Session) -> dict[str, int]:
    applications: dict[str, set[uuid.UUID]] = defaultdict(set)
    for change in session.exec(select(StageChange)).all():
        applications[change.stage].add(change.application_id)
    return {stage: len(ids) for stage, ids in applications.items()}


def read_models(session: Session) -> tuple[set[tuple[object, ...]], dict[tuple[str, int], int]]:
    """The durations and the non-empty buckets (a rebuild leaves no empty one)."""
    durations = {
        (row.stage_change_id, row.stage, row.entered_at, row.microseconds, row.bucket)
        for row in session.exec(select(StageDuration)).all()
    }
    buckets = {
        (row.stage, row.bucket): row.durations
        for row in session.exec(select(StageDurationBucket)).all()
        if row.durations
    }
    return durations, buckets


def counted_in_python(session: Session) -> tuple[Counter[str], Counter[str]]:
    stages = Counter(app.stage.value for app in session.exec(select(Application)).all())
    statuses = Counter(seller.status.value for seller in session.exec(select(Seller)).all())
    return stages, statuses


def assert_kept(engine: sa.Engine) -> None:
    """The figures are the Python computation's, and the read models what a rebuild makes."""
    with Session(engine) as session:
        expected = time_in_stage_in_python(session)
        assert list(_time_in_stage(session).items()) == list(expected.items())
        reach = {r.stage: r.applications for r in session.exec(select(StageReach)).all()}
        assert {stage: n for stage, n in reach.items() if n} == reached_in_python(session)
        figures = stats(session)
        stages, statuses = counted_in_python(session)
        assert {k: n for k, n in figures.applications_per_stage.items() if n} == stages
        assert {k: n for k, n in figures.sellers_per_status.items() if n} == statuses
        kept = read_models(session)
    with engine.begin() as conn:
        ops_read_models.rebuild(conn)
    with Session(engine) as session:
        assert read_models(session) == kept


def write(engine: sa.Engine, app_id: uuid.UUID, stage: Stage, offset: int) -> None:
    """A stage entered as the `transition` activity enters it."""
    at = START + timedelta(microseconds=offset)
    with engine.begin() as conn:
        enter_stage(conn, SetStageInput(application_id=str(app_id), stage=stage, at=at))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(journeys=journeys, seed=st.randoms(use_true_random=False))
def test_changes_written_in_any_order_keep_the_figures(
    engine: sa.Engine, journeys: list[list[tuple[Stage, int]]], seed: random.Random
) -> None:
    app_ids = [uuid.uuid4() for _ in journeys]
    with Session(engine) as session:
        session.add_all(application_row("v1", id=app_id) for app_id in app_ids)
        session.commit()
    writes = [
        (app_id, change)
        for app_id, changes in zip(app_ids, journeys, strict=True)
        for change in changes
    ]
    seed.shuffle(writes)
    for app_id, (stage, offset) in writes:
        write(engine, app_id, stage, offset)
    assert_kept(engine)

    # A change moved to another moment, and one deleted: the journey's durations follow.
    with engine.begin() as conn:
        ids = conn.execute(
            sa.select(STAGE_CHANGES.c.id).where(STAGE_CHANGES.c.application_id.in_(app_ids))
        ).scalars()
        stored = sorted(ids)  # fewer than the writes where one was a retry
        chosen = seed.sample(stored, min(2, len(stored)))
        for change_id, action in zip(chosen, ["move", "delete"], strict=False):
            where = STAGE_CHANGES.c.id == change_id
            if action == "move":
                moved = START + timedelta(microseconds=seed.randrange(800 * HOUR))
                conn.execute(sa.update(STAGE_CHANGES).where(where).values(entered_at=moved))
            else:
                conn.execute(sa.delete(STAGE_CHANGES).where(where))
    assert_kept(engine)


def test_appending_a_change_touches_one_duration_and_one_bucket(engine: sa.Engine) -> None:
    app_id = uuid.uuid4()
    with Session(engine) as session:
        session.add(application_row("v1", id=app_id))
        session.commit()
    write(engine, app_id, Stage.draft, 0)
    write(engine, app_id, Stage.submitted, 5 * HOUR)
    write(engine, app_id, Stage.verifying, 5 * HOUR)

    with Session(engine) as session:
        durations, buckets = read_models(session)
        figures = stats(session)
    assert {(stage, microseconds) for _, stage, _, microseconds, _ in durations} == {
        (Stage.draft, 5 * HOUR),
        (Stage.submitted, 0),
    }
    assert buckets == {(Stage.draft, 1 + 50): 1, (Stage.submitted, 0): 1}
    assert figures.time_in_stage_hours["draft"].model_dump() == {"p50": 5.0, "p90": 5.0, "n": 1}
    assert figures.funnel.submitted == 1
    assert figures.applications_per_stage["verifying"] == 1


def test_the_migration_fills_the_read_models_from_the_changes_written_before_it(
    database_url: str, alembic_config: Config
) -> None:
    command.upgrade(alembic_config, "0016")
    engine = make_engine(database_url)
    rng = random.Random(20261207)
    with engine.begin() as conn:
        # Only the columns the schema had at 0016 (later migrations add some).
        present = {c["name"] for c in sa.inspect(conn).get_columns("application")}
        for _ in range(30):
            app_id = uuid.uuid4()
            row = application_row("v1", id=app_id).model_dump(include=present)
            conn.execute(sa.insert(APPLICATIONS).values(row))
            offset = rng.randrange(100 * HOUR)
            for number in range(rng.randint(1, 9)):
                offset += rng.choice([0, rng.randrange(60 * HOUR)])
                change = StageChange(
                    application_id=app_id,
                    stage=rng.choice(list(Stage)),
                    entered_at=START + timedelta(microseconds=offset),
                    idempotency_key=f"{app_id}:{number}",
                )
                conn.execute(sa.insert(STAGE_CHANGES).values(change.model_dump()))

    command.upgrade(alembic_config, "head")

    with Session(engine) as session:
        assert sum(r.durations for r in session.exec(select(StageDurationBucket)).all()) > 30
    assert_kept(engine)
    engine.dispose()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moves=st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from([*SellerStatus, None])), max_size=12
    )
)
def test_sellers_changing_status_keep_the_counts(
    engine: sa.Engine, moves: list[tuple[int, SellerStatus | None]]
) -> None:
    """Sellers opened, moved to another status (or the same one) and deleted (None)."""
    with Session(engine) as session:
        sellers = [seller_row(uuid.uuid4()) for _ in range(6)]
        ids = [seller.id for seller in sellers]
        session.add_all(sellers)
        session.commit()
        for index, status in moves:
            where = SELLERS.c.id == ids[index]
            if status is None:
                session.execute(sa.delete(SELLERS).where(where))
            else:
                session.execute(sa.update(SELLERS).where(where).values(status=status))
            session.commit()
    assert_kept(engine)
