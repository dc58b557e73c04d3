"""The automated checks: a registry that cannot answer is retried, never taken as a refusal."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.applications import ApplicationActivities
from sellerflow.db import session_scope
from sellerflow.models import Application
from sellerflow.payloads import VerifyApplicationInput, VerifyApplicationResult
from sellerflow.policy.model import Policy
from sellerflow.registry import RegistryAnswer
from tests.journey import APPLICATION
from workflows.common import ACTIVITY_OPTIONS


class FixedRegistry:
    def __init__(self, answer: RegistryAnswer) -> None:
        self.answer = answer

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryAnswer:
        return self.answer


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
