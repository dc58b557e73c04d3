"""One workflow per application: documents, automated checks, review, sign-off, account setup."""

from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.applications import ApplicationActivities
    from activities.notifications import NotificationActivities
    from activities.tasks import TaskActivities
    from sellerflow.payloads import (
        ApplyVerdictsInput,
        CancelTasksInput,
        CloseTaskInput,
        CompleteTaskInput,
        NotifyInput,
        OnboardingInput,
        OnboardingResult,
        OnboardingState,
        OpenTaskInput,
        SellerInput,
        SetStageInput,
        SetupAccountInput,
        SubmitInput,
        TaskOutcome,
        VerifyApplicationInput,
        WithdrawInput,
    )
    from sellerflow.policy import onboarding as rules
    from sellerflow.policy.model import add_duration
    from sellerflow.search_attributes import STAGE
    from sellerflow.vocabulary import FINAL_STAGES, Decision, Stage, TaskKind
    from workflows.common import (
        ACTIVITY_OPTIONS,
        ANSWER_AT_ONCE_PATCH,
        ESCALATE_TO_ROLE_PATCH,
        IN_REVIEW_PATCH,
        STAGE_CHANGES_PATCH,
        SUBMIT_KEPT_PATCH,
        WITHDRAW_RACE_PATCH,
        accepts,
        deliver,
        escalate,
        patched,
        refusing,
        wait_until,
    )
    from workflows.seller import SellerWorkflow


@dataclass
class OpenTask:
    task_id: str
    kind: TaskKind


