"""The real OnboardingWorkflow driven by random applicant and staff messages and jumps in time (a
few bounded seeds) on the time-skipping server, its activities recorders: after every step it
answers a query and an update within seconds; the stage it wrote last (the read model) is the
stage it reports; every stage move is one `STAGE_MOVES` allows; each task is closed at most once,
always with a decision; a decision accepted is never accepted again.

A failure names the seed and prints the steps taken.
"""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.testing import TimeSkipper

from activities.applications import ApplicationActivities
from activities.sellers import SellerActivities
from activities.tasks import TaskActivities
from sellerflow.payloads import (
    CancelTasksInput,
    CloseTaskInput,
    CompleteTaskInput,
    OnboardingInput,
    OnboardingResult,
    OpenTaskInput,
    Problem,
    SetStageInput,
    SetupAccountInput,
    SetupAccountResult,
    SubmitInput,
    TrialSnapshot,
    TrialSnapshotInput,
    VerifyApplicationInput,
    VerifyApplicationResult,
    WithdrawInput,
)
from sellerflow.policy.kpis import scorecard
from sellerflow.policy.model import Policy, load_policy
from sellerflow.policy.onboarding import NEEDS_REASON_CODES, STAGE_MOVES
from sellerflow.vocabulary import FINAL_STAGES, TASK_DECISIONS, Decision, Stage, TaskKind
from tests.support.fakes import fake_of, fakes_in
from tests.support.moves import MovesOfParts
from tests.support.no_ops import NoOpActivities
from tests.support.workers import worker_on_new_queue
from tests.workflows.random_runs import (
    ANSWER_SECONDS,
    jump_in_time,
    random_run,
    refused_in_seconds,
)
from workflows.onboarding import OnboardingWorkflow
from workflows.seller import SellerWorkflow

SEEDS = [3, 17, 29, 58]
JUMPS = [timedelta(hours=2), timedelta(days=1), timedelta(days=4), timedelta(days=15)]
DECIDERS = {
    TaskKind.onboarding_review: ["onboarding1", "onboarding2"],
    TaskKind.ssm_signoff: ["ssm1"],
}
# Weights: the ends (withdraw, reject) are rare, so a run goes through several rounds.
CHOICES = {"time": 3, "submit": 3, "withdraw": 0.3, "decide": 5, "checks": 1}
DECISION_WEIGHTS = {Decision.approve: 3, Decision.request_changes: 3, Decision.reject: 0.3}


@dataclass
class Written:
    """What the activities wrote: the read model of the application."""

    stages: list[Stage] = field(default_factory=list)
    opened: dict[str, TaskKind] = field(default_factory=dict)
    closed: list[CompleteTaskInput] = field(default_factory=list)
    cancelled: bool = False
    fail_checks: bool = False


class Recorders(NoOpActivities, MovesOfParts):
    """The activities as recorders of what they would write (`w`, the read model)."""

    def __init__(self, w: Written, policy: Policy) -> None:
        self.w, self.policy = w, policy

    @fake_of(ApplicationActivities.set_stage)
    def set_stage(self, inp: SetStageInput) -> None:
        self.w.stages.append(inp.stage)

    @fake_of(ApplicationActivities.verify_application)
    def verify_application(self, inp: VerifyApplicationInput) -> VerifyApplicationResult:
        problem = Problem(code="vat_number", error_code="vat_invalid", reason="check digits")
        return VerifyApplicationResult(problems=[problem] if self.w.fail_checks else [])

    @fake_of(TaskActivities.open_task)
    def open_task(self, inp: OpenTaskInput) -> str:
        if inp.application_id and not inp.seller_id:
            self.w.opened[inp.task_id] = inp.kind
        return inp.task_id

    @fake_of(TaskActivities.close_task)
    def close_task(self, inp: CloseTaskInput) -> None:
        if inp.decision.task_id in self.w.opened:
            self.w.closed.append(inp.decision)

    @fake_of(TaskActivities.cancel_tasks)
    def cancel_tasks(self, inp: CancelTasksInput) -> int:
        if inp.workflow_id.startswith("onboarding-"):
            self.w.cancelled = True
        return 0

    @fake_of(ApplicationActivities.setup_account)
    def setup_account(self, inp: SetupAccountInput) -> SetupAccountResult:
        return SetupAccountResult(seller_id=str(uuid.uuid4()))

    # The seller workflow started at approval runs on the same worker: its trial's scorecard.
    @fake_of(SellerActivities.trial_snapshot)
    def trial_snapshot(self, inp: TrialSnapshotInput) -> TrialSnapshot:
        return TrialSnapshot(entries=scorecard(self.policy, {}, in_trial=True))


