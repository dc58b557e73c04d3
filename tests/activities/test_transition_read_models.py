"""A move written by the `transition` activity updates the ops figures' read models in its own
transaction, and a retry of it changes nothing."""

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.applications import ApplicationActivities
from activities.onboarding import OnboardingActivities
from sellerflow.config import Settings
from sellerflow.payloads import SetStageInput, TransitionInput
from sellerflow.policy.model import Policy
from sellerflow.registries import RegistryAnswer, RegistryRecord
from sellerflow.services.stats import OpsStats, stats
from sellerflow.vocabulary import Stage
from tests.support.builders import application_row

START = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


class KnownCompany:
    source = "a fixed answer"

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryRecord:
        return RegistryRecord(RegistryAnswer.found)


def move(
    engine: sa.Engine, policy: Policy, app_id: uuid.UUID, at: datetime, *stages: Stage
) -> None:
    checks = ApplicationActivities(engine, KnownCompany(), None)
    activities = OnboardingActivities(engine, Settings(), policy, checks)
    entered = [SetStageInput(application_id=str(app_id), stage=stage, at=at) for stage in stages]
    ActivityEnvironment().run(activities.transition, TransitionInput(stages=entered))


def figures(engine: sa.Engine) -> OpsStats:
    with Session(engine) as session:
        return stats(session)


def test_a_move_updates_the_figures_and_its_retry_changes_nothing(
    engine: sa.Engine, policy: Policy
) -> None:
    app_id = uuid.uuid4()
    with Session(engine) as session:
        session.add(application_row(policy.version, id=app_id))
        session.commit()
    move(engine, policy, app_id, START, Stage.draft)
    before = figures(engine)

    move(engine, policy, app_id, START + timedelta(hours=30), Stage.submitted, Stage.verifying)
    after = figures(engine)
    move(engine, policy, app_id, START + timedelta(hours=30), Stage.submitted, Stage.verifying)

    assert before.time_in_stage_hours == {}
    assert before.funnel.submitted == 0
    assert after.time_in_stage_hours["draft"].model_dump() == {"p50": 30.0, "p90": 30.0, "n": 1}
    assert after.time_in_stage_hours["submitted"].model_dump() == {"p50": 0.0, "p90": 0.0, "n": 1}
    assert list(after.time_in_stage_hours) == ["draft", "submitted"]
    assert after.funnel.submitted == 1
    assert after.applications_per_stage["verifying"] == 1
    assert after.applications_per_stage["draft"] == 0
    assert figures(engine) == after
