"""The onboarding workflow on its plan before one transaction per move: `bench.throughput`'s
second reference.

Until `ONE_TRANSACTION_PATCH` a journey wrote each part of a move (the stage, the task row, the
verdicts, the notice) in an activity of its own: 22 activities. Runs started before the patch
still replay that plan (`OnboardingWorkflow._run_steps`); this subclass runs it for new runs,
with the same activities, handlers and worker, so the two plans are measured side by side.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sellerflow.payloads import OnboardingInput, OnboardingResult
    from workflows.onboarding import OnboardingWorkflow


@workflow.defn(name="OnboardingStepByStep")
class StepByStepOnboarding(OnboardingWorkflow):
    @workflow.run
    async def run(self, inp: OnboardingInput) -> OnboardingResult:
        return await super().run(inp)

    def _one_transaction_per_move(self) -> bool:
        return False