@workflow.defn
class OnboardingWorkflow:
    def __init__(self) -> None:
        self.stage = Stage.draft
        self.deadline: datetime | None = None
        self.policy_version = ""
        self.submit_requested = False
        self.withdrawal: WithdrawInput | None = None
        self.task: OpenTask | None = None
        self.decision: CompleteTaskInput | None = None
        self.approver: str | None = None
        self.applied: set[str] = set()
        self.decided_task: str | None = None
        # The stage an accepted decision leads to, until the workflow enters it.
        self.heading_to: Stage | None = None
        self.race_rules = False

    @workflow.run
    async def run(self, inp: OnboardingInput) -> OnboardingResult:
        self.app_id, self.policy = inp.application_id, inp.policy
        self.race_rules = patched(WITHDRAW_RACE_PATCH)
        self.policy_version = inp.policy.version
        deadline = add_duration(workflow.now(), self.policy.durations.applicant_deadline)
        await self._enter(Stage.draft, deadline)
        await self._notify("application_received", "received")
        round_no = 0
        while True:
            outcome = await self._wait_for_applicant(deadline, round_no)
            if outcome != Stage.submitted:
                return await self._finish(outcome, reason=self._withdrawal_reason())
            await self._enter(Stage.submitted)
            await self._enter(Stage.verifying)
            check = await ACTIVITY_OPTIONS.execute(
                ApplicationActivities.verify_application,
                VerifyApplicationInput(
                    application_id=self.app_id, policy=self.policy, as_of=workflow.now()
                ),
            )
            round_no += 1
            if check.problems:
                reasons = [f"{p.code}: {p.reason}" for p in check.problems]
                deadline = await self._request_changes(reasons, round_no)
                continue
            # Histories recorded before this notice existed replay without it.
            if patched(IN_REVIEW_PATCH):
                await self._notify("in_review", f"in-review-{round_no}")
            review = await self._human_task(TaskKind.onboarding_review)
            if review is None:
                return await self._finish(Stage.withdrawn, reason=self._withdrawal_reason())
            await self._record_verdicts(review)
            if review.decision == Decision.reject:
                return await self._finish(Stage.rejected, reason=rules.reasons_text(review))
            if review.decision == Decision.request_changes:
                deadline = await self._request_changes([rules.reasons_text(review)], round_no)
                continue
            self.approver = review.actor
            await self._enter(Stage.ssm_signoff)
            signoff = await self._human_task(TaskKind.ssm_signoff)
            if signoff is None:
                return await self._finish(Stage.withdrawn, reason=self._withdrawal_reason())
            if signoff.decision == Decision.reject:
                return await self._finish(Stage.rejected, reason=rules.reasons_text(signoff))
            if signoff.decision == Decision.request_changes:
                deadline = await self._request_changes([rules.reasons_text(signoff)], round_no)
                continue
            return await self._set_up_account(signoff.actor)

    async def _set_up_account(self, ssm: str) -> OnboardingResult:
        await self._enter(Stage.account_setup)
        account = await ACTIVITY_OPTIONS.execute(
            ApplicationActivities.setup_account,
            SetupAccountInput(
                application_id=self.app_id,
                ssm_username=ssm,
                capabilities=self.policy.trial.capabilities,
                at=workflow.now(),
                trial_ends_at=add_duration(workflow.now(), self.policy.durations.trial),
            ),
        )
        await workflow.start_child_workflow(
            SellerWorkflow.run,
            SellerInput(
                seller_id=account.seller_id, application_id=self.app_id, policy=self.policy
            ),
            id=f"seller-{account.seller_id}",
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        await self._enter(Stage.approved)
        await self._notify("account_ready", "account-ready")
        return OnboardingResult(stage=Stage.approved, seller_id=account.seller_id)

    async def _wait_for_applicant(self, deadline: datetime, round_no: int) -> Stage:
        """Wait for submit or withdrawal; remind on the policy's days; expire at the deadline."""
        if not patched(SUBMIT_KEPT_PATCH):
            # Before the patch: a submit that came during the stage's notice was dropped here.
            self.submit_requested = False
        started = workflow.now()
        reminders = [
            t
            for t in (add_duration(started, r) for r in self.policy.durations.reminders)
            if t < deadline
        ]
        while True:
            upcoming = [t for t in reminders if t > workflow.now()]
            wake = min([*upcoming, deadline])
            await wait_until(lambda: self.submit_requested or self.withdrawal is not None, wake)
            if self.withdrawal is not None:
                return Stage.withdrawn
            if self.submit_requested:
                self.submit_requested = False  # the next round waits for a submit of its own
                return Stage.submitted
            if workflow.now() >= deadline:
                return Stage.expired
            index = reminders.index(wake) if wake in reminders else len(reminders)
            await self._notify("reminder", f"reminder-{round_no}-{index}")

    async def _request_changes(self, reasons: list[str], round_no: int) -> datetime:
        deadline = add_duration(workflow.now(), self.policy.durations.changes_deadline)
        await self._enter(Stage.changes_requested, deadline, reason="; ".join(reasons))
        await self._notify("changes_requested", f"changes-{round_no}", {"reasons": reasons})
        return deadline

    async def _human_task(self, kind: TaskKind) -> CompleteTaskInput | None:
        """Open a task, escalate it once past its SLA, and return the decision (None: withdrawn)."""
        task_id = str(workflow.uuid4())
        due = add_duration(workflow.now(), self.policy.durations.task_sla)
        if self.stage != rules.stage_of(kind):
            await self._enter(rules.stage_of(kind))
        # Open before the row exists: a decision made the moment the task shows in the inbox
        # (while `open_task` reports back) is accepted, not refused as "not open".
        self.task, self.decision = OpenTask(task_id, kind), None
        await ACTIVITY_OPTIONS.execute(
            TaskActivities.open_task,
            OpenTaskInput(
                task_id=task_id,
                kind=kind,
                workflow_id=workflow.info().workflow_id,
                application_id=self.app_id,
                due_at=due,
            ),
        )
        decided = lambda: self.decision is not None or self.withdrawal is not None  # noqa: E731
        if not await wait_until(decided, due):
            await escalate(task_id, to_role=patched(ESCALATE_TO_ROLE_PATCH))
            await workflow.wait_condition(decided)
        self.task, decision = None, self.decision
        if decision is None:
            return None
        await ACTIVITY_OPTIONS.execute(
            TaskActivities.close_task,
            CloseTaskInput(decision=decision, at=workflow.now()),
        )
        self.decided_task = decision.task_id
        return decision

    async def _record_verdicts(self, review: CompleteTaskInput) -> None:
        await ACTIVITY_OPTIONS.execute(
            ApplicationActivities.apply_verdicts,
            ApplyVerdictsInput(
                application_id=self.app_id,
                verdicts=review.document_verdicts,
                accept_rest=review.decision == Decision.approve,
            ),
        )

    async def _finish(self, stage: Stage, reason: str = "") -> OnboardingResult:
        await ACTIVITY_OPTIONS.execute(
            TaskActivities.cancel_tasks,
            CancelTasksInput(workflow_id=workflow.info().workflow_id, at=workflow.now()),
        )
        await self._enter(stage, reason=reason)
        await self._notify(stage.value, stage.value, {"reasons": [reason] if reason else []})
        return OnboardingResult(stage=stage)

    async def _enter(
        self, stage: Stage, deadline: datetime | None = None, reason: str = ""
    ) -> None:
        self.stage, self.deadline = stage, deadline
        if stage == self.heading_to:
            self.heading_to = None
        shown = workflow.info().typed_search_attributes.get(STAGE)
        if shown != stage.value or not patched(STAGE_CHANGES_PATCH):
            workflow.upsert_search_attributes([STAGE.value_set(stage.value)])
        workflow.set_current_details(f"stage: {stage.value}")
        await ACTIVITY_OPTIONS.execute(
            ApplicationActivities.set_stage,
            SetStageInput(
                application_id=self.app_id,
                stage=stage,
                at=workflow.now(),
                deadline=deadline,
                reason=reason,
            ),
        )
        if self.decided_task is not None:
            # The update that carried this decision answers now, with the stage it led to.
            self.applied.add(self.decided_task)
            self.decided_task = None

    async def _notify(
        self, template: str, key: str, context: dict[str, object] | None = None
    ) -> None:
        outbox_key = f"{workflow.info().workflow_id}:{key}"
        await ACTIVITY_OPTIONS.execute(
            NotificationActivities.notify,
            NotifyInput(
                template=template,
                key=outbox_key,
                application_id=self.app_id,
                context=context or {},
            ),
        )
        await deliver(outbox_key)

    def _withdrawal_reason(self) -> str:
        return self.withdrawal.reason if self.withdrawal else ""

    # --- human input: updates with validators, the same handlers reachable as signals ---------

    @workflow.update
    async def submit(self, inp: SubmitInput) -> str:
        self.submit_requested = True
        await workflow.wait_condition(lambda: self.stage not in rules.APPLICANT_STAGES)
        return self.stage.value

    @submit.validator
    def validate_submit(self, inp: SubmitInput) -> None:
        refusing(lambda: rules.check_submit(self.stage, self.submit_requested))

    @workflow.signal(name="submit")
    def submit_signal(self, inp: SubmitInput) -> None:
        if accepts(self.validate_submit, inp):
            self.submit_requested = True

    @workflow.update
    async def withdraw(self, inp: WithdrawInput) -> str:
        self.withdrawal = inp
        if not self.race_rules:
            await workflow.wait_condition(lambda: self.stage == Stage.withdrawn)
            return self.stage.value
        await workflow.wait_condition(lambda: self.stage in FINAL_STAGES)
        if self.stage != Stage.withdrawn:
            raise ApplicationError(
                f"the application ended as {self.stage.value} before the withdrawal applied",
                type="StageConflict",
            )
        return self.stage.value

    @withdraw.validator
    def validate_withdraw(self, inp: WithdrawInput) -> None:
        # A decision accepted but not yet applied decides the stage the withdrawal meets.
        stage = (self.heading_to or self.stage) if self.race_rules else self.stage
        refusing(lambda: rules.check_withdraw(stage, self.withdrawal is not None))

    @workflow.signal(name="withdraw")
    def withdraw_signal(self, inp: WithdrawInput) -> None:
        if accepts(self.validate_withdraw, inp):
            self.withdrawal = inp

    @workflow.update
    async def complete_task(self, inp: CompleteTaskInput) -> TaskOutcome:
        open_task, self.decision = self.task, inp
        if open_task is not None and self.race_rules:
            self.heading_to = rules.stage_after(open_task.kind, inp.decision)
        if open_task is not None and patched(ANSWER_AT_ONCE_PATCH):
            # The API closes the task row itself; the stage follows within an activity or two.
            state = rules.stage_after(open_task.kind, inp.decision)
            return TaskOutcome(task_id=inp.task_id, decision=inp.decision, state=state.value)
        await workflow.wait_condition(lambda: inp.task_id in self.applied)
        return TaskOutcome(task_id=inp.task_id, decision=inp.decision, state=self.stage.value)

    @complete_task.validator
    def validate_complete_task(self, inp: CompleteTaskInput) -> None:
        open_task = (self.task.task_id, self.task.kind) if self.task else None
        withdrawing = self.race_rules and self.withdrawal is not None
        refusing(
            lambda: rules.check_decision(
                open_task,
                self.decision is not None,
                inp,
                approver=self.approver,
                withdrawing=withdrawing,
            )
        )

    @workflow.signal(name="complete_task")
    def complete_task_signal(self, inp: CompleteTaskInput) -> None:
        if accepts(self.validate_complete_task, inp):
            self.decision = inp
            if self.task is not None and self.race_rules:
                self.heading_to = rules.stage_after(self.task.kind, inp.decision)

    @workflow.query
    def state(self) -> OnboardingState:
        return OnboardingState(
            stage=self.stage,
            open_task_id=self.task.task_id if self.task else None,
            open_task_kind=self.task.kind if self.task else None,
            deadline=self.deadline,
            policy_version=self.policy_version,
        )
