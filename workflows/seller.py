"""One long-lived workflow per seller: trial, mystery orders, monitoring, ladder and appeals.

The rules live in sellerflow.policy.lifecycle; this workflow feeds it timers and messages and
carries out the effects it returns. It continues as new before its history grows large.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar, assert_never, cast

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from activities.renewals import RenewalActivities
    from activities.sellers import SellerActivities
    from activities.tasks import TaskActivities
    from sellerflow.outbox import mail_time
    from sellerflow.payloads import (
        AppealFiledInput,
        AppealWithdrawnInput,
        ApplySellerStatusInput,
        CancelTasksInput,
        CarriedMessage,
        CloseTaskInput,
        CompleteTaskInput,
        DocumentsOnFileInput,
        ManualActionInput,
        NotifyInput,
        OpenTaskInput,
        Payload,
        PolicyChangedInput,
        RecordPolicySwitchInput,
        RecordRefusalInput,
        RecordRenewalInput,
        RecordStandingInput,
        RenewalSubmittedInput,
        SellerInput,
        SellerView,
        StandingChangedInput,
        TaskOutcome,
        TrialSnapshotInput,
    )
    from sellerflow.policy import Refused, lifecycle, renewals, seller_checks
    from sellerflow.policy.model import Policy
    from sellerflow.policy.onboarding import check_decision_allowed
    from sellerflow.policy.seller_state import (
        CURRENT_RULES,
        CancelTasksEffect,
        Effect,
        EscalateEffect,
        NoticeEffect,
        OpenTaskEffect,
        RenewalEffect,
        SellerState,
        StatusEffect,
    )
    from sellerflow.search_attributes import SELLER_STATUS
    from sellerflow.vocabulary import NoticeDecision
    from workflows.common import (
        ACTIVITY_OPTIONS,
        APPEAL_ANY_PATCH,
        APPEAL_HOLDS_PATCH,
        CARRY_MESSAGES_PATCH,
        DECIDE_ONCE_PATCH,
        DELIVERY_PATCH,
        LIFECYCLE_PATCH,
        POLICY_ROLLOUT_PATCH,
        RENEWALS_PATCH,
        REPEAT_ACTION_PATCH,
        accepts,
        deliver,
        escalate,
        patched,
        refusing,
        wait_until,
    )

Message = (
    CompleteTaskInput
    | StandingChangedInput
    | AppealFiledInput
    | AppealWithdrawnInput
    | ManualActionInput
    | RenewalSubmittedInput
    | PolicyChangedInput
)

# Continue as new well before Temporal's limits; the carried state is small.
MAX_EVENTS_PER_RUN = 2_000


@dataclass(frozen=True)
class Refusal:
    """The answer to a message refused when it came to be applied."""

    code: str
    detail: str


Answer = str | Refusal


@workflow.defn
class SellerWorkflow:
    @workflow.init
    def __init__(self, inp: SellerInput) -> None:
        # State is set here, not in run: a run's first workflow task may carry signals and
        # updates (sent while it was being started, or right after a continue-as-new), and
        # their handlers and validators run before `run` does.
        self.inbox: list[Message] = [_uncarried(c) for c in inp.carried]
        self.answers: dict[str, Answer] = {}
        # The keys updates are waiting on: their messages must be handled in this run.
        self.owed: set[str] = set()
        self.refused: list[str] = []
        self.effects_done = 0
        # The task whose decision is being carried out (its message is out of the inbox).
        self.deciding: str | None = None
        self.seller_id, self.application_id = inp.seller_id, inp.application_id
        self.policy: Policy = inp.policy
        self.s: SellerState
        if inp.state is None:
            rng = workflow.random()
            offsets = [rng.uniform(0.1, 0.8) for _ in range(self.policy.trial.mystery_orders)]
            self.s = lifecycle.start_trial(self.policy, inp.seller_id, workflow.now(), offsets)
        else:
            self.s = inp.state
        self.reported_status = self.s.status
        self.recorded_standing = self.s.standing

    @workflow.run
    async def run(self, inp: SellerInput) -> str:
        # Runs that started under earlier rules replay under the rules they recorded. Every
        # marker is asked here, before any await, so a run records its markers at its start.
        renewing, holds = patched(RENEWALS_PATCH), patched(APPEAL_HOLDS_PATCH)
        appeals, lifecycle_2 = patched(APPEAL_ANY_PATCH), patched(LIFECYCLE_PATCH)
        if renewing:
            self.s.rules = CURRENT_RULES
        elif holds:
            self.s.rules = 4
        elif appeals:
            self.s.rules = 3
        else:
            self.s.rules = 2 if lifecycle_2 else 1
        self._describe()
        if inp.state is None and patched(DELIVERY_PATCH):
            if inp.trial_notice_key is not None:
                await deliver(inp.trial_notice_key)  # stored with the account
            else:
                await self._send(
                    "trial_started",
                    "trial-started",
                    {"trial_ends_at": mail_time(self.s.trial_ends_at)},
                )
        if self.s.renews_documents:
            await self._track_documents()
        if inp.carried:
            # What the run before left is handled first, before any timer, as it would have been
            # there (only runs continued under CARRY_MESSAGES_PATCH carry messages).
            await self._handle_inbox()
        while not self.s.finished:
            await wait_until(lambda: bool(self.inbox), lifecycle.next_wakeup(self.s))
            await self._apply(lifecycle.on_timers(self.policy, self.s, workflow.now()))
            if (due := lifecycle.trial_due_at(self.s)) is not None and workflow.now() >= due:
                await self._decide_trial()
            await self._handle_inbox()
            await self._record_standing()
            self._describe()
            if self._should_continue_as_new():
                if self._carrying():
                    await self._close_run()
                # A message arriving meanwhile is handled first (next loop), never stranded;
                # under a stream that never stops the run never closed (CARRY_MESSAGES_PATCH).
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() or bool(self.inbox)
                )
                if self.inbox:
                    continue
                self._continue_as_new()
        # Updates accepted just before the offboarding are answered, not left waiting.
        while True:
            await workflow.wait_condition(
                lambda: workflow.all_handlers_finished() or bool(self.inbox)
            )
            if not self.inbox:
                return self.s.status.value
            await self._handle_inbox()

    async def _handle_inbox(self) -> None:
        while self.inbox:
            # Closing, messages are still handled in the order they came, up to the last one an
            # update waits on; the rest goes to the next run.
            if self._should_continue_as_new() and not self._owed_in_inbox() and self._carrying():
                return
            message = self.inbox.pop(0)
            await ROUTES[type(message)].apply(self, message)

    def _carrying(self) -> bool:
        """Whether a run closing with messages in its inbox carries them to the next run."""
        return patched(CARRY_MESSAGES_PATCH)

    def _owed_in_inbox(self) -> bool:
        return any(_key_of(m) in self.owed for m in self.inbox)

    async def _close_run(self) -> NoReturn:
        """Continue as new once every update is answered: the messages of updates are handled
        here, those that came by signal are carried to the next run, in their order."""
        while True:
            await workflow.wait_condition(
                lambda: workflow.all_handlers_finished() or self._owed_in_inbox()
            )
            if not self._owed_in_inbox():
                self._continue_as_new()
            await self._handle_inbox()

    def _continue_as_new(self) -> NoReturn:
        workflow.continue_as_new(
            SellerInput(
                seller_id=self.seller_id,
                application_id=self.application_id,
                policy=self.policy,
                state=self.s,
                carried=[_carried(m) for m in self.inbox],
            )
        )

    async def _track_documents(self) -> None:
        """Follow the documents on file of kinds not followed yet: read at each run's start and
        at the trial's end, so that one accepted after the account was set up (an
        eventually-due certificate) is followed too."""
        on_file = await ACTIVITY_OPTIONS.execute(
            RenewalActivities.documents_on_file,
            DocumentsOnFileInput(seller_id=self.seller_id, policy=self.policy),
        )
        renewals.track(self.policy, self.s, [(d.kind, d.valid_until) for d in on_file.documents])

    async def _decide_trial(self) -> None:
        if self.s.renews_documents:
            await self._track_documents()
        snapshot = await ACTIVITY_OPTIONS.execute(
            SellerActivities.trial_snapshot,
            TrialSnapshotInput(seller_id=self.seller_id, policy=self.policy, as_of=workflow.now()),
        )
        await self._apply(
            lifecycle.decide_trial(
                self.policy,
                self.s,
                snapshot.entries,
                workflow.now(),
                eventually_due_satisfied=snapshot.eventually_due_satisfied,
            )
        )

    # --- messages, each checked again as it is applied -------------------------------------

    async def _still_allowed(self, message: Message) -> bool:
        """False (and the message refused, with its reason recorded) when the state moved on."""
        if self.s.legacy:
            return True
        try:
            ROUTES[type(message)].check(self.s, message)
        except Refused as refused:
            await self._refuse(message, refused)
            return False
        return True

    async def _refuse(self, message: Message, refused: Refused) -> None:
        key = _key_of(message)
        self.refused = [*self.refused, f"{key}: {refused.code}: {refused.detail}"][-20:]
        await ACTIVITY_OPTIONS.execute(
            SellerActivities.record_refusal,
            RecordRefusalInput(
                seller_id=self.seller_id,
                key=key,
                message=type(message).__name__,
                code=refused.code,
                detail=refused.detail,
                actor=getattr(message, "actor", "system"),
                at=workflow.now(),
            ),
        )
        self.answers[key] = Refusal(refused.code, refused.detail)

    async def _on_standing(self, message: StandingChangedInput) -> None:
        if self.s.remember(message.event_id):
            effects = lifecycle.on_standing(
                self.policy, self.s, message.standing, message.reasons, workflow.now()
            )
            await self._apply(effects)

    async def _on_decision(self, message: CompleteTaskInput) -> None:
        if not await self._still_allowed(message):
            return
        now = workflow.now()
        appeal_decided = message.task_id == self.s.appeal_task
        against = self.s.appeal_against or NoticeDecision.suspend
        self.deciding = message.task_id
        await ACTIVITY_OPTIONS.execute(
            TaskActivities.close_task,
            CloseTaskInput(decision=message, at=now),
        )
        effects = lifecycle.on_task_decided(
            self.policy,
            self.s,
            message.task_id,
            message.decision,
            message.actor,
            message.comment,
            now,
        )
        self.deciding = None
        if appeal_decided and patched(DELIVERY_PATCH):
            context: dict[str, object] = {
                "decision": message.decision.value,
                "reason": message.comment,
                "against": against.value,
            }
            await self._send("appeal_decided", f"appeal-decided:{message.task_id}", context)
        await self._apply(effects)
        self.answers[message.task_id] = self.s.status.value

    async def _on_appeal(self, message: AppealFiledInput) -> None:
        if not self.s.legacy and not self.s.remember(f"appeal:{message.appeal_id}"):
            self.answers[message.appeal_id] = self.s.status.value  # the same appeal again
            return
        if not await self._still_allowed(message):
            return
        effects = lifecycle.on_appeal(self.policy, self.s, message.appeal_id, workflow.now())
        if patched(DELIVERY_PATCH):
            await self._send("appeal_received", f"appeal-received:{message.appeal_id}", {})
        await self._apply(effects)
        self.answers[message.appeal_id] = self.s.status.value

    async def _on_appeal_withdrawn(self, message: AppealWithdrawnInput) -> None:
        key = _key_of(message)
        if not await self._still_allowed(message):
            return
        await self._apply(lifecycle.on_appeal_withdrawn(self.s, message.appeal_id))
        self.answers[key] = self.s.status.value

    async def _on_renewal(self, message: RenewalSubmittedInput) -> None:
        key = _key_of(message)
        if key in self.s.seen_events:
            self.answers[key] = self.s.status.value  # the same file again: one review
            return
        if not await self._still_allowed(message):
            return
        self.s.remember(key)
        effects = lifecycle.on_renewal_submitted(
            self.policy,
            self.s,
            message.kind,
            message.document_id,
            message.valid_until,
            workflow.now(),
        )
        await self._apply(effects)
        self.answers[key] = self.s.status.value

    async def _on_policy_changed(self, message: PolicyChangedInput) -> None:
        """A rollout's switch: the new rules from now on, recorded on the seller's row and in
        its audit (its timeline). A switch to the version it runs under is taken once."""
        if message.version == self.policy.version or not patched(POLICY_ROLLOUT_PATCH):
            return
        await ACTIVITY_OPTIONS.execute(
            SellerActivities.record_policy_switch,
            RecordPolicySwitchInput(
                seller_id=self.seller_id,
                from_version=self.policy.version,
                to_version=message.version,
                event_id=message.event_id,
                at=workflow.now(),
            ),
        )
        self.policy = message.policy

    async def _on_manual_action(self, message: ManualActionInput) -> None:
        if not self.s.remember(message.request_id) and patched(REPEAT_ACTION_PATCH):
            # The same request again (retried with its idempotency key, maybe into a later
            # run): answered with the current status, not applied a second time.
            self.answers[message.request_id] = self.s.status.value
            return
        if not await self._still_allowed(message):
            return
        effects = lifecycle.on_manual_action(
            self.policy,
            self.s,
            message.action,
            message.actor,
            message.reason,
            workflow.now(),
            fraud=message.fraud,
        )
        await self._apply(effects)
        self.answers[message.request_id] = self.s.status.value

    # --- effects ---------------------------------------------------------------------------

    async def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            self.effects_done += 1
            key = f"{workflow.info().run_id}:{self.effects_done}"
            match effect:
                case OpenTaskEffect():
                    await ACTIVITY_OPTIONS.execute(
                        TaskActivities.open_task,
                        OpenTaskInput(
                            task_id=effect.task_id,
                            kind=effect.kind,
                            workflow_id=workflow.info().workflow_id,
                            seller_id=self.seller_id,
                            due_at=effect.due_at,
                            note=effect.note,
                        ),
                    )
                case EscalateEffect():
                    await escalate(effect.task_id, to_role=not self.s.legacy)
                case StatusEffect():
                    await ACTIVITY_OPTIONS.execute(
                        SellerActivities.apply_status,
                        ApplySellerStatusInput(
                            seller_id=self.seller_id,
                            key=key,
                            from_status=self.reported_status,
                            effect=effect,
                            at=workflow.now(),
                        ),
                    )
                    workflow.upsert_search_attributes(
                        [SELLER_STATUS.value_set(effect.status.value)]
                    )
                    await deliver(f"seller-notice:{key}")
                case NoticeEffect():
                    await self._notify(effect, key)
                case RenewalEffect():
                    await ACTIVITY_OPTIONS.execute(
                        RenewalActivities.record_renewal,
                        RecordRenewalInput(
                            seller_id=self.seller_id, effect=effect, at=workflow.now()
                        ),
                    )
                case CancelTasksEffect():
                    await ACTIVITY_OPTIONS.execute(
                        TaskActivities.cancel_tasks,
                        CancelTasksInput(
                            workflow_id=workflow.info().workflow_id,
                            at=workflow.now(),
                            task_ids=effect.task_ids,
                        ),
                    )
                case _:
                    assert_never(effect)
            self.reported_status = self.s.status

    async def _record_standing(self) -> None:
        """The standing this workflow acts on, where the evaluation compares its next one."""
        if self.s.legacy or self.s.standing == self.recorded_standing:
            return
        await ACTIVITY_OPTIONS.execute(
            SellerActivities.record_standing,
            RecordStandingInput(
                seller_id=self.seller_id, standing=self.s.standing, at=workflow.now()
            ),
        )
        self.recorded_standing = self.s.standing

    async def _notify(self, effect: NoticeEffect, key: str) -> None:
        await ACTIVITY_OPTIONS.execute(
            NotificationActivities.notify,
            NotifyInput(
                template=effect.template,
                key=key,
                seller_id=self.seller_id,
                context={
                    "reason": effect.reason.summary,
                    "notice_ends_at": mail_time(self.s.notice_ends_at),
                },
                notice=effect,
                at=workflow.now(),
            ),
        )
        await deliver(key)

    async def _send(self, template: str, name: str, context: dict[str, object]) -> None:
        """A message that no policy effect carries (trial start, appeal received and decided)."""
        key = f"{workflow.info().workflow_id}:{name}"
        await ACTIVITY_OPTIONS.execute(
            NotificationActivities.notify,
            NotifyInput(template=template, key=key, seller_id=self.seller_id, context=context),
        )
        await deliver(key)

    def _describe(self) -> None:
        workflow.set_current_details(
            f"status: {self.s.status.value}; open tasks: {len(self.s.open_tasks)}"
        )

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > (
            MAX_EVENTS_PER_RUN
        )

    async def _answer(self, message: Message, key: str) -> str:
        self.owed.add(key)
        self.inbox.append(message)
        await workflow.wait_condition(lambda: key in self.answers)
        self.owed.discard(key)
        # Read, not popped: two updates with the same key (a retried request) may both be
        # waiting, and both wake on the one answer. The answers last only as long as the run.
        answer = self.answers[key]
        if isinstance(answer, Refusal):
            raise ApplicationError(answer.detail, type=answer.code, non_retryable=True)
        return answer

    # --- messages: updates with validators, the same handlers reachable as signals ---------

    @workflow.update
    async def complete_task(self, inp: CompleteTaskInput) -> TaskOutcome:
        state = await self._answer(inp, inp.task_id)
        return TaskOutcome(task_id=inp.task_id, decision=inp.decision, state=state)

    @complete_task.validator
    def validate_complete_task(self, inp: CompleteTaskInput) -> None:
        self._check_decision(inp)
        if inp.task_id == self.deciding:
            raise ApplicationError("this task is being decided", type="TaskNotOpen")

    def _check_decision(self, inp: CompleteTaskInput) -> None:
        refusing(lambda: seller_checks.check_seller_decision(self.s, inp.task_id, inp.decision))
        refusing(lambda: check_decision_allowed(self.s.open_tasks[inp.task_id], inp))
        if any(isinstance(m, CompleteTaskInput) and m.task_id == inp.task_id for m in self.inbox):
            raise ApplicationError("this task is being decided", type="TaskNotOpen")

    @workflow.signal(name="complete_task")
    def complete_task_signal(self, inp: CompleteTaskInput) -> None:
        # A copy arriving while the task's decision is carried out is refused; histories from
        # before DECIDE_ONCE_PATCH took it (and decided the task twice), so they replay so.
        if inp.task_id == self.deciding and patched(DECIDE_ONCE_PATCH):
            workflow.logger.warning("signal refused: task %s is being decided", inp.task_id)
            return
        if accepts(self._check_decision, inp):
            self.inbox.append(inp)

    @workflow.update
    async def file_appeal(self, inp: AppealFiledInput) -> str:
        return await self._answer(inp, inp.appeal_id)

    @file_appeal.validator
    def validate_file_appeal(self, inp: AppealFiledInput) -> None:
        if f"appeal:{inp.appeal_id}" in self.s.seen_events:
            return  # the same appeal again: answered, not opened twice
        refusing(lambda: seller_checks.check_appeal(self.s, workflow.now(), inp.against))
        if any(isinstance(m, AppealFiledInput) for m in self.inbox):
            raise ApplicationError("an appeal is already being opened", type="StatusConflict")

    @workflow.signal(name="file_appeal")
    def file_appeal_signal(self, inp: AppealFiledInput) -> None:
        if accepts(self.validate_file_appeal, inp):
            self.inbox.append(inp)

    @workflow.update
    async def withdraw_appeal(self, inp: AppealWithdrawnInput) -> str:
        return await self._answer(inp, _key_of(inp))

    @withdraw_appeal.validator
    def validate_withdraw_appeal(self, inp: AppealWithdrawnInput) -> None:
        refusing(lambda: seller_checks.check_appeal_withdrawal(self.s, inp.appeal_id))

    @workflow.signal(name="withdraw_appeal")
    def withdraw_appeal_signal(self, inp: AppealWithdrawnInput) -> None:
        if accepts(self.validate_withdraw_appeal, inp):
            self.inbox.append(inp)

    @workflow.update
    async def manual_action(self, inp: ManualActionInput) -> str:
        return await self._answer(inp, inp.request_id)

    @manual_action.validator
    def validate_manual_action(self, inp: ManualActionInput) -> None:
        if inp.request_id in self.s.seen_events:
            return  # the same request again: answered with the current status
        refusing(lambda: seller_checks.check_manual_action(self.s, inp.action, fraud=inp.fraud))

    @workflow.signal(name="manual_action")
    def manual_action_signal(self, inp: ManualActionInput) -> None:
        if accepts(self.validate_manual_action, inp):
            self.inbox.append(inp)

    @workflow.update
    async def submit_renewal(self, inp: RenewalSubmittedInput) -> str:
        return await self._answer(inp, _key_of(inp))

    @submit_renewal.validator
    def validate_submit_renewal(self, inp: RenewalSubmittedInput) -> None:
        if _key_of(inp) in self.s.seen_events:
            return  # the same file again: answered, not reviewed twice
        refusing(
            lambda: seller_checks.check_renewal(self.s, inp.kind, inp.valid_until, workflow.now())
        )
        if any(isinstance(m, RenewalSubmittedInput) and m.kind == inp.kind for m in self.inbox):
            raise ApplicationError("a new file is already being sent", type="StatusConflict")

    @workflow.signal
    def standing_changed(self, inp: StandingChangedInput) -> None:
        self.inbox.append(inp)

    @workflow.signal
    def policy_changed(self, inp: PolicyChangedInput) -> None:
        self.inbox.append(inp)

    @workflow.query
    def view(self) -> SellerView:
        return SellerView(
            status=self.s.status,
            trial_ends_at=self.s.trial_ends_at,
            open_tasks=self.s.open_tasks,
            improve_by=self.s.improve_by,
            notice_ends_at=self.s.notice_ends_at,
            standing=self.s.standing,
            refused=self.refused,
            policy_version=self.policy.version,
        )


# --- the dispatch table: what the workflow does with each kind of message ---------------------


@dataclass(frozen=True)
class Route:
    """How the workflow takes one kind of message."""

    # The key its update waits on for the answer.
    key: Callable[[Message], str]
    # The check it passed on arrival, made again against the state it is applied to.
    check: Callable[[SellerState, Message], None]
    # The handler that applies it (one at a time, in the order the messages came).
    apply: Callable[[SellerWorkflow, Message], Awaitable[None]]


M = TypeVar("M", bound=Message)


def _route(
    kind: type[M],
    *,
    key: Callable[[M], str],
    apply: Callable[[SellerWorkflow, M], Awaitable[None]],
    check: Callable[[SellerState, M], None] | None = None,
) -> tuple[type[Payload], Route]:
    """The table's entry for `kind`, its functions typed against that kind of message."""

    def narrow(message: Message) -> M:
        if not isinstance(message, kind):
            raise TypeError(f"a {type(message).__name__} routed as a {kind.__name__}")
        return message

    def check_again(s: SellerState, message: Message) -> None:
        if check is not None:
            check(s, narrow(message))

    return kind, Route(
        key=lambda message: key(narrow(message)),
        check=check_again,
        apply=lambda wf, message: apply(wf, narrow(message)),
    )


