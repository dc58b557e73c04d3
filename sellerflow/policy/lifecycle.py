"""The seller's life after account setup as a pure state machine: trial, mystery orders, the
sanction ladder, appeals and offboarding. The seller workflow feeds it events and carries out the
effects it returns; tests drive it directly.

`state.legacy` marks a run replaying history written under the rules before version 2; the
branches it takes keep those replays issuing the commands they recorded, and go away with them.
"""

from datetime import datetime, timedelta

from sellerflow.policy import renewals
from sellerflow.policy.kpis import ScorecardEntry, standing
from sellerflow.policy.model import Policy, add_duration
from sellerflow.policy.seller_state import (
    CancelTasksEffect,
    Effect,
    EscalateEffect,
    MysteryOrder,
    NoticeEffect,
    OpenTaskEffect,
    ReasonRecord,
    SellerState,
    StatusEffect,
    capabilities_for,
    task_id_for,
)
from sellerflow.vocabulary import (
    Decision,
    KpiStatus,
    NoticeDecision,
    SellerActionKind,
    SellerStatus,
    Standing,
    TaskKind,
)


def start_trial(policy: Policy, seller_id: str, now: datetime, offsets: list[float]) -> SellerState:
    """A new seller in trial, with mystery orders at the given fractions (0..1) of the trial."""
    ends = add_duration(now, policy.durations.trial)
    span = ends - now
    orders = [
        MysteryOrder(key=f"mystery-{i}", due_at=now + span * min(0.9, max(0.05, f)))
        for i, f in enumerate(sorted(offsets)[: max(policy.trial.mystery_orders, len(offsets))])
    ]
    return SellerState(seller_id=seller_id, trial_ends_at=ends, mystery_orders=orders)


# --- what is due, and when: one definition for `next_wakeup` and `on_timers` ---------------


def trial_due_at(state: SellerState) -> datetime | None:
    """When the trial must be decided, while it is still undecided (paused while suspended)."""
    undecided = state.trial_review_task is None and state.notice_ends_at is None
    return state.trial_ends_at if state.status == SellerStatus.trial and undecided else None


def _openable_orders(state: SellerState) -> list[MysteryOrder]:
    """Mystery orders waiting for their date; none are opened while the seller is suspended."""
    if state.finished or state.status == SellerStatus.suspended:
        return []
    return [order for order in state.mystery_orders if order.task_id is None]


def _running_appeal_deadline(state: SellerState) -> datetime | None:
    """The appeal window runs while no appeal is under review."""
    return state.appeal_deadline if state.appeal_task is None else None


def _contested(state: SellerState) -> NoticeDecision | None:
    """The restriction under review whose course waits for the decision (rules 4): a late
    appeal is decided by a person, not cancelled by the very date it contests."""
    if not state.holds_under_appeal or state.appeal_task is None:
        return None
    return state.appeal_against


def _running_improvement(state: SellerState) -> datetime | None:
    """The improvement period's end, unless the limit it ends is under appeal."""
    return None if _contested(state) == NoticeDecision.limit else state.improve_by


def _running_notice(state: SellerState) -> datetime | None:
    """The offboarding notice's end, unless the notice is under appeal."""
    return None if _contested(state) == NoticeDecision.offboard_notice else state.notice_ends_at


def _unescalated(state: SellerState) -> dict[str, datetime]:
    return {task: due for task, due in state.task_due.items() if task not in state.escalated}


def next_wakeup(state: SellerState) -> datetime | None:
    """The earliest time at which a timer-driven rule may fire; None when none can."""
    if state.finished:
        return None
    times = [order.due_at for order in _openable_orders(state)]
    if (trial_end := trial_due_at(state)) is not None:
        times.append(trial_end)
    times += _unescalated(state).values()
    times += renewals.due_times(state)
    for t in (
        _running_improvement(state),
        _running_appeal_deadline(state),
        _running_notice(state),
        state.probation_until,
        state.blocker_fix_until,
    ):
        if t is not None:
            times.append(t)
    return min(times) if times else None


