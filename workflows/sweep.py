"""The sweeper, started by a Schedule every few minutes: it starts the onboarding workflows whose
start was lost, asks the registers again for the checks they left unavailable, then delivers
the outbox messages left unsent."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.applications import ApplicationActivities
    from activities.notifications import NotificationActivities
    from activities.starts import OnboardingStarts
    from sellerflow.payloads import (
        RecheckChecksInput,
        StartLostOnboardingsInput,
        SweepOutboxInput,
        SweepOutboxResult,
    )
    from workflows.common import RECHECK_PATCH, ActivityOptions, patched

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
        # Asked before the first await (`patched`); sweeps recorded before it replay without.
        recheck = patched(RECHECK_PATCH)
        await STARTS_OPTIONS.execute(
            OnboardingStarts.start_lost_onboardings, StartLostOnboardingsInput(at=workflow.now())
        )
        if recheck:
            # Each check counts its attempts and waits its backoff (`next_attempt_at`); a
            # failed re-check leaves the outbox to be swept all the same.
            try:
                await STARTS_OPTIONS.execute(
                    ApplicationActivities.recheck_checks, RecheckChecksInput(at=workflow.now())
                )
            except ActivityError as err:
                workflow.logger.warning("checks not asked again: %s", err.cause)
        return await SWEEP_OPTIONS.execute(
            NotificationActivities.sweep_outbox, SweepOutboxInput(at=workflow.now())
        )
