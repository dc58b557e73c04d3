"""One workflow per application: documents, automated checks, review, sign-off, account setup."""

from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.applications import ApplicationActivities, seller_id_for
    from activities.notifications import NotificationActivities
    from activities.onboarding import OnboardingActivities
    from activities.tasks import TaskActivities
    from sellerflow.outbox import mail_time
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
        TransitionInput,
        TransitionResult,
        VerifyApplicationInput,
        WithdrawInput,
    )
    from sellerflow.policy import onboarding as rules
    from sellerflow.policy.disclosure import public_reasons_text
    from sellerflow.policy.model import add_duration
    from sellerflow.search_attributes import STAGE
    from sellerflow.vocabulary import FINAL_STAGES, Decision, Stage, TaskKind
    from workflows.common import (
        ACTIVITY_OPTIONS,
        ANSWER_AT_ONCE_PATCH,
        ESCALATE_TO_ROLE_PATCH,
        IN_REVIEW_PATCH,
        ONE_TRANSACTION_PATCH,
        PUBLIC_REASONS_PATCH,
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
        # The first stage after the applicant's last stage (draft, changes requested).
        self.left_applicant_for: Stage | None = None

    @workflow.run
    async def run(self, inp: OnboardingInput) -> OnboardingResult:
        self.app_id, self.policy = inp.application_id, inp.policy
        self.race_rules = patched(WITHDRAW_RACE_PATCH)
        self.policy_version = inp.policy.version
        deadline = add_duration(workflow.now(), self.policy.durations.applicant_deadline)
        if self._one_transaction_per_move():
            return await self._run_moves(deadline)
        return await self._run_steps(deadline)

    def _one_transaction_per_move(self) -> bool:
        """New runs write each move in one activity; runs started before take it step by step."""
        return patched(ONE_TRANSACTION_PATCH)

    # --- the plan: one `transition` activity per move, then the mail's delivery -------------

    async def _run_moves(self, deadline: datetime) -> OnboardingResult:
        move = TransitionInput(
            stages=[self._stage(Stage.draft, deadline)],
            notices=[self._notice("application_received", "received")],
        )
        round_no = 0
        while True:
            await self._move(move)
            outcome = await self._wait_for_applicant(deadline, round_no)
            if outcome != Stage.submitted:
                return await self._end(outcome, self._withdrawal_reason())
            check = await self._move(
                TransitionInput(
                    stages=[self._stage(Stage.submitted), self._stage(Stage.verifying)],
                    check=self._checks(),
                )
            )
            round_no += 1
            if check.problems:
                reasons = [f"{p.code}: {p.reason}" for p in check.problems]
                move, deadline = self._changes_requested(reasons, round_no)
                continue
            kind = rules.FIRST_TASK
            move = TransitionInput(
                stages=[self._stage(rules.stage_of(kind))],
                notices=[self._notice("in_review", f"in-review-{round_no}")],
            )
            # Each decision leads, by the policy's `stage_after`, to the next task, back to the
            # applicant, to the end, or to the account.
            while True:
                decision = await self._decide(kind, move)
                if decision is None:
                    return await self._end(Stage.withdrawn, self._withdrawal_reason())
                after = rules.stage_after(kind, decision.decision)
                reason = rules.reasons_text(decision)
                if after == Stage.rejected:
                    told = self._told(decision, reason)
                    return await self._end(after, reason, self._closing(kind, decision), told)
                if after == Stage.changes_requested:
                    move, deadline = self._changes_requested(
                        [reason],
                        round_no,
                        self._closing(kind, decision),
                        told=[self._told(decision, reason)],
                    )
                    break
                if kind == rules.FIRST_TASK:
                    self.approver = decision.actor
                next_kind = rules.TASK_AT.get(after)
                if next_kind is None:
                    return await self._open_account(decision.actor, self._closing(kind, decision))
                kind, move = next_kind, self._closing(kind, decision, self._stage(after))

    async def _decide(self, kind: TaskKind, move: TransitionInput) -> CompleteTaskInput | None:
        """Make the move that opens a task, escalate it once past its SLA, and return the
        decision (None: withdrawn)."""
        task_id = str(workflow.uuid4())
        due = add_duration(workflow.now(), self.policy.durations.task_sla)
        opening = OpenTaskInput(
            task_id=task_id,
            kind=kind,
            workflow_id=workflow.info().workflow_id,
            application_id=self.app_id,
            due_at=due,
        )
        # Open before the row exists: a decision made the moment the task shows in the inbox
        # (while the move reports back) is accepted, not refused as "not open".
        self.task, self.decision = OpenTask(task_id, kind), None
        await self._move(move.model_copy(update={"open": opening}))
        decision = await self._decision_on(task_id, due)
        if decision is not None:
            self.decided_task = decision.task_id
        return decision

    def _told(self, decision: CompleteTaskInput, reason: str) -> str:
        """What the applicant's notice says of a decision whose record says `reason`."""
        if not patched(PUBLIC_REASONS_PATCH):
            return reason
        return public_reasons_text(decision.decision, decision.reason_codes, decision.comment)

    def _closing(
        self, kind: TaskKind, decision: CompleteTaskInput, *stages: SetStageInput
    ) -> TransitionInput:
        """The first part of the move a decision makes: the task closed, the review's verdicts."""
        verdicts = None
        if kind == rules.REVIEWS_DOCUMENTS:
            verdicts = ApplyVerdictsInput(
                application_id=self.app_id,
                verdicts=decision.document_verdicts,
                accept_rest=decision.decision == Decision.approve,
            )
        return TransitionInput(
            close=CloseTaskInput(decision=decision, at=workflow.now()),
            verdicts=verdicts,
            stages=list(stages),
        )

    def _changes_requested(
        self,
        reasons: list[str],
        round_no: int,
        closing: TransitionInput | None = None,
        told: list[str] | None = None,
    ) -> tuple[TransitionInput, datetime]:
        """`told`: what the notice says, when it is not `reasons` (the stage's record)."""
        deadline = add_duration(workflow.now(), self.policy.durations.changes_deadline)
        move = TransitionInput(
            close=closing.close if closing else None,
            verdicts=closing.verdicts if closing else None,
            stages=[self._stage(Stage.changes_requested, deadline, reason="; ".join(reasons))],
            notices=[
                self._notice(
                    "changes_requested",
                    f"changes-{round_no}",
                    {"reasons": reasons if told is None else told},
                )
            ],
        )
        return move, deadline

    async def _end(
        self,
        stage: Stage,
        reason: str,
        closing: TransitionInput | None = None,
        told: str | None = None,
    ) -> OnboardingResult:
        """`told`: what the notice says, when it is not `reason` (the stage's record)."""
        told = reason if told is None else told
        await self._move(
            TransitionInput(
                close=closing.close if closing else None,
                verdicts=closing.verdicts if closing else None,
                cancel=CancelTasksInput(workflow_id=workflow.info().workflow_id, at=workflow.now()),
                stages=[self._stage(stage, reason=reason)],
                notices=[
                    self._notice(stage.value, stage.value, {"reasons": [told] if told else []})
                ],
            )
        )
        return OnboardingResult(stage=stage)

    async def _open_account(self, ssm: str, closing: TransitionInput) -> OnboardingResult:
        """One move sets the account up, approves and stores both mails (the applicant's
        account_ready, the seller's trial_started); the seller workflow starts before they go
        out, and delivers its own."""
        account = self._account(ssm)
        seller_id = str(seller_id_for(self.app_id))
        ready = self._notice("account_ready", "account-ready")
        trial = NotifyInput(
            template="trial_started",
            key=f"seller-{seller_id}:trial-started",
            seller_id=seller_id,
            context={"trial_ends_at": mail_time(account.trial_ends_at)},
        )
        await self._move(
            TransitionInput(
                close=closing.close,
                stages=[self._stage(Stage.account_setup), self._stage(Stage.approved)],
                account=account,
                notices=[ready, trial],
            ),
            deliver_notices=False,
        )
        await self._start_seller(seller_id, trial_notice_key=trial.key)
        await deliver(ready.key)
        return OnboardingResult(stage=Stage.approved, seller_id=seller_id)

    async def _move(self, move: TransitionInput, deliver_notices: bool = True) -> TransitionResult:
        """Show the move's stages, write it in one activity, then deliver its notice."""
        for entry in move.stages:
            self._enter_in_memory(entry.stage, entry.deadline)
        if move.stages:
            self._publish_stage()  # once, with the stage the move ends in
        result = await ACTIVITY_OPTIONS.execute(OnboardingActivities.transition, move)
        self._answer_decision()
        for notice in move.notices if deliver_notices else []:
            await deliver(notice.key)
        return result

    def _stage(
        self, stage: Stage, deadline: datetime | None = None, reason: str = ""
    ) -> SetStageInput:
        return SetStageInput(
            application_id=self.app_id,
            stage=stage,
            at=workflow.now(),
            deadline=deadline,
            reason=reason,
        )

    def _notice(
        self, template: str, key: str, context: dict[str, object] | None = None
    ) -> NotifyInput:
        return NotifyInput(
            template=template,
            key=f"{workflow.info().workflow_id}:{key}",
            application_id=self.app_id,
            context=context or {},
        )

    # --- shared by both plans ---------------------------------------------------------------

    def _checks(self) -> VerifyApplicationInput:
        return VerifyApplicationInput(
            application_id=self.app_id, policy=self.policy, as_of=workflow.now()
        )

    def _account(self, ssm: str) -> SetupAccountInput:
        return SetupAccountInput(
            application_id=self.app_id,
            ssm_username=ssm,
            capabilities=self.policy.trial.capabilities,
            at=workflow.now(),
            trial_ends_at=add_duration(workflow.now(), self.policy.durations.trial),
        )

    async def _start_seller(self, seller_id: str, trial_notice_key: str | None = None) -> None:
        await workflow.start_child_workflow(
            SellerWorkflow.run,
            SellerInput(
                seller_id=seller_id,
                application_id=self.app_id,
                policy=self.policy,
                trial_notice_key=trial_notice_key,
            ),
            id=f"seller-{seller_id}",
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )

    async def _decision_on(self, task_id: str, due: datetime) -> CompleteTaskInput | None:
        """Wait for the decision on the open task, escalating it once past `due` (None: the
        applicant withdrew)."""
        decided = lambda: self.decision is not None or self.withdrawal is not None  # noqa: E731
        if not await wait_until(decided, due):
            await escalate(task_id, to_role=patched(ESCALATE_TO_ROLE_PATCH))
            await workflow.wait_condition(decided)
        self.task, decision = None, self.decision
        return decision

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

    def _enter_in_memory(self, stage: Stage, deadline: datetime | None) -> None:
        """The stage as the workflow's handlers see it."""
        if self.stage in rules.APPLICANT_STAGES and stage not in rules.APPLICANT_STAGES:
            self.left_applicant_for = stage
        self.stage, self.deadline = stage, deadline
        if stage == self.heading_to:
            self.heading_to = None

    def _publish_stage(self) -> None:
        """The stage as the search attribute (the inbox filters, `temporal workflow list`) and
        the workflow's details show it."""
        shown = workflow.info().typed_search_attributes.get(STAGE)
        if shown != self.stage.value or not patched(STAGE_CHANGES_PATCH):
            workflow.upsert_search_attributes([STAGE.value_set(self.stage.value)])
        workflow.set_current_details(f"stage: {self.stage.value}")

    def _answer_decision(self) -> None:
        if self.decided_task is not None:
            # The update that carried this decision answers now, with the stage it led to.
            self.applied.add(self.decided_task)
            self.decided_task = None

    async def _notify(
        self, template: str, key: str, context: dict[str, object] | None = None
    ) -> None:
        notice = self._notice(template, key, context)
        await ACTIVITY_OPTIONS.execute(NotificationActivities.notify, notice)
        await deliver(notice.key)

    # --- the plan before ONE_TRANSACTION_PATCH: one activity per write (runs in flight replay
    # it; `bench.throughput` runs it as its second reference) ---------------------------------

    async def _run_steps(self, deadline: datetime) -> OnboardingResult:
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
                ApplicationActivities.verify_application, self._checks()
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
            ApplicationActivities.setup_account, self._account(ssm)
        )
        await self._start_seller(account.seller_id)
        await self._enter(Stage.approved)
        await self._notify("account_ready", "account-ready")
        return OnboardingResult(stage=Stage.approved, seller_id=account.seller_id)

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
        decision = await self._decision_on(task_id, due)
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
        self._enter_in_memory(stage, deadline)
        self._publish_stage()
        await ACTIVITY_OPTIONS.execute(
            ApplicationActivities.set_stage, self._stage(stage, deadline, reason)
        )
        self._answer_decision()

    def _withdrawal_reason(self) -> str:
        return self.withdrawal.reason if self.withdrawal else ""

    # --- human input: updates with validators, the same handlers reachable as signals ---------

    @workflow.update
    async def submit(self, inp: SubmitInput) -> str:
        self.submit_requested = True
        await workflow.wait_condition(lambda: self.stage not in rules.APPLICANT_STAGES)
        # The stage the submit led to: `submitted`, though a move enters `verifying` with it.
        return (self.left_applicant_for or self.stage).value

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