def on_timers(policy: Policy, state: SellerState, now: datetime) -> list[Effect]:
    """Rules that fire because a time has come; the trial end is decided by `decide_trial`."""
    effects: list[Effect] = []
    if state.finished:
        return effects
    for order in _openable_orders(state):
        if order.due_at <= now:
            effects.append(_open_mystery_order(state, order, policy, now))
    for task_id, due in _unescalated(state).items():
        if due <= now:
            state.escalated.append(task_id)
            effects.append(EscalateEffect(task_id=task_id))
    if state.blocker_fix_until and now >= state.blocker_fix_until:
        state.blocker_fix_until = None
    if state.probation_until and now >= state.probation_until:
        state.probation_until = None
    if (improve_by := _running_improvement(state)) and now >= improve_by:
        state.improve_by = None
        effects += _after_improvement_period(policy, state, now)
    appeal_deadline = _running_appeal_deadline(state)
    if appeal_deadline and now >= appeal_deadline:
        state.appeal_deadline = None
        effects += _offboard_with_notice(
            policy,
            state,
            now,
            ReasonRecord(summary="suspended and no appeal within the appeal window"),
        )
    if (notice_ends_at := _running_notice(state)) and now >= notice_ends_at:
        effects += _offboard_now(
            policy, state, ReasonRecord(summary="offboarding notice period ended")
        )
    if not state.finished:
        effects += renewals.on_timers(state, now)
    return effects + _hold_for_documents(policy, state, now) + _superseded_appeal(state)


# --- moves ---------------------------------------------------------------------------------


def _move(
    policy: Policy,
    state: SellerState,
    status: SellerStatus,
    action: SellerActionKind | None,
    reason: ReasonRecord,
    actor: str = "system",
) -> StatusEffect:
    state.status = status
    if status != SellerStatus.limited:
        state.limited_for_documents = False
    return StatusEffect(
        status=status,
        action=action,
        capabilities=capabilities_for(policy, status),
        reason=reason,
        actor=actor,
        notice_ends_at=state.notice_ends_at,
        improve_by=state.improve_by,
        appeal_by=_appeal_by(state, status),
    )


def _appeal_by(state: SellerState, status: SellerStatus) -> datetime | None:
    """Until when the restriction a move enters may be appealed (for its statement)."""
    if state.notice_ends_at is not None:
        return None  # the offboarding notice is what may be appealed, and says so
    if status == SellerStatus.suspended:
        return state.appeal_deadline
    if status == SellerStatus.limited and state.appeals_any_restriction:
        return state.appeal_open_until
    return None


def _open_appeal_window(
    policy: Policy, state: SellerState, now: datetime, until: datetime | None = None
) -> None:
    """A new limit or offboarding notice may be appealed for the appeal window (rules 3)."""
    if not state.appeals_any_restriction:
        return
    end = add_duration(now, policy.durations.appeal_window)
    state.appeal_open_until = min(end, until) if until is not None else end
    state.appealed = False


def _limit(
    policy: Policy, state: SellerState, now: datetime, reason: ReasonRecord, actor: str = "system"
) -> StatusEffect:
    """Caps for an improvement period; the limit may be appealed (unless a notice runs)."""
    state.improve_by = add_duration(now, policy.durations.improvement_period)
    if state.notice_ends_at is None:
        _open_appeal_window(policy, state, now)
    return _move(policy, state, SellerStatus.limited, SellerActionKind.limit, reason, actor)


def _close_appeal(state: SellerState) -> list[Effect]:
    """The open appeal has nothing left to ask: its review closes."""
    if state.appeal_task is None:
        return []
    task_id = state.appeal_task
    state.appeal_task = state.appeal_against = None
    return [_close_tasks(state, [task_id])]


def _superseded_appeal(state: SellerState) -> list[Effect]:
    """An appeal against a limit closes once the seller is no longer limited (the KPIs lifted
    it, or a suspension replaced it: the suspension has its own statement and appeal)."""
    if state.appeal_against == NoticeDecision.limit and state.status != SellerStatus.limited:
        return _close_appeal(state)
    return []


def _close_tasks(state: SellerState, task_ids: list[str]) -> CancelTasksEffect:
    for task_id in task_ids:
        state.open_tasks.pop(task_id, None)
        state.task_due.pop(task_id, None)
        if task_id in state.escalated:
            state.escalated.remove(task_id)
    return CancelTasksEffect(task_ids=task_ids)


