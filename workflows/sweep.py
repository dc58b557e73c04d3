"""The sweeper, started by a Schedule every few minutes: it starts the onboarding workflows whose
start was lost, then delivers the outbox messages left unsent."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from activities.starts import OnboardingStarts
    from sellerflow.payloads import StartLostOnboardingsInput, SweepOutboxInput, SweepOutboxResult


@workflow.defn
class SweepWorkflow:
    @workflow.run
    async def run(self) -> SweepOutboxResult:
        # One attempt per sweep: the next sweep is the retry; each message counts its failures.
        await workflow.execute_activity_method(
            OnboardingStarts.start_lost_onboardings,
            StartLostOnboardingsInput(at=workflow.now()),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return await workflow.execute_activity_method(
            NotificationActivities.sweep_outbox,
            SweepOutboxInput(at=workflow.now()),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
