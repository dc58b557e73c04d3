"""The outbox sweeper: started by a Schedule every few minutes, it delivers what is unsent."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from sellerflow.payloads import SweepOutboxInput, SweepOutboxResult


@workflow.defn
class OutboxSweepWorkflow:
    @workflow.run
    async def run(self) -> SweepOutboxResult:
        return await workflow.execute_activity_method(
            NotificationActivities.sweep_outbox,
            SweepOutboxInput(at=workflow.now()),
            # One attempt per sweep: the next sweep is the retry; each row counts its failures.
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