def _offboard_now(
    policy: Policy, state: SellerState, reason: ReasonRecord, actor: str = "system"
) -> list[Effect]:
    """The end of the relationship: nothing is left for anyone to decide."""
    state.notice_ends_at = None
    effects: list[Effect] = []
    if not state.legacy and state.open_tasks:
        effects.append(_close_tasks(state, list(state.open_tasks)))
        state.appeal_task = state.trial_review_task = state.appeal_against = None
        effects += renewals.reviews_closed(state, "the seller left before the review")
    effects.append(
        _move(policy, state, SellerStatus.offboarded, SellerActionKind.offboard, reason, actor)
    )
    return effects


def _offboard_with_notice(
    policy: Policy,
    state: SellerState,
    now: datetime,
    reason: ReasonRecord,
    actor: str = "system",
    *,
    immediately: bool = False,
    appealable: bool = True,
) -> list[Effect]:
    """`appealable` False: the notice follows an appeal already decided, and takes no other."""
    # Notice given (or offboarded outright): the appeal window no longer applies.
    state.appeal_deadline = None
    if immediately:
        return _offboard_now(policy, state, reason, actor)
    if state.legacy:
        state.notice_ends_at = add_duration(now, policy.durations.offboarding_notice)
        return [_termination_notice(state, reason, actor)]
    if state.notice_ends_at is not None:
        return []  # the notice already given stands: a second ground does not postpone it
    # The notice supersedes the restriction appealed against.
    effects = _close_appeal(state)
    state.notice_ends_at = add_duration(now, policy.durations.offboarding_notice)
    state.notice_given_at = now
    _open_appeal_window(policy, state, now, until=state.notice_ends_at)
    if not appealable:
        state.appealed = True
    return [*effects, _termination_notice(state, reason, actor)]


def _termination_notice(state: SellerState, reason: ReasonRecord, actor: str) -> NoticeEffect:
    appeal_by = None
    if state.appeals_any_restriction and not state.appealed:
        appeal_by = state.appeal_open_until
    return NoticeEffect(
        template="offboarding_notice",
        reason=reason,
        actor=actor,
        ends_at=state.notice_ends_at,
        appeal_by=appeal_by,
    )


def _open_mystery_order(
    state: SellerState, order: MysteryOrder, policy: Policy, now: datetime
) -> OpenTaskEffect:
    order.task_id = task_id_for(state.seller_id, order.key)
    return _open_task(
        state,
        order.task_id,
        TaskKind.mystery_order,
        add_duration(now, policy.durations.mystery_order_sla),
        order.key,
    )


def _open_task(
    state: SellerState, task_id: str, kind: TaskKind, due_at: datetime, note: str
) -> OpenTaskEffect:
    state.open_tasks[task_id] = kind
    state.task_due[task_id] = due_at
    return OpenTaskEffect(task_id=task_id, kind=kind, due_at=due_at, note=note)


def schedule_follow_up(state: SellerState, now: datetime, due_at: datetime) -> None:
    key = f"mystery-{len(state.mystery_orders)}"
    state.mystery_orders.append(MysteryOrder(key=key, due_at=max(now, due_at)))


def _follow_up_low_scorer(state: SellerState, now: datetime) -> None:
    """A seller scoring warn or limit gets a mystery order now, unless one is still undecided."""
    if all(order.outcome is not None for order in state.mystery_orders):
        schedule_follow_up(state, now, now)


def _kpi_reason(state: SellerState, summary: str) -> ReasonRecord:
    """The KPI facts behind the standing, or the standing alone where none were kept."""
    if state.breaches and not state.legacy:
        first = state.breaches[0]
        return first.model_copy(update={"summary": f"{first.summary}: {summary}"})
    return ReasonRecord(
        summary=f"KPIs still {state.standing.value} {summary}", ground="performance"
    )


def _after_improvement_period(policy: Policy, state: SellerState, now: datetime) -> list[Effect]:
    """At the end of an improvement period the ladder takes one step, up or down."""
    if state.status == SellerStatus.limited and state.limited_for_documents:
        # The limit is the lapsed document's: it ends with the renewal, not with a period.
        state.improve_by = add_duration(now, policy.durations.improvement_period)
        return []
    if state.standing == Standing.good:
        if state.legacy:
            return []
        ended = ReasonRecord(summary="the improvement period ended with every KPI good")
        if state.status == SellerStatus.warned:
            return [_move(policy, state, SellerStatus.active, None, ended)]
        if state.status == SellerStatus.limited:
            state.improve_by = add_duration(now, policy.durations.improvement_period)
            if renewals.lapsed(state):
                # Held limited until the document is renewed, which then lifts the limit.
                state.limited_for_documents = True
                return []
            return [_move(policy, state, SellerStatus.warned, None, ended)]
        return []
    reason = _kpi_reason(state, "after the improvement period")
    if state.status == SellerStatus.warned:
        return [_limit(policy, state, now, reason)]
    if state.status == SellerStatus.limited:
        return _suspend(policy, state, now, reason)
    return []


