"""The seller lifecycle as a Hypothesis state machine: any amount of time, any evaluation, any
decision, manual action and appeal, messages queued as the workflow queues them (checked when
they arrive and again when they are applied), continue-as-new. The invariants hold after every
step; the shrunk failures they found are kept as examples in test_lifecycle_regressions.py."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from temporalio.contrib.pydantic import pydantic_data_converter

from sellerflow.payloads import CompleteTaskInput
from sellerflow.policy import Refused, lifecycle, renewals, seller_checks
from sellerflow.policy.kpis import KpiCounts, ScorecardEntry, scorecard, standing
from sellerflow.policy.model import add_duration, load_policy
from sellerflow.policy.notices import APPEALABLE_NOTICES, GROUNDS, of_notice, of_status_change
from sellerflow.policy.onboarding import check_decision_allowed
from sellerflow.policy.seller_state import (
    LADDER,
    RESTRICTIONS,
    CancelTasksEffect,
    Effect,
    EscalateEffect,
    NoticeEffect,
    OpenTaskEffect,
    RenewalEffect,
    SellerState,
    StatusEffect,
    notice_template,
)
from sellerflow.vocabulary import (
    KPI,
    TASK_DECISIONS,
    Decision,
    NoticeDecision,
    RenewalStatus,
    SellerActionKind,
    SellerStatus,
    Standing,
    TaskKind,
)
from tests.policy.sellers import NOW, PASSING_CHECKLIST, SELLER

POLICY = load_policy("default")
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "notifications"
SANCTIONS = {SellerActionKind.warn, SellerActionKind.limit, SellerActionKind.suspend}
# How much a status restricts the seller: a move up this scale is a restriction.
RESTRICTIVENESS = {
    SellerStatus.trial: 0,
    SellerStatus.active: 0,
    SellerStatus.warned: 1,
    SellerStatus.limited: 2,
    SellerStatus.suspended: 3,
    SellerStatus.offboarded: 4,
}


def _counts_for(kpi: KPI, quality: str, raw: int) -> KpiCounts:
    """Counts of one KPI whose value is good, warn or limit, or whose sample is too small."""
    rule = POLICY.kpis[kpi]
    n = 20 if kpi == KPI.review_rating else 100
    if quality == "few":
        n = raw % max(1, rule.min_sample)
    value = {"good": 0.0, "warn": 0.5, "limit": 1.0}.get(quality, raw / 100)
    if kpi == KPI.review_rating:
        target = {"good": 4.6, "warn": 3.5, "limit": 2.0}.get(quality, 1 + 4 * value)
    elif rule.higher_is_better:
        target = {"good": 0.99, "warn": (rule.warn + rule.limit) / 2, "limit": rule.limit - 0.05}
        target = target.get(quality, value)
    else:
        target = {"good": 0.0, "warn": (rule.warn + rule.limit) / 2, "limit": rule.limit + 0.05}
        target = target.get(quality, value)
    return KpiCounts(numerator=round(target * n), denominator=n)


QUALITIES = ["good"] * 12 + ["warn", "limit", "few", "raw"]


def kpi_counts() -> st.SearchStrategy[dict[KPI, KpiCounts]]:
    """Counts for every KPI: mostly good, some warn or limit, some below the minimum sample."""

    def one(kpi: KPI) -> st.SearchStrategy[KpiCounts]:
        return st.builds(
            lambda quality, raw: _counts_for(kpi, quality, raw),
            st.sampled_from(QUALITIES),
            st.integers(0, 100),
        )

    return st.fixed_dictionaries({kpi: one(kpi) for kpi in POLICY.kpis})


DURATIONS = st.one_of(
    st.just(timedelta(0)),
    st.integers(1, 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(1, 72).map(lambda h: timedelta(hours=h)),
    st.integers(1, 20).map(lambda d: timedelta(days=d)),
    st.integers(1, 120).map(lambda d: timedelta(days=d)),
)
# What the lab reports: mostly passed.
LAB_OUTCOMES = [Decision.passed] * 4 + [Decision.minor_issues, Decision.blocker]


@dataclass(frozen=True)
class Message:
    """What the workflow queues: a task decision, an evaluation, an appeal, a manual action."""

    kind: str
    task_id: str = ""
    decision: Decision | None = None
    standing: Standing | None = None
    entries: tuple[ScorecardEntry, ...] = ()
    event_id: str = ""
    appeal_id: str = ""
    # The restriction an appeal's notice named (None: whichever is in force).
    against: NoticeDecision | None = None
    action: SellerActionKind | None = None
    fraud: bool = False
    actor: str = "ops1"
    # A renewed document's new file: its kind and until when it is valid.
    document_kind: str = ""
    valid_until: datetime | None = None


@dataclass
class Step:
    """What one rule did, for the invariants."""

    effects: list[Effect] = field(default_factory=list)
    # When each effect was returned (a step may run many timers).
    times: list[datetime] = field(default_factory=list)
    # (status before, effect) of every status change, in order.
    moves: list[tuple[SellerStatus, StatusEffect]] = field(default_factory=list)
    trial_decided: bool = False
    fraud: bool = False
    in_trial_before: bool = False
    status_before: SellerStatus | None = None


class SellerLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state: SellerState
        self.now = NOW
        self.inbox: list[Message] = []
        self.opened: set[str] = set()
        self.open: dict[str, TaskKind] = {}
        self.decided: set[str] = set()
        self.escalated: set[str] = set()
        self.appeals = 0
        # Until when the restriction in force may be appealed, as its statement said (None: it
        # may not), and whether its appeal was decided (upheld: it takes no second one).
        self.appeal_window_end: datetime | None = None
        self.appeal_upheld = False
        self.events = 0
        self.notice_at: datetime | None = None
        self.refusals = 0
        self.uploads = 0
        # (kind, round) of every renewal asked for, and of every one that lapsed.
        self.renewals_asked: set[tuple[str, int]] = set()
        self.renewals_lapsed: set[tuple[str, int]] = set()
        self.step = Step()

    # --- the workflow's protocol -----------------------------------------------------------

    @initialize(
        offsets=st.lists(st.floats(0, 1), min_size=0, max_size=4),
        graduated=st.booleans(),
        on_file=st.dictionaries(st.sampled_from(sorted(POLICY.renewals.documents)), DURATIONS),
    )
    def start(self, offsets: list[float], graduated: bool, on_file: dict[str, timedelta]) -> None:
        """A new seller in trial, or one that graduated before (its ladder is what matters),
        with documents on file valid for any time from none at all to months."""
        self.state = lifecycle.start_trial(POLICY, SELLER, self.now, offsets)
        if graduated:
            self.state.status = SellerStatus.active
            for order in self.state.mystery_orders:
                order.task_id, order.outcome = f"earlier-{order.key}", Decision.passed
        renewals.track(POLICY, self.state, [(k, self.now + d) for k, d in on_file.items()])
        self._begin()

    def _begin(self) -> None:
        self.step = Step(in_trial_before=self.state.in_trial, status_before=self.state.status)

    def _record(self, effects: list[Effect]) -> None:
        """Carry out effects as the activities would; keep what the invariants need."""
        for effect in effects:
            self.step.effects.append(effect)
            self.step.times.append(self.now)
            self._follow_appeal_windows(effect)
            if isinstance(effect, OpenTaskEffect):
                assert effect.task_id not in self.opened, f"task {effect.task_id} opened twice"
                self.opened.add(effect.task_id)
                self.open[effect.task_id] = effect.kind
                assert effect.due_at >= self.now
            elif isinstance(effect, CancelTasksEffect):
                for task_id in effect.task_ids:
                    assert self.open.pop(task_id, None) is not None, f"{task_id} was not open"
            elif isinstance(effect, EscalateEffect):
                assert effect.task_id not in self.escalated, "escalated twice"
                assert effect.task_id in self.open
                self.escalated.add(effect.task_id)
            elif isinstance(effect, NoticeEffect) and effect.template == "offboarding_notice":
                self.notice_at = self.notice_at or self.now
            elif isinstance(effect, RenewalEffect):
                self._follow_renewal(effect)
            elif isinstance(effect, StatusEffect):
                before = self.step.moves[-1][1].status if self.step.moves else self.state_before
                self.step.moves.append((before, effect))
                if effect.action == SellerActionKind.reinstate:
                    self._check_reinstatement()

    def _follow_renewal(self, effect: RenewalEffect) -> None:
        """A renewal is asked for before it lapses, and lapses once per round at most."""
        key = (effect.kind, effect.round)
        if effect.status == RenewalStatus.requested:
            self.renewals_asked.add(key)
        elif effect.status == RenewalStatus.lapsed and effect.document_id is None:
            # (A lapsed record naming a file is that file refused, not a new lapse.)
            assert key in self.renewals_asked, f"{key} lapsed without being asked for"
            assert key not in self.renewals_lapsed, f"{key} lapsed twice"
            assert self.now >= effect.valid_until, "lapsed before it stopped being valid"
            self.renewals_lapsed.add(key)
            event("a document lapsed")
        elif effect.status == RenewalStatus.renewed:
            event(f"a document renewed after lapsing: {key in self.renewals_lapsed}")

    def _follow_appeal_windows(self, effect: Effect) -> None:
        """An appeal opens only within the window the restriction's statement gave, and never
        after an appeal against the same restriction was upheld."""
        if isinstance(effect, OpenTaskEffect) and effect.kind == TaskKind.appeal_review:
            assert not self.appeal_upheld, "a second appeal against a restriction upheld"
            assert self.appeal_window_end is not None, "an appeal no statement offered"
            assert self.now < self.appeal_window_end, "an appeal after its window"
            event(f"appeal against {self.state.appeal_against}")
            return
        notice = None
        if isinstance(effect, StatusEffect):
            notice = of_status_change(effect, self.now)
            if effect.action == SellerActionKind.reinstate:
                self.appeal_window_end, self.appeal_upheld = None, False
        elif isinstance(effect, NoticeEffect):
            notice = of_notice(effect.template, effect, self.now)
        if notice is not None and notice.redress.appeal:
            self.appeal_window_end, self.appeal_upheld = notice.redress.appeal_by, False

    @property
    def state_before(self) -> SellerStatus:
        assert self.step.status_before is not None
        return self.step.status_before

    def _check_reinstatement(self) -> None:
        """A reinstatement clears the notice and the deadlines of the restriction it ends."""
        state = self.state
        assert state.notice_ends_at is None
        assert state.appeal_deadline is None
        fresh = add_duration(self.now, POLICY.durations.improvement_period)
        assert state.improve_by in (None, fresh)
        self.notice_at = None

    def _timers_then_trial(self, entries: list[ScorecardEntry], eventually_due: bool) -> None:
        """The workflow's loop at `now`: timers, then the trial end when due.

        Time alone never closes an appeal under review (rules 4): the limit or the notice it
        contests waits for the decision, however late in its window the appeal came."""
        under_review = self.state.appeal_task
        files_in_review = {r.kind for r in self.state.renewals if r.review_task is not None}
        fired = lifecycle.on_timers(POLICY, self.state, self.now)
        self._record(fired)
        for effect in fired:
            lapse = isinstance(effect, RenewalEffect) and effect.status == RenewalStatus.lapsed
            if lapse and effect.document_id is None:  # (one naming a file: the file refused)
                assert effect.kind not in files_in_review, "lapsed while its new file was reviewed"
        if under_review is not None:
            assert self.state.appeal_task == under_review, "a timer closed the appeal under review"
            event(f"time passed with an appeal against {self.state.appeal_against} open")
        due = lifecycle.trial_due_at(self.state)
        if due is not None and self.now >= due:
            before = self.state.status
            self._record(
                lifecycle.decide_trial(
                    POLICY, self.state, entries, self.now, eventually_due_satisfied=eventually_due
                )
            )
            if self.state.status != before:
                self.step.trial_decided = True
        wake = lifecycle.next_wakeup(self.state)
        assert wake is None or wake > self.now, f"wake-up {wake} is not after now {self.now}"

    # --- time ------------------------------------------------------------------------------

    @rule(
        delta=DURATIONS,
        counts=kpi_counts(),
        eventually_due=st.integers(0, 3).map(bool),
    )
    def time_passes(
        self, delta: timedelta, counts: dict[KPI, KpiCounts], eventually_due: bool
    ) -> None:
        """Time passes: every durable timer fires at its own time, as time skipping does.

        Messages queued before are applied first: the workflow takes them at its next task."""
        self._begin()
        target = self.now + delta
        entries = scorecard(POLICY, counts, in_trial=True)
        self._drain(entries, eventually_due)
        for _ in range(500):
            wake = lifecycle.next_wakeup(self.state)
            if wake is None or wake > target:
                break
            self.now = max(self.now, wake)
            self._timers_then_trial(entries, eventually_due)
        else:
            raise AssertionError("timers keep falling due: the workflow would never wait")
        self.now = target
        self._timers_then_trial(entries, eventually_due)

    @rule(counts=kpi_counts(), eventually_due=st.integers(0, 3).map(bool))
    def until_the_next_deadline(self, counts: dict[KPI, KpiCounts], eventually_due: bool) -> None:
        """Straight to the next time a rule fires (or a week on, when none is set)."""
        wake = lifecycle.next_wakeup(self.state)
        delta = timedelta(days=7) if wake is None else max(wake - self.now, timedelta(0))
        self.time_passes(delta, counts, eventually_due)

    # --- messages arriving (validated as the update's validator does) ----------------------

    def _arrive(self, message: Message, check: object) -> None:
        try:
            assert callable(check)
            check()
        except Refused:
            self.refusals += 1
            return
        self.inbox.append(message)

    @rule(counts=kpi_counts(), repeat=st.booleans())
    def evaluation(self, counts: dict[KPI, KpiCounts], repeat: bool) -> None:
        self._begin()
        entries = scorecard(POLICY, counts, in_trial=self.state.status == SellerStatus.trial)
        if not repeat or not self.events:
            self.events += 1
        self.inbox.append(
            Message(
                kind="standing",
                standing=standing(entries),
                entries=tuple(entries),
                event_id=f"evaluation-{self.events}",
            )
        )

    @rule(
        # Offboarding ends an example: it is drawn less often than the other actions.
        action=st.sampled_from(
            [*SellerActionKind, *(set(SellerActionKind) - {SellerActionKind.offboard})]
        ),
        fraud=st.integers(0, 3).map(lambda n: n == 0),
        actor=st.sampled_from(["ops1", "ops2"]),
    )
    def manual_action(self, action: SellerActionKind, fraud: bool, actor: str) -> None:
        self._begin()
        fraud = fraud and action == SellerActionKind.offboard
        message = Message(kind="manual", action=action, fraud=fraud, actor=actor)
        self._arrive(message, lambda: self._check(message))

    @precondition(lambda self: not self.state.finished)
    @rule(against=st.sampled_from([None, *APPEALABLE_NOTICES, NoticeDecision.warn]))
    def file_appeal(self, against: NoticeDecision | None) -> None:
        self._begin()
        self.appeals += 1
        message = Message(kind="appeal", appeal_id=f"appeal-{self.appeals}", against=against)
        self._arrive(message, lambda: self._check(message))

    @precondition(lambda self: self.appeals > 0)
    @rule(which=st.integers(1, 5))
    def withdraw_appeal(self, which: int) -> None:
        self._begin()
        message = Message(kind="withdraw", appeal_id=f"appeal-{min(which, self.appeals)}")
        self._arrive(message, lambda: self._check(message))

    @rule(
        kind=st.sampled_from(sorted(POLICY.renewals.documents)),
        valid_for=DURATIONS,
    )
    def upload_renewal(self, kind: str, valid_for: timedelta) -> None:
        """The seller uploads a new file of a renewed document (any, asked or not)."""
        self._begin()
        self.uploads += 1
        message = Message(
            kind="renewal",
            document_kind=kind,
            valid_until=self.now + valid_for,
            event_id=f"document-{self.uploads}",
        )
        self._arrive(message, lambda: self._check(message))

    @rule(data=st.data())
    def decide_task(self, data: st.DataObject) -> None:
        self._begin()
        stale = data.draw(st.integers(0, 9)) == 0  # now and then, a task decided before
        candidates = sorted(self.decided) if stale or not self.open else sorted(self.open)
        if not candidates:
            return
        task_id = data.draw(st.sampled_from(candidates))
        kind = self.open.get(task_id) or TaskKind.mystery_order
        decision = data.draw(st.sampled_from(sorted(TASK_DECISIONS[kind])))
        actor = data.draw(st.sampled_from(["ssm1", "lab1", "ops1"]))
        message = Message(kind="decision", task_id=task_id, decision=decision, actor=actor)
        self._arrive(message, lambda: self._check(message))

    @rule(outcomes=st.lists(st.sampled_from(LAB_OUTCOMES), min_size=3, max_size=3))
    def lab_reports(self, outcomes: list[Decision]) -> None:
        """The lab decides the mystery orders open now (each with its own outcome)."""
        self._begin()
        orders = sorted(t for t, kind in self.open.items() if kind == TaskKind.mystery_order)
        for task_id, outcome in zip(orders, outcomes, strict=False):
            message = Message(kind="decision", task_id=task_id, decision=outcome, actor="lab1")
            self._arrive(message, lambda message=message: self._check(message))

    def _check(self, message: Message) -> None:
        """The workflow's validators: the same checks when a message arrives and when applied."""
        state = self.state
        if message.kind == "decision":
            assert message.decision is not None
            seller_checks.check_seller_decision(state, message.task_id, message.decision)
            kind = state.open_tasks[message.task_id]
            check_decision_allowed(kind, self._completion(message))
            if any(m.kind == "decision" and m.task_id == message.task_id for m in self.inbox):
                raise Refused("TaskNotOpen", "this task is being decided")
        elif message.kind == "manual":
            assert message.action is not None
            seller_checks.check_manual_action(state, message.action, fraud=message.fraud)
        elif message.kind == "appeal":
            seller_checks.check_appeal(state, self.now, message.against)
        elif message.kind == "withdraw":
            seller_checks.check_appeal_withdrawal(state, message.appeal_id)
        elif message.kind == "renewal":
            assert message.valid_until is not None
            seller_checks.check_renewal(state, message.document_kind, message.valid_until, self.now)
            if any(
                m.kind == "renewal" and m.document_kind == message.document_kind for m in self.inbox
            ):
                raise Refused("StatusConflict", "a new file is already being sent for review")

    @staticmethod
    def _completion(message: Message) -> CompleteTaskInput:
        assert message.decision is not None
        return CompleteTaskInput(
            task_id=message.task_id,
            actor=message.actor,
            decision=message.decision,
            reason_codes=["quality_concerns"],
            checklist=PASSING_CHECKLIST
            if message.decision in TASK_DECISIONS[TaskKind.mystery_order]
            else {},
        )

    # --- the workflow applying what it queued ----------------------------------------------

    @precondition(lambda self: bool(self.inbox))
    @rule(counts=kpi_counts(), eventually_due=st.booleans())
    def apply_inbox(self, counts: dict[KPI, KpiCounts], eventually_due: bool) -> None:
        self._begin()
        self._drain(scorecard(POLICY, counts, in_trial=True), eventually_due)

    def _drain(self, entries: list[ScorecardEntry], eventually_due: bool) -> None:
        """Apply every queued message, each checked again first, then the loop at `now`."""
        if not self.inbox:
            return
        while self.inbox:
            message = self.inbox.pop(0)
            if message.kind != "standing":
                try:
                    self._check(message)
                except Refused:
                    self.refusals += 1  # recorded by the workflow; the state is untouched
                    continue
            self._apply(message)
        self._timers_then_trial(entries, eventually_due)

    def _apply(self, message: Message) -> None:
        state, now = self.state, self.now
        if message.kind == "standing":
            assert message.standing is not None
            if state.remember(message.event_id):
                reasons = lifecycle.breach_reasons(list(message.entries))
                self._record(lifecycle.on_standing(POLICY, state, message.standing, reasons, now))
        elif message.kind == "decision":
            assert message.task_id not in self.decided, "a task decided twice"
            assert message.decision is not None
            kind = self.open.pop(message.task_id)
            self.decided.add(message.task_id)
            if kind == TaskKind.appeal_review and message.decision == Decision.uphold:
                self.appeal_upheld = True
            status_before = state.status
            self._record(
                lifecycle.on_task_decided(
                    POLICY, state, message.task_id, message.decision, message.actor, "", now
                )
            )
            if kind == TaskKind.trial_review and state.status != status_before:
                self.step.trial_decided = True
            withdrawn = kind == TaskKind.appeal_review and message.decision == Decision.reinstate
            if withdrawn and state.status == SellerStatus.trial:
                # A trial seller's notice withdrawn: no status change, the trial goes on.
                assert state.notice_ends_at is None
                self.notice_at = None
        elif message.kind == "appeal":
            self._record(lifecycle.on_appeal(POLICY, state, message.appeal_id, now))
        elif message.kind == "withdraw":
            self._record(lifecycle.on_appeal_withdrawn(state, message.appeal_id))
        elif message.kind == "renewal":
            assert message.valid_until is not None
            self._record(
                lifecycle.on_renewal_submitted(
                    POLICY, state, message.document_kind, message.event_id, message.valid_until, now
                )
            )
        else:
            assert message.action is not None
            self.step.fraud = self.step.fraud or message.fraud
            self._record(
                lifecycle.on_manual_action(
                    POLICY, state, message.action, message.actor, "reason", now, fraud=message.fraud
                )
            )

    @precondition(lambda self: not self.inbox)
    @rule()
    def continue_as_new(self) -> None:
        """The state carried into the next run, through the workflows' data converter."""
        self._begin()
        converter = pydantic_data_converter.payload_converter
        payloads = converter.to_payloads([self.state])
        (carried,) = converter.from_payloads(payloads, [SellerState])
        assert carried == self.state
        self.state = carried

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def every_restriction_has_its_statement_of_reasons(self) -> None:
        """DSA art. 17: a status change that restricts more, and a termination notice, come
        with a statement naming facts, ground, scope, end and how to contest, built as the
        activities build it; a suspension names the appeal window the seller then has."""
        statements = []
        moved_at = [
            t
            for e, t in zip(self.step.effects, self.step.times, strict=True)
            if isinstance(e, StatusEffect)
        ]
        for (before, effect), at in zip(self.step.moves, moved_at, strict=True):
            notice = of_status_change(effect, at)
            if RESTRICTIVENESS[effect.status] > RESTRICTIVENESS[before]:
                assert notice is not None, f"{before} -> {effect.status} without a statement"
            if notice is None:
                continue
            statements.append(notice)
            assert notice.decision.value == effect.action
            if notice.decision.value in ("warn", "limit") and notice.ground.clause != "documents":
                assert notice.ends_at is not None
                assert notice.ends_at > at
            if notice.ground.clause == "documents":
                assert notice.ends_at is None, "a limit for a document ends with its renewal"
            # The seller still suspended and not under notice may appeal until the date the
            # suspension's statement gave.
            last = effect is self.step.moves[-1][1]
            if notice.decision.value == "suspend" and last and self._still_suspended(effect):
                assert notice.redress.appeal
                assert notice.redress.appeal_by == self.state.appeal_deadline
                assert notice.redress.appeal_by is not None
                assert notice.redress.appeal_by > at
        for effect, at in zip(self.step.effects, self.step.times, strict=True):
            if isinstance(effect, NoticeEffect) and effect.template == "offboarding_notice":
                notice = of_notice(effect.template, effect, at)
                assert notice is not None
                assert notice.ends_at is not None
                assert notice.ends_at == add_duration(at, POLICY.durations.offboarding_notice)
                statements.append(notice)
        for notice in statements:
            assert notice.facts
            assert all(fact.summary for fact in notice.facts)
            assert notice.ground.text == GROUNDS[notice.ground.clause]
            assert notice.automated.decided == (notice.actor == "system")
            assert notice.redress.how
            assert notice.redress.mediator
        if self.step.fraud and self.state.status == SellerStatus.offboarded:
            assert any(n.ground.clause == "fraud" for n in statements)

    def _still_suspended(self, effect: StatusEffect) -> bool:
        return self.state.notice_ends_at is None and self.state.status == effect.status

    @invariant()
    def survives_serialisation(self) -> None:
        assert SellerState.model_validate_json(self.state.model_dump_json()) == self.state

    @invariant()
    def status_moves_along_the_ladder(self) -> None:
        for before, effect in self.step.moves:
            assert effect.status in LADDER[before], f"{before} -> {effect.status}"
        if self.step.moves:
            assert self.step.moves[-1][1].status == self.state.status
        if self.step.status_before == SellerStatus.offboarded:
            assert self.step.effects == [], "effects after the offboarding"

    @invariant()
    def sanctions_rest_on_enough_data(self) -> None:
        """An automated sanction rests on KPIs with their minimum sample, or on documents on
        file that stopped being valid (named in its evidence)."""
        for _, effect in self.step.moves:
            if effect.actor != "system" or effect.action not in SANCTIONS:
                continue
            reason = effect.reason
            if reason.ground == "documents":
                assert effect.action == SellerActionKind.limit, effect.action
                assert reason.evidence, "a limit for documents naming none"
                assert {key for key, _ in self.renewals_lapsed} >= {
                    line.split(":")[0] for line in reason.evidence
                }
                continue
            assert reason.kpi is not None, f"an automated {effect.action} without KPI facts"
            assert reason.sample is not None
            assert reason.sample >= POLICY.kpis[KPI(reason.kpi)].min_sample, reason

    @invariant()
    def restrictions_have_reasons_and_notices(self) -> None:
        for before, effect in self.step.moves:
            assert effect.reason.summary
            template = notice_template(effect, before)
            assert (TEMPLATES / f"{template}.txt.j2").exists(), template
            if effect.action in RESTRICTIONS - {SellerActionKind.offboard}:
                assert effect.status != SellerStatus.active
            if effect.action == SellerActionKind.warn:
                assert effect.improve_by is not None, "a warning without its date"

    @invariant()
    def termination_only_after_notice(self) -> None:
        for _, effect in self.step.moves:
            if effect.status != SellerStatus.offboarded or self.step.fraud:
                continue
            assert self.notice_at is not None, "offboarded without notice"
            ends = add_duration(self.notice_at, POLICY.durations.offboarding_notice)
            assert self.now >= ends, f"offboarded at {self.now}, notice ends {ends}"

    @invariant()
    def a_notice_running_was_announced(self) -> None:
        if self.state.notice_ends_at is not None:
            assert self.notice_at is not None
            assert self.state.notice_given_at == self.notice_at

    @invariant()
    def one_open_appeal_at_most(self) -> None:
        appeals = [t for t, kind in self.open.items() if kind == TaskKind.appeal_review]
        assert len(appeals) <= 1
        assert appeals == ([self.state.appeal_task] if self.state.appeal_task else [])
        # The restriction an open appeal is against is still in force.
        against, state = self.state.appeal_against, self.state
        if appeals:
            assert against in APPEALABLE_NOTICES, against
        if against == NoticeDecision.limit:
            assert state.status == SellerStatus.limited
            assert state.notice_ends_at is None
        if against == NoticeDecision.suspend:
            assert state.status == SellerStatus.suspended
            assert state.notice_ends_at is None
        if against == NoticeDecision.offboard_notice:
            assert state.notice_ends_at is not None

    @invariant()
    def trial_left_only_by_a_trial_decision(self) -> None:
        if self.step.in_trial_before and not self.state.in_trial:
            assert self.step.trial_decided or self.state.status == SellerStatus.offboarded

    @invariant()
    def the_ladder_always_has_a_next_step(self) -> None:
        state = self.state
        if state.status in (SellerStatus.warned, SellerStatus.limited):
            assert state.improve_by is not None, f"{state.status} with no deadline"
        if state.status == SellerStatus.active:
            assert state.standing == Standing.good, "active with KPIs below the thresholds"

    @invariant()
    def a_lapsed_document_holds_the_seller(self) -> None:
        """Rules 5: no seller sells freely (active or warned) while a document on file has
        lapsed; the limit set for it lasts exactly as long as a document is lapsed."""
        state = self.state
        if renewals.lapsed(state):
            assert not state.selling_freely, f"{state.status} with a lapsed document"
            event(f"a lapsed document with the seller {state.status.value}")
        if state.limited_for_documents:
            assert state.status == SellerStatus.limited
            assert renewals.lapsed(state), "held limited for documents none of which lapsed"
        for renewal in state.renewals:
            assert renewal.ask_at <= renewal.remind_at <= renewal.valid_until
            if renewal.review_task is not None:
                assert self.open.get(renewal.review_task) == TaskKind.document_review or (
                    state.finished
                )

    @invariant()
    def open_tasks_are_what_the_effects_opened(self) -> None:
        assert set(self.open) == set(self.state.open_tasks)
        if self.state.finished:
            assert self.open == {}


TestSellerLifecycle = SellerLifecycle.TestCase
TestSellerLifecycle.settings = settings(
    max_examples=300,
    stateful_step_count=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
