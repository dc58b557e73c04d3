"""A Hypothesis state machine over the onboarding rules, driven as the workflow drives them:
submit, withdraw, automated checks passing or failing, every decision of every task kind (by the
right and the wrong people, on the open task and on old ones), the deadline falling due, and a
pending decision carried out later (messages arriving in between).

Invariants after every step: the stage is reached only by moves `STAGE_MOVES` allows; every
closed task has a decision; a decided task is never decided again; an accepted withdrawal ends
the application as withdrawn, whatever decision was pending.
"""

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sellerflow.payloads import CompleteTaskInput
from sellerflow.policy import Refused
from sellerflow.policy.onboarding import (
    APPLICANT_STAGES,
    STAGE_MOVES,
    check_decision,
    check_submit,
    check_withdraw,
    stage_after,
    stage_of,
)
from sellerflow.vocabulary import FINAL_STAGES, TASK_DECISIONS, Decision, Stage, TaskKind

ACTORS = ["onboarding1", "onboarding2", "ssm1"]
ROLE_MEMBERS = {
    TaskKind.onboarding_review: ["onboarding1", "onboarding2"],
    TaskKind.ssm_signoff: ["ssm1", "ssm1"],
}


@dataclass
class Task:
    task_id: str
    kind: TaskKind
    decision: CompleteTaskInput | None = None


@dataclass
class Model:
    """The workflow's state, as `OnboardingWorkflow` keeps it."""

    stage: Stage = Stage.draft
    submit_requested: bool = False
    withdrawal: bool = False
    task: Task | None = None
    pending: CompleteTaskInput | None = None  # accepted, not carried out yet
    heading_to: Stage | None = None
    approver: str | None = None
    closed: list[Task] = field(default_factory=list)
    path: list[Stage] = field(default_factory=lambda: [Stage.draft])
    counter: int = 0


class OnboardingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.m = Model()

    def enter(self, stage: Stage) -> None:
        assert stage in STAGE_MOVES[self.m.stage], f"{self.m.stage} -> {stage}"
        self.m.stage = stage
        self.m.path.append(stage)
        if stage == self.m.heading_to:
            self.m.heading_to = None

    def open_task(self, kind: TaskKind) -> None:
        if self.m.stage != stage_of(kind):
            self.enter(stage_of(kind))
        self.m.counter += 1
        self.m.task = Task(f"t{self.m.counter}", kind)

    def finish(self, stage: Stage) -> None:
        self.m.task = None
        self.enter(stage)

    # --- messages ---------------------------------------------------------------------------

    @rule()
    def submit(self) -> None:
        try:
            check_submit(self.m.stage, self.m.submit_requested)
        except Refused:
            return
        self.m.submit_requested = True

    @rule()
    def withdraw(self) -> None:
        try:
            check_withdraw(self.m.heading_to or self.m.stage, self.m.withdrawal)
        except Refused:
            return
        self.m.withdrawal = True

    @rule(data=st.data(), on_open=st.integers(0, 4), reasons=st.booleans())
    def decide(self, data: st.DataObject, on_open: int, reasons: bool) -> None:
        target = self.m.task if on_open or not self.m.closed else self.m.closed[-1]
        if target is None:
            return
        # Mostly a decision this kind of task takes, by someone of its role; sometimes not.
        fitting = sorted(TASK_DECISIONS[target.kind])
        decision = data.draw(st.sampled_from([*fitting, *fitting, Decision.passed]))
        actor = data.draw(st.sampled_from([*ROLE_MEMBERS[target.kind], *ACTORS]))
        inp = CompleteTaskInput(
            task_id=target.task_id,
            actor=actor,
            decision=decision,
            reason_codes=["other"] if reasons else [],
        )
        open_task = (self.m.task.task_id, self.m.task.kind) if self.m.task else None
        try:
            check_decision(
                open_task,
                self.m.pending is not None,
                inp,
                approver=self.m.approver,
                withdrawing=self.m.withdrawal,
            )
        except Refused:
            return
        assert target is self.m.task, "a decision was accepted for a task that is not open"
        assert target.decision is None, "a decided task was decided again"
        assert decision in TASK_DECISIONS[target.kind]
        self.m.pending = inp
        self.m.heading_to = stage_after(target.kind, decision)

    # --- the workflow's own steps -----------------------------------------------------------

    @precondition(lambda self: self.m.stage in APPLICANT_STAGES)
    @rule(checks_pass=st.booleans(), deadline=st.booleans())
    def applicant_stage_ends(self, checks_pass: bool, deadline: bool) -> None:
        if self.m.withdrawal:
            return self.finish(Stage.withdrawn)
        if self.m.submit_requested:
            self.m.submit_requested = False
            self.enter(Stage.submitted)
            self.enter(Stage.verifying)
            if not checks_pass:
                return self.enter(Stage.changes_requested)
            return self.open_task(TaskKind.onboarding_review)
        if deadline:
            self.finish(Stage.expired)
        return None

    @precondition(lambda self: self.m.task is not None)
    @rule()
    def task_wait_ends(self) -> None:
        """The task's wait wakes on a decision or a withdrawal (a decision first, as the
        workflow reads it), and the workflow carries out what it found."""
        task = self.m.task
        assert task is not None
        decision = self.m.pending
        if decision is None:
            if self.m.withdrawal:
                self.finish(Stage.withdrawn)
            return
        task.decision, self.m.pending, self.m.task = decision, None, None
        self.m.closed.append(task)
        nxt = stage_after(task.kind, decision.decision)
        if nxt == Stage.ssm_signoff:
            self.m.approver = decision.actor
            self.open_task(TaskKind.ssm_signoff)
        elif nxt == Stage.account_setup:
            self.enter(Stage.account_setup)
            self.enter(Stage.approved)
        else:
            self.enter(nxt)

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def path_follows_the_moves(self) -> None:
        for a, b in zip(self.m.path, self.m.path[1:], strict=False):
            assert b in STAGE_MOVES[a] or a == b, (a, b)

    @invariant()
    def closed_tasks_have_a_decision(self) -> None:
        assert all(t.decision is not None for t in self.m.closed)
        ids = [t.task_id for t in self.m.closed]
        assert len(ids) == len(set(ids))

    @invariant()
    def a_withdrawal_accepted_ends_withdrawn(self) -> None:
        if self.m.withdrawal and self.m.stage in FINAL_STAGES:
            assert self.m.stage == Stage.withdrawn, self.m.path

    @invariant()
    def a_pending_decision_leads_to_a_move_the_policy_allows(self) -> None:
        if self.m.heading_to is not None and self.m.task is not None:
            assert self.m.heading_to in STAGE_MOVES[self.m.stage]


OnboardingMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None, print_blob=True
)
TestOnboardingMachine = OnboardingMachine.TestCase
