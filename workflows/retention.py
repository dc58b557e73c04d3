"""Retention, started daily by a Schedule: one activity erases what is past its retention period
and removes stray uploads (`activities.retention`)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities
    from sellerflow.payloads import RetentionInput, RetentionResult
    from workflows.common import ActivityOptions

# A few attempts (S3 or the database away for a moment); the next day's run is the real retry.
RETENTION_OPTIONS = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=30),
    heartbeat_timeout=timedelta(minutes=2),
    retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(minutes=1)),
)


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self) -> RetentionResult:
        return await RETENTION_OPTIONS.execute(
            RetentionActivities.erase_due, RetentionInput(at=workflow.now())
        )