def _check_decision_again(s: SellerState, message: CompleteTaskInput) -> None:
    seller_checks.check_seller_decision(s, message.task_id, message.decision)
    check_decision_allowed(s.open_tasks[message.task_id], message)


ROUTES: dict[type[Payload], Route] = dict(
    [
        _route(
            CompleteTaskInput,
            key=lambda m: m.task_id,
            check=_check_decision_again,
            apply=SellerWorkflow._on_decision,
        ),
        # A standing from the evaluation is taken in whatever state the seller is.
        _route(
            StandingChangedInput,
            key=lambda m: m.event_id,
            apply=SellerWorkflow._on_standing,
        ),
        _route(
            AppealFiledInput,
            key=lambda m: m.appeal_id,
            check=lambda s, m: seller_checks.check_appeal(s, workflow.now(), m.against),
            apply=SellerWorkflow._on_appeal,
        ),
        _route(
            AppealWithdrawnInput,
            key=lambda m: f"withdraw:{m.appeal_id}",
            check=lambda s, m: seller_checks.check_appeal_withdrawal(s, m.appeal_id),
            apply=SellerWorkflow._on_appeal_withdrawn,
        ),
        _route(
            RenewalSubmittedInput,
            key=lambda m: f"renewal:{m.document_id}",
            check=lambda s, m: seller_checks.check_renewal(
                s, m.kind, m.valid_until, workflow.now()
            ),
            apply=SellerWorkflow._on_renewal,
        ),
        # A rollout's switch is taken in whatever state the seller is.
        _route(
            PolicyChangedInput,
            key=lambda m: m.event_id,
            apply=SellerWorkflow._on_policy_changed,
        ),
        _route(
            ManualActionInput,
            key=lambda m: m.request_id,
            check=lambda s, m: seller_checks.check_manual_action(s, m.action, fraud=m.fraud),
            apply=SellerWorkflow._on_manual_action,
        ),
    ]
)


# The field of `CarriedMessage` each kind of message travels in.
_CARRIED_AS: dict[type[Payload], str] = {
    CompleteTaskInput: "decision",
    StandingChangedInput: "standing",
    AppealFiledInput: "appeal_filed",
    AppealWithdrawnInput: "appeal_withdrawn",
    ManualActionInput: "manual_action",
    RenewalSubmittedInput: "renewal",
    PolicyChangedInput: "policy_changed",
}


def _carried(message: Message) -> CarriedMessage:
    return CarriedMessage.model_validate({_CARRIED_AS[type(message)]: message})


def _uncarried(carried: CarriedMessage) -> Message:
    found = [getattr(carried, name) for name in _CARRIED_AS.values()]
    [message] = [m for m in found if m is not None]
    return cast(Message, message)


def _key_of(message: Message) -> str:
    """The key an update waits on for its answer."""
    return ROUTES[type(message)].key(message)
