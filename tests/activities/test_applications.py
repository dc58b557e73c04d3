"""The automated checks: a registry that cannot answer is retried, never taken as a refusal."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.applications import ApplicationActivities
from sellerflow.db import make_engine, session_scope, upgrade_schema
from sellerflow.models import Application
from sellerflow.payloads import VerifyApplicationInput, VerifyApplicationResult
from sellerflow.policy.model import Policy, load_policy
from sellerflow.registry import RegistryAnswer
from tests.journey import APPLICATION
from workflows.common import ACTIVITY_OPTIONS


class FixedRegistry:
    def __init__(self, answer: RegistryAnswer) -> None:
        self.answer = answer

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryAnswer:
        return self.answer


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'sellerflow.db'}"
    upgrade_schema(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("default")


def verify(engine: sa.Engine, policy: Policy, answer: RegistryAnswer) -> VerifyApplicationResult:
    with session_scope(engine) as session:
        app = Application(**APPLICATION, policy_version=policy.version)
        session.add(app)
    activities = ApplicationActivities(engine, FixedRegistry(answer))
    inp = VerifyApplicationInput(application_id=str(app.id), policy=policy, as_of=datetime.now(UTC))
    return ActivityEnvironment().run(activities.verify_application, inp)


def test_an_unavailable_registry_is_a_retryable_error(engine: sa.Engine, policy: Policy) -> None:
    with pytest.raises(ApplicationError) as raised:
        verify(engine, policy, RegistryAnswer.unavailable)
    assert raised.value.type == "RegistryUnavailable"
    assert not raised.value.non_retryable
    retry = ACTIVITY_OPTIONS["retry_policy"]
    assert raised.value.type not in retry.non_retryable_error_types
    assert retry.maximum_attempts == 0, "retried until the registry answers"


def test_a_registry_that_does_not_know_the_company_is_a_refusal(
    engine: sa.Engine, policy: Policy
) -> None:
    result = verify(engine, policy, RegistryAnswer.not_found)
    codes = {(p.code, p.error_code) for p in result.problems}
    assert ("company_registration_extract", "registry_mismatch") in codes
