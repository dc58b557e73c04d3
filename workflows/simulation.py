"""The what-if of a policy version, run once: a failure is recorded, never retried forever."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.simulations import SimulationActivities
    from sellerflow.simulation_payloads import FailSimulationInput, SimulatePolicyInput
    from workflows.common import ACTIVITY_OPTIONS, ActivityOptions

# Reading every seller's order events takes minutes; it heartbeats after each chunk.
SIMULATE_OPTIONS = ActivityOptions(
    start_to_close_timeout=timedelta(hours=1),
    heartbeat_timeout=timedelta(minutes=2),
    retry_policy=RetryPolicy(maximum_attempts=3, non_retryable_error_types=["LookupError"]),
)


@workflow.defn
class PolicySimulationWorkflow:
    @workflow.run
    async def run(self, inp: SimulatePolicyInput) -> None:
        try:
            await SIMULATE_OPTIONS.execute(SimulationActivities.simulate_policy, inp)
        except ActivityError as err:
            cause = err.cause or err
            await ACTIVITY_OPTIONS.execute(
                SimulationActivities.fail_simulation,
                FailSimulationInput(simulation_id=inp.simulation_id, error=str(cause)),
            )
