"""The worker's runtime serves Prometheus metrics (with activity failures) and logs JSON lines."""

import json
import logging
import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from sellerflow.cli.devstack import free_port
from sellerflow.config import Settings
from sellerflow.logs import JsonFormatter, RequestIdFilter, request_id
from sellerflow.temporal import connect
from tests.support.workers import worker_on_new_queue
from worker import ActivityFailureCounter, build_runtime


@activity.defn
def always_fails() -> None:
    raise ConnectionError("the registry is down")


@activity.defn
def given_bad_input() -> None:
    raise ValueError("not a document id: 'd1'")


@workflow.defn(sandboxed=False)
class CallsAFailingActivity:
    @workflow.run
    async def run(self, name: str) -> None:
        await workflow.execute_activity(
            name,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=50), maximum_attempts=2
            ),
        )


def failure_lines(scraped: str, activity_type: str) -> list[str]:
    """The lines of the activity failure counter for one activity type."""
    return [
        line
        for line in scraped.splitlines()
        if line.startswith("sellerflow_activity_failures{")
        and f'activity_type="{activity_type}"' in line
    ]


async def test_worker_runtime_serves_metrics_and_counts_activity_failures(
    temporal_address: str,
) -> None:
    port = free_port()
    settings = Settings(temporal_address=temporal_address, worker_metrics_port=port)
    runtime = build_runtime(settings)
    client = await connect(settings, runtime=runtime)
    async with worker_on_new_queue(
        client,
        "metrics",
        workflows=[CallsAFailingActivity],
        activities=[always_fails, given_bad_input],
        threads=2,
        interceptors=[ActivityFailureCounter(runtime.metric_meter)],
    ) as queue:
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(
                CallsAFailingActivity.run,
                "always_fails",
                id=f"metrics-{uuid.uuid4()}",
                task_queue=queue,
            )
        with pytest.raises(WorkflowFailureError) as bad_input:
            await client.execute_workflow(
                CallsAFailingActivity.run,
                "given_bad_input",
                id=f"metrics-{uuid.uuid4()}",
                task_queue=queue,
            )

    async with httpx.AsyncClient() as http:
        scraped = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    failures = failure_lines(scraped, "always_fails")
    assert len(failures) == 1, scraped
    assert 'error="ConnectionError"' in failures[0]
    assert failures[0].rsplit(" ", 1)[1] == "2"
    # Bad input is not retried: one attempt, failed as InvalidInput.
    bad = failure_lines(scraped, "given_bad_input")
    assert len(bad) == 1, scraped
    assert bad[0].rsplit(" ", 1)[1] == "1", scraped
    cause = bad_input.value.cause
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.cause, ApplicationError)
    assert cause.cause.type == "InvalidInput"
    assert cause.cause.non_retryable
    assert "temporal_activity_execution_failed" in scraped


def test_log_lines_are_json_with_workflow_and_request_ids() -> None:
    record = logging.makeLogRecord(
        {
            "name": "temporalio.activity",
            "levelname": "INFO",
            "msg": "notification %s delivered",
            "args": ("k1",),
            "temporal_activity": {
                "workflow_id": "onboarding-1",
                "workflow_run_id": "run-1",
                "activity_type": "deliver_notification",
                "attempt": 2,
                "namespace": "default",
            },
            "notification_key": "k1",
        }
    )
    token = request_id.set("req-9")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)

    line = json.loads(JsonFormatter().format(record))

    assert line["msg"] == "notification k1 delivered"
    assert (line["workflow_id"], line["run_id"], line["attempt"]) == ("onboarding-1", "run-1", 2)
    assert line["activity_type"] == "deliver_notification"
    assert (line["notification_key"], line["request_id"]) == ("k1", "req-9")
    assert "namespace" not in line
