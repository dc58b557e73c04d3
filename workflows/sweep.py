"""The sweeper, started by a Schedule every few minutes: it starts the onboarding workflows whose
start was lost, then delivers the outbox messages left unsent."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from activities.starts import OnboardingStarts
    from sellerflow.payloads import StartLostOnboardingsInput, SweepOutboxInput, SweepOutboxResult
    from workflows.common import ActivityOptions

# One attempt per sweep: the next sweep is the retry; each message counts its failures.
STARTS_OPTIONS = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=5), retry_policy=RetryPolicy(maximum_attempts=1)
)
SWEEP_OPTIONS = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(minutes=1),
    retry_policy=RetryPolicy(maximum_attempts=1),
)


@workflow.defn
class SweepWorkflow:
    @workflow.run
    async def run(self) -> SweepOutboxResult:
        await STARTS_OPTIONS.execute(
            OnboardingStarts.start_lost_onboardings, StartLostOnboardingsInput(at=workflow.now())
        )
        return await SWEEP_OPTIONS.execute(
            NotificationActivities.sweep_outbox, SweepOutboxInput(at=workflow.now())
        )
