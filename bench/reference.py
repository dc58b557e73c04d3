"""The minimal reference the speed benchmarks compare sellerflow with.

`ReferenceWorkflow` follows a plan: `activity` runs one trivial activity, `wait` waits for one
update (as the real workflow waits for a person's decision) under a durable timer, `child`
starts the child workflow (as the onboarding workflow starts the seller workflow). The plan is
read off the history of one real journey, so the reference has exactly as many activities,
updates, timers and child workflows, in the same order, and nothing else: no database, no
search attributes, no policy in its input, an update handler that answers at once.
"""

import contextlib
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

# Real waits last days; the reference's timers never fire during a run either.
WAIT = timedelta(days=14)


class ReferenceInput(BaseModel):
    steps: list[str]
    child_steps: list[str] = []


class Decision(BaseModel):
    task_id: str
    decision: str = "approve"


@activity.defn
def trivial_activity(step: int) -> int:
    return step


@workflow.defn
class ReferenceWorkflow:
    def __init__(self) -> None:
        self.decisions = 0

    @workflow.run
    async def run(self, inp: ReferenceInput) -> int:
        waits = 0
        for number, step in enumerate(inp.steps):
            if step == "activity":
                await workflow.execute_activity(
                    trivial_activity, number, start_to_close_timeout=timedelta(seconds=30)
                )
            elif step == "wait":
                waits += 1
                await self._decided(waits)
            elif step == "child":
                await workflow.start_child_workflow(
                    ReferenceWorkflow.run,
                    ReferenceInput(steps=inp.child_steps),
                    id=f"{workflow.info().workflow_id}-child",
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
        return self.decisions

    async def _decided(self, count: int) -> None:
        """Wait for the `count`th decision under a durable timer."""
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self.decisions >= count, timeout=WAIT)

    @workflow.update
    def decide(self, inp: Decision) -> str:
        self.decisions += 1
        return inp.decision
