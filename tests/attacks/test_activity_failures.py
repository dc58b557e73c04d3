"""A failed statement's values stay out of Temporal: an activity whose SQL fails reports a fixed
text naming the error class and the activity, in the workflow's failure and in its history."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.notifications import NotificationActivities
from sellerflow.config import Settings
from sellerflow.db import make_engine, session_scope, upgrade_schema
from sellerflow.payloads import NotifyInput
from sellerflow.policy.model import Policy
from tests.support.builders import application_row
from worker import database_failure, worker_interceptors

EMAIL = "zephyrine.quackenbush@personal.example"


@workflow.defn(sandboxed=False)
class NotifiesOnce:
    @workflow.run
    async def run(self, inp: NotifyInput) -> bool:
        return await workflow.execute_activity_method(
            NotificationActivities.notify,
            inp,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=50), maximum_attempts=2
            ),
        )


@pytest.mark.postgres
async def test_a_unique_violation_quoting_an_email_stays_out_of_the_workflow_history(
    postgres_url: str, temporal_client: Client, policy: Policy
) -> None:
    upgrade_schema(postgres_url)
    engine = make_engine(postgres_url)
    with session_scope(engine) as session:
        app = application_row(policy.version, contact_email=EMAIL)
        session.add(app)
    # A constraint the activity does not expect: PostgreSQL's DETAIL quotes the key's value.
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE UNIQUE INDEX ux_one_mail ON notification (recipient)"))
    notes = NotificationActivities(engine, Settings(), policy)
    first = NotifyInput(template="application_received", key="k1", application_id=str(app.id))
    ActivityEnvironment().run(notes.notify, first)
    with pytest.raises(sa.exc.IntegrityError) as direct:
        notes.notify(first.model_copy(update={"key": "k2"}))
    assert EMAIL in str(direct.value), "the driver's text quotes the value this test hides"

    task_queue = f"db-failure-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            temporal_client,
            task_queue=task_queue,
            workflows=[NotifiesOnce],
            activities=[notes.notify],
            activity_executor=executor,
            interceptors=worker_interceptors(temporal_client),
        ):
            handle = await temporal_client.start_workflow(
                NotifiesOnce.run,
                first.model_copy(update={"key": "k3"}),
                id=f"db-failure-{uuid.uuid4()}",
                task_queue=task_queue,
            )
            with pytest.raises(WorkflowFailureError) as failed:
                await handle.result()
            history = (await handle.fetch_history()).to_json()
    engine.dispose()

    cause = failed.value.cause
    assert isinstance(cause, ActivityError)
    # Retried as before: an integrity error may be a race that the next attempt wins.
    assert cause.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED
    error = cause.cause
    assert isinstance(error, ApplicationError)
    assert error.type == "IntegrityError"
    assert not error.non_retryable
    assert error.message == "notify: IntegrityError in the database (details in the worker's log)"
    assert error.cause is None
    assert not error.details
    assert EMAIL not in history
    assert "personal.example" not in history
    assert "ux_one_mail" not in history, "the driver's text is not in the history at all"


def test_an_unavailable_database_is_retried_under_a_fixed_text() -> None:
    driver_text = f"could not serialize access for {EMAIL}"
    err = sa.exc.OperationalError("UPDATE application SET x=?", {}, Exception(driver_text))
    failure = database_failure("transition", err)
    assert failure.type == "DatabaseUnavailable"
    assert not failure.non_retryable
    assert failure.message.startswith("database unavailable: transition: OperationalError")
    assert EMAIL not in failure.message