def _suspend(
    policy: Policy, state: SellerState, now: datetime, reason: ReasonRecord, actor: str = "system"
) -> list[Effect]:
    state.suspensions += 1
    state.suspended_at = now
    if not state.legacy:
        state.suspended_from = state.status
    state.improve_by = None
    if state.suspensions > 1 and state.probation_until is not None:
        # Failing again on probation: repeated failure ends the relationship, with notice.
        effects: list[Effect] = [
            _move(policy, state, SellerStatus.suspended, SellerActionKind.suspend, reason, actor)
        ]
        return effects + _offboard_with_notice(
            policy,
            state,
            now,
            ReasonRecord(summary="repeated failure while on probation", ground="performance"),
            actor,
        )
    state.appeal_deadline = add_duration(now, policy.durations.appeal_window)
    if state.notice_ends_at is None:
        state.appealed = False  # a new restriction, with an appeal of its own
    return [_move(policy, state, SellerStatus.suspended, SellerActionKind.suspend, reason, actor)]


def _after_reaching_active(policy: Policy, state: SellerState, now: datetime) -> list[Effect]:
    """A seller graduated or reinstated with KPIs already below the thresholds is warned."""
    if state.legacy or state.status != SellerStatus.active or state.standing == Standing.good:
        return []
    _follow_up_low_scorer(state, now)
    state.improve_by = add_duration(now, policy.durations.improvement_period)
    reason = _kpi_reason(state, "when the seller became active")
    return [_move(policy, state, SellerStatus.warned, SellerActionKind.warn, reason)]


def _resume_trial(state: SellerState, now: datetime) -> None:
    """The trial clock stood still while the seller was suspended: its dates move on."""
    if state.suspended_at is None:
        return
    paused = max(now - state.suspended_at, timedelta(0))
    state.trial_ends_at += paused
    for order in state.mystery_orders:
        if order.task_id is None:
            order.due_at += paused


def _reinstate(
    policy: Policy,
    state: SellerState,
    now: datetime,
    reason: ReasonRecord,
    actor: str,
) -> list[Effect]:
    """Back to business on probation: the notice and deadlines the restriction set are gone."""
    if state.legacy:
        state.probation_until = add_duration(now, policy.durations.probation)
        state.appeal_deadline = None
        schedule_follow_up(state, now, now)
        return [
            _move(policy, state, SellerStatus.active, SellerActionKind.reinstate, reason, actor)
        ]
    effects = _close_appeal(state)  # reinstated by ops: the appeal has nothing left to ask
    state.appeal_open_until, state.appealed = None, False
    state.improve_by = state.appeal_deadline = None
    state.notice_ends_at = state.notice_given_at = None
    if state.status == SellerStatus.trial:
        # A trial seller's offboarding notice withdrawn on appeal: the trial goes on, and its
        # end (past or not) is decided again by a trial review.
        return effects
    state.probation_until = add_duration(now, policy.durations.probation)
    back_to = SellerStatus.active
    if state.status == SellerStatus.suspended and state.suspended_from == SellerStatus.trial:
        back_to = SellerStatus.trial
        _resume_trial(state, now)
    state.suspended_from = None
    schedule_follow_up(state, now, now)
    effects.append(_move(policy, state, back_to, SellerActionKind.reinstate, reason, actor))
    return effects + _after_reaching_active(policy, state, now)


# --- documents on file (rules 5) -----------------------------------------------------------


def _hold_for_documents(policy: Policy, state: SellerState, now: datetime) -> list[Effect]:
    """A seller selling freely while a document on file has lapsed is limited: after every
    step, whichever rule let it there (the lapse itself, a graduation, a reinstatement)."""
    gone = renewals.lapsed(state)
    if not gone or not state.selling_freely or not state.renews_documents:
        return []
    effect = _limit(policy, state, now, renewals.lapse_reason(gone))
    state.limited_for_documents = True
    return [effect]