@dataclass
class Rig:
    client: Client
    skipper: TimeSkipper
    task_queue: str
    policy: Policy


@pytest_asyncio.fixture
async def rig(temporal_client: Client) -> AsyncIterator[tuple[Rig, Written]]:
    policy, written = load_policy("default"), Written()
    async with worker_on_new_queue(
        temporal_client,
        "onboarding-random",
        workflows=[OnboardingWorkflow, SellerWorkflow],
        activities=fakes_in(Recorders(written, policy)),
    ) as task_queue:
        yield Rig(temporal_client, TimeSkipper(temporal_client), task_queue, policy), written


Handle = WorkflowHandle[OnboardingWorkflow, OnboardingResult]


async def step(rig: Rig, w: Written, handle: Handle, rng: random.Random) -> str:
    state = await handle.query(OnboardingWorkflow.state)
    choice = rng.choices(list(CHOICES), weights=list(CHOICES.values()))[0]
    try:
        if choice == "time":
            return await jump_in_time(rig.skipper, handle, rng, JUMPS)
        if choice == "checks":
            w.fail_checks = not w.fail_checks
            return f"automated checks fail: {w.fail_checks}"
        if choice == "submit":
            await handle.execute_update(OnboardingWorkflow.submit, SubmitInput())
            return "submit"
        if choice == "withdraw":
            await handle.execute_update(OnboardingWorkflow.withdraw, WithdrawInput(reason="x"))
            return "withdraw"
        if state.open_task_id is None or state.open_task_kind is None:
            return "decide: nothing open"
        kind = state.open_task_kind
        decisions = sorted(TASK_DECISIONS[kind])
        decision = rng.choices(decisions, weights=[DECISION_WEIGHTS[d] for d in decisions])[0]
        # Now and then the same decision again, or one on a task decided before.
        task_id = rng.choice([state.open_task_id] * 4 + [c.task_id for c in w.closed[-1:]])
        await handle.execute_update(
            OnboardingWorkflow.complete_task,
            CompleteTaskInput(
                task_id=task_id,
                actor=rng.choice(DECIDERS[kind]),
                decision=decision,
                reason_codes=["other"] if decision in NEEDS_REASON_CODES else [],
                comment="see the reasons",
            ),
        )
        return f"decide {kind.value} {decision.value}"
    except WorkflowUpdateFailedError as err:
        return f"{choice} refused: {err.cause}"


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_messages_and_time_keep_the_onboarding_workflow_answering(
    rig: tuple[Rig, Written], seed: int
) -> None:
    r, w = rig
    rng = random.Random(seed)
    app_id = str(uuid.uuid4())
    handle = await r.client.start_workflow(
        OnboardingWorkflow.run,
        OnboardingInput(application_id=app_id, policy=r.policy),
        id=f"onboarding-{app_id}",
        task_queue=r.task_queue,
    )
    async for report in random_run(handle, seed, lambda _: step(r, w, handle, rng)):
        state = await asyncio.wait_for(handle.query(OnboardingWorkflow.state), ANSWER_SECONDS)
        assert w.stages[-1] == state.stage, report
        moves = list(zip(w.stages, w.stages[1:], strict=False))
        assert all(b in STAGE_MOVES[a] or a == b for a, b in moves), (moves, report)
        closed = [c.task_id for c in w.closed]
        assert len(closed) == len(set(closed)), ("a task decided twice", report)
        written_open = set() if w.cancelled else set(w.opened) - set(closed)
        shown = {state.open_task_id} if state.open_task_id else set()
        assert written_open == shown, report
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            assert state.stage in FINAL_STAGES, report
            return
        # An update answers (here: refused by its validator, no task has this id) in seconds.
        await refused_in_seconds(
            handle.execute_update(
                OnboardingWorkflow.complete_task,
                CompleteTaskInput(task_id="none", actor="x", decision=Decision.approve),
            )
        )
