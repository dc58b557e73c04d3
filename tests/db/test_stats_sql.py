"""The ops dashboard's time in stage, computed in SQL, against the Python computation it replaced
(kept here as the oracle): same stages in the same order, same percentiles, same counts."""

import random
import statistics
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from sellerflow.models import Application, StageChange
from sellerflow.services.stats import _time_in_stage, stats
from sellerflow.vocabulary import Stage
from tests.support.builders import application_row

START = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
HOUR = 3_600_000_000  # microseconds


def time_in_stage_in_python(session: Session) -> dict[str, dict[str, float | None]]:
    """The computation `_time_in_stage` replaced, as it was: every stage change read."""

    def percentile(values: list[float], q: float) -> float | None:
        if not values:
            return None
        if len(values) == 1:
            return round(values[0], 1)
        return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)

    order = {stage.value: index for index, stage in enumerate(Stage)}
    changes = sorted(
        session.exec(select(StageChange)).all(),
        key=lambda c: (c.application_id, c.entered_at, order.get(c.stage, len(order))),
    )
    if not changes:  # where it raised (zip(strict=True) of [] and [None]): a 500 before
        return {}
    durations: dict[str, list[float]] = defaultdict(list)
    for current, following in zip(changes, [*changes[1:], None], strict=True):
        if following is not None and following.application_id == current.application_id:
            durations[current.stage].append(
                (following.entered_at - current.entered_at).total_seconds() / 3600
            )
    return {
        stage: {"p50": percentile(values, 50), "p90": percentile(values, 90), "n": len(values)}
        for stage, values in durations.items()
    }


Journeys = list[tuple[uuid.UUID, list[tuple[Stage, int]]]]


def store(engine: sa.Engine, journeys: Journeys) -> None:
    """Only these applications, with their stage changes (stage, microseconds after START)."""
    with Session(engine) as session:
        session.execute(sa.delete(StageChange))
        session.execute(sa.delete(Application))
        session.add_all(application_row("v1", id=app_id) for app_id, _ in journeys)
        session.flush()
        session.add_all(
            StageChange(
                application_id=app_id,
                stage=stage,
                entered_at=START + timedelta(microseconds=offset),
                idempotency_key=f"{app_id}:{number}",
            )
            for app_id, changes in journeys
            for number, (stage, offset) in enumerate(changes)
        )
        session.commit()


# Whole hours often, so that stages share a moment (the tie-break) and durations repeat.
offsets = st.one_of(st.integers(0, 4).map(lambda h: h * HOUR), st.integers(0, 400 * HOUR))
journeys = st.lists(
    st.tuples(st.uuids(), st.lists(st.tuples(st.sampled_from(Stage), offsets), max_size=8)),
    max_size=10,
    unique_by=lambda journey: journey[0],
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(journeys=journeys)
def test_time_in_stage_is_the_python_computation(engine: sa.Engine, journeys: Journeys) -> None:
    store(engine, journeys)

    with Session(engine) as session:
        expected = time_in_stage_in_python(session)
        answer = _time_in_stage(session)

    assert list(answer.items()) == list(expected.items())


def test_time_in_stage_of_many_journeys(engine: sa.Engine) -> None:
    """Hundreds of journeys as the workflow makes them (`verifying` entered with `submitted`,
    review loops), durations to the microsecond: percentiles interpolated between ranks."""
    rng = random.Random(20261206)
    loop = [Stage.changes_requested, Stage.submitted, Stage.verifying, Stage.onboarding_review]
    plan = [Stage.draft, Stage.submitted, Stage.verifying, Stage.onboarding_review]
    plan += loop * 2 + [Stage.ssm_signoff, Stage.account_setup, Stage.approved]
    journeys: Journeys = []
    for _ in range(400):
        offset, changes = rng.randrange(100 * HOUR), []
        for stage in plan[: rng.randint(1, len(plan))]:
            if stage != Stage.verifying:
                offset += int(rng.expovariate(1 / (30 * HOUR)))
            changes.append((stage, offset))
        journeys.append((uuid.uuid4(), changes))
    store(engine, journeys)

    with Session(engine) as session:
        expected = time_in_stage_in_python(session)
        figures = stats(session)

    assert expected[Stage.submitted]["n"] > 100
    assert list(figures.model_dump()["time_in_stage_hours"].items()) == list(expected.items())