def on_renewal_submitted(
    policy: Policy, state: SellerState, kind: str, document_id: str, until: datetime, now: datetime
) -> list[Effect]:
    """A new file of a renewed document uploaded: a reviewer checks it."""
    return renewals.on_submitted(policy, state, kind, document_id, until, now)


def _lift_document_limit(
    policy: Policy, state: SellerState, now: datetime, actor: str
) -> list[Effect]:
    """The last lapsed document renewed: the limit set for it goes, to where the KPIs say."""
    if not state.limited_for_documents or renewals.lapsed(state):
        return []
    if state.status != SellerStatus.limited:
        return []
    renewed = ReasonRecord(summary="the document that had lapsed was renewed", ground="documents")
    if state.standing == Standing.good:
        state.improve_by = None
        return [_move(policy, state, SellerStatus.active, None, renewed, actor)]
    state.improve_by = add_duration(now, policy.durations.improvement_period)
    return [_move(policy, state, SellerStatus.warned, None, renewed, actor)]


# --- the daily evaluation ------------------------------------------------------------------


def breach_reasons(entries: list[ScorecardEntry]) -> list[ReasonRecord]:
    return [
        ReasonRecord(
            summary=f"{e.kpi.value} is {e.status.value}",
            kpi=e.kpi.value,
            value=e.value,
            threshold=e.limit if e.status == KpiStatus.limit else e.warn,
            window_days=e.window_days,
            sample=e.denominator,
            evidence=[f"{e.numerator:g} of {e.denominator}"],
        )
        for e in entries
        if e.status in (KpiStatus.warn, KpiStatus.limit)
    ]


def on_standing(
    policy: Policy, state: SellerState, new: Standing, reasons: list[ReasonRecord], now: datetime
) -> list[Effect]:
    """The daily evaluation gives the KPI standing: on a change, the ladder moves one step."""
    effects = _ladder_step(policy, state, new, reasons, now)
    return effects + _hold_for_documents(policy, state, now) + _superseded_appeal(state)


def _ladder_step(
    policy: Policy, state: SellerState, new: Standing, reasons: list[ReasonRecord], now: datetime
) -> list[Effect]:
    if not state.legacy:
        unchanged = new == state.standing
        state.breaches = list(reasons)
        if unchanged:
            return []
    state.standing = new
    if state.status in (SellerStatus.trial, SellerStatus.suspended, SellerStatus.offboarded):
        return []
    if new != Standing.good:
        _follow_up_low_scorer(state, now)
    reason = (
        reasons[0]
        if reasons
        else ReasonRecord(summary=f"KPI standing is {new.value}", ground="performance")
    )
    if new == Standing.good:
        if state.status == SellerStatus.limited and renewals.lapsed(state):
            # The KPIs recovered, but the limit holds until the document is renewed.
            state.limited_for_documents = True
            return []
        state.improve_by = None
        recovered = ReasonRecord(summary="KPIs recovered")
        if state.status == SellerStatus.limited:
            if not state.legacy:
                # One step down now; the last one once the KPIs stay good for a period.
                state.improve_by = add_duration(now, policy.durations.improvement_period)
            return [_move(policy, state, SellerStatus.warned, None, recovered)]
        if state.status == SellerStatus.warned:
            return [_move(policy, state, SellerStatus.active, None, recovered)]
        return []
    if state.probation_until is not None and new == Standing.limit:
        return _suspend(policy, state, now, reason)
    if state.status == SellerStatus.active:
        state.improve_by = add_duration(now, policy.durations.improvement_period)
        return [_move(policy, state, SellerStatus.warned, SellerActionKind.warn, reason)]
    if state.status == SellerStatus.warned and new == Standing.limit:
        return [_limit(policy, state, now, reason)]
    return []


# --- the trial -----------------------------------------------------------------------------


def decide_trial(
    policy: Policy,
    state: SellerState,
    entries: list[ScorecardEntry],
    now: datetime,
    *,
    eventually_due_satisfied: bool,
) -> list[Effect]:
    """At the trial end: graduate, or ask the SSM (borderline), or offboard (clear failure)."""
    effects = _trial_end(
        policy, state, entries, now, eventually_due_satisfied=eventually_due_satisfied
    )
    return effects + _hold_for_documents(policy, state, now)


def _trial_end(
    policy: Policy,
    state: SellerState,
    entries: list[ScorecardEntry],
    now: datetime,
    *,
    eventually_due_satisfied: bool,
) -> list[Effect]:
    kpi_standing = standing(entries)
    if not state.legacy:
        state.standing, state.breaches = kpi_standing, breach_reasons(entries)
    results = [mo.outcome for mo in state.mystery_orders if mo.outcome is not None]
    passed = sum(1 for r in results if r == Decision.passed)
    blocker_open = state.blocker_fix_until is not None
    lapsed = len(renewals.lapsed(state))
    if (
        kpi_standing == Standing.good
        and passed >= policy.trial.mystery_orders
        and not blocker_open
        and eventually_due_satisfied
        and not lapsed
    ):
        state.improve_by = None
        return [
            _move(policy, state, SellerStatus.active, None, ReasonRecord(summary="trial passed"))
        ]
    if kpi_standing == Standing.limit and state.trial_extended:
        return _offboard_with_notice(
            policy, state, now, ReasonRecord(summary="trial failed after extension", ground="trial")
        )
    number = int(state.trial_extended) if state.legacy else state.trial_reviews
    state.trial_reviews += 1
    state.trial_review_task = task_id_for(state.seller_id, f"trial-review-{number}")
    summary = (
        f"KPIs {kpi_standing.value}, {passed} mystery orders passed, "
        f"blocker open: {blocker_open}, eventually-due documents: {eventually_due_satisfied}"
    )
    if lapsed:
        summary += f", documents no longer valid: {lapsed}"
    due = add_duration(now, policy.durations.task_sla)
    return [_open_task(state, state.trial_review_task, TaskKind.trial_review, due, summary)]


# --- decisions, appeals, manual actions ----------------------------------------------------


def on_task_decided(
    policy: Policy,
    state: SellerState,
    task_id: str,
    decision: Decision,
    actor: str,
    comment: str,
    now: datetime,
) -> list[Effect]:
    effects = _task_decided(policy, state, task_id, decision, actor, comment, now)
    return effects + _hold_for_documents(policy, state, now)


def _task_decided(
    policy: Policy,
    state: SellerState,
    task_id: str,
    decision: Decision,
    actor: str,
    comment: str,
    now: datetime,
) -> list[Effect]:
    kind = state.open_tasks.pop(task_id, None)
    state.task_due.pop(task_id, None)
    if task_id in state.escalated:
        state.escalated.remove(task_id)
    reason = ReasonRecord(
        summary=f"{decision.value} by {actor}: {comment}".rstrip(": "),
        ground=_TASK_GROUNDS.get(kind) if kind is not None else None,
    )
    if kind == TaskKind.mystery_order:
        return _on_mystery_order(policy, state, task_id, decision, reason, now)
    if kind == TaskKind.document_review:
        reviewed = renewals.on_reviewed(policy, state, task_id, decision, actor, comment)
        return (
            reviewed + _lift_document_limit(policy, state, now, actor) + _superseded_appeal(state)
        )
    if kind == TaskKind.trial_review:
        state.trial_review_task = None
        if decision == Decision.graduate:
            moved = _move(policy, state, SellerStatus.active, None, reason, actor)
            return [moved, *_after_reaching_active(policy, state, now)]
        if decision == Decision.extend and not state.trial_extended:
            state.trial_extended = True
            state.trial_ends_at = add_duration(now, policy.durations.trial_extension)
            notice = NoticeEffect(
                template="trial_extended", reason=reason, actor=actor, ends_at=state.trial_ends_at
            )
            return [notice]
        return _offboard_with_notice(policy, state, now, reason, actor)
    if kind == TaskKind.appeal_review:
        against, state.appeal_task, state.appeal_against = state.appeal_against, None, None
        if decision == Decision.reinstate:
            return _reinstate(policy, state, now, reason, actor)
        if not state.appeals_any_restriction:
            return _offboard_with_notice(policy, state, now, reason, actor)
        state.appealed = True
        if against in (NoticeDecision.limit, NoticeDecision.offboard_notice):
            return []  # upheld: the restriction stands, and runs its course
        # An upheld suspension ends the partnership, with notice; the notice takes no appeal.
        return _offboard_with_notice(policy, state, now, reason, actor, appealable=False)
    return []


# The clause a task's decision rests on (`policy.notices.GROUNDS`).
_TASK_GROUNDS = {TaskKind.trial_review: "trial", TaskKind.mystery_order: "mystery_orders"}


def _on_mystery_order(
    policy: Policy,
    state: SellerState,
    task_id: str,
    decision: Decision,
    reason: ReasonRecord,
    now: datetime,
) -> list[Effect]:
    for order in state.mystery_orders:
        if order.task_id == task_id:
            order.outcome = decision
    effects: list[Effect] = [NoticeEffect(template="mystery_order_finding", reason=reason)]
    if decision != Decision.blocker:
        return effects
    state.blockers += 1
    if state.blockers > 1:
        return effects + _offboard_with_notice(
            policy,
            state,
            now,
            ReasonRecord(
                summary="repeated blocker in mystery orders",
                evidence=reason.evidence,
                ground="mystery_orders",
            ),
        )
    state.blocker_fix_until = add_duration(now, policy.durations.blocker_fix)
    schedule_follow_up(state, now, state.blocker_fix_until)
    return effects


def appeal_task_id(state: SellerState, appeal_id: str) -> str:
    return task_id_for(state.seller_id, f"appeal-{appeal_id}")


def appealable(state: SellerState, now: datetime) -> NoticeDecision | None:
    """The restriction in force that an appeal may be filed against now, if any.

    A suspension until its appeal window lapses (a timer then gives the offboarding notice);
    under rules 3 also a limit and an offboarding notice, within their appeal windows, once
    each. Nothing while an appeal is under review."""
    if state.appeal_task is not None or state.finished:
        return None
    in_window = state.appeal_open_until is not None and now < state.appeal_open_until
    open_to_appeal = state.appeals_any_restriction and not state.appealed and in_window
    if state.notice_ends_at is not None:
        return NoticeDecision.offboard_notice if open_to_appeal else None
    if state.status == SellerStatus.suspended:
        return NoticeDecision.suspend
    if state.status == SellerStatus.limited and open_to_appeal:
        return NoticeDecision.limit
    return None


def on_appeal(policy: Policy, state: SellerState, appeal_id: str, now: datetime) -> list[Effect]:
    if state.appeals_any_restriction:
        state.appeal_against = appealable(state, now)
    state.appeal_task = appeal_task_id(state, appeal_id)
    due = add_duration(now, policy.durations.appeal_sla)
    return [_open_task(state, state.appeal_task, TaskKind.appeal_review, due, appeal_id)]


def on_appeal_withdrawn(state: SellerState, appeal_id: str) -> list[Effect]:
    """The seller takes its appeal back: the review closes and the appeal window runs again."""
    task_id = appeal_task_id(state, appeal_id)
    if state.appeal_task != task_id:
        return []
    return _close_appeal(state)


def on_manual_action(
    policy: Policy,
    state: SellerState,
    action: SellerActionKind,
    actor: str,
    reason_text: str,
    now: datetime,
    *,
    fraud: bool = False,
) -> list[Effect]:
    effects = _manual_step(policy, state, action, actor, reason_text, now, fraud=fraud)
    return effects + _hold_for_documents(policy, state, now) + _superseded_appeal(state)


def _manual_step(
    policy: Policy,
    state: SellerState,
    action: SellerActionKind,
    actor: str,
    reason_text: str,
    now: datetime,
    *,
    fraud: bool,
) -> list[Effect]:
    reason = ReasonRecord(
        summary=f"manual {action.value} by {actor}: {reason_text}",
        ground="fraud" if fraud and action == SellerActionKind.offboard else None,
    )
    if action == SellerActionKind.warn:
        state.improve_by = add_duration(now, policy.durations.improvement_period)
        return [_move(policy, state, SellerStatus.warned, action, reason, actor)]
    if action == SellerActionKind.limit:
        return [_limit(policy, state, now, reason, actor)]
    if action == SellerActionKind.suspend:
        return _suspend(policy, state, now, reason, actor)
    if action == SellerActionKind.reinstate:
        if state.legacy:
            state.improve_by = state.appeal_deadline = state.notice_ends_at = None
        return _reinstate(policy, state, now, reason, actor)
    return _offboard_with_notice(policy, state, now, reason, actor, immediately=fraud)
