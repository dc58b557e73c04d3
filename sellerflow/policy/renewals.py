"""Documents on file that a seller renews for as long as it sells (lifecycle rules 5).

Each renewed kind (`policy.renewals.documents`) is asked for again `ask_before` its document
stops being valid, reminded `remind_before`, and lapses at that date unless a new file was
accepted; a file under review holds the lapse until the reviewer decides. What a lapse does to
the seller's status (a limit, lifted by the renewal) is the ladder's: `policy.lifecycle`.
"""

from datetime import UTC, date, datetime, time, timedelta

from sellerflow.policy.model import Policy, RenewalRules, add_duration, before
from sellerflow.policy.seller_state import (
    Effect,
    NoticeEffect,
    OpenTaskEffect,
    ReasonRecord,
    Renewal,
    RenewalEffect,
    SellerState,
    task_id_for,
)
from sellerflow.vocabulary import Decision, RenewalStatus, TaskKind


def valid_until(
    rules: RenewalRules,
    kind: str,
    *,
    issued_on: date | None,
    expires_on: date | None,
) -> datetime | None:
    """Until when a document of a renewed kind is valid: the end of its expiry day, or its
    issue day plus the kind's validity. None when the kind is not renewed or has no date."""
    rule = rules.documents.get(kind)
    if rule is None:
        return None
    if rule.valid_for is None:
        until = _start_of(expires_on + timedelta(days=1)) if expires_on is not None else None
    else:
        until = add_duration(_start_of(issued_on), rule.valid_for) if issued_on else None
    # A date beyond this is no real expiry date: such a document is not followed (and no
    # timer of centuries is set).
    return until if until is not None and until < FURTHEST else None


FURTHEST = datetime(2200, 1, 1, tzinfo=UTC)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def renewal_for(policy: Policy, kind: str, until: datetime, round_no: int = 0) -> Renewal:
    rules = policy.renewals
    ask_at = before(until, rules.ask_before)
    return Renewal(
        kind=kind,
        valid_until=until,
        ask_at=ask_at,
        remind_at=max(ask_at, before(until, rules.remind_before)),
        round=round_no,
    )


def track(policy: Policy, state: SellerState, on_file: list[tuple[str, datetime]]) -> None:
    """Follow the documents on file of kinds not followed yet (a document accepted after the
    account was set up, such as an eventually-due certificate); those followed already keep
    the dates the renewals gave them."""
    followed = {r.kind for r in state.renewals}
    state.renewals = state.renewals + [
        renewal_for(policy, kind, until) for kind, until in sorted(on_file) if kind not in followed
    ]


def lapsed(state: SellerState) -> list[Renewal]:
    return [r for r in state.renewals if r.lapsed]


def _waiting(renewal: Renewal) -> bool:
    """The seller has to act: no new file is under review."""
    return renewal.review_task is None


def _due(r: Renewal) -> list[tuple[str, datetime]]:
    """The renewal's timers still to fire, in their order: one definition for `due_times` and
    `on_timers` (`ask_at <= remind_at <= valid_until`). A file under review holds the reminder
    and the lapse."""
    due = [("ask", r.ask_at)] if not r.asked else []
    if not r.lapsed and _waiting(r):
        if not r.reminded:
            due.append(("remind", r.remind_at))
        due.append(("lapse", r.valid_until))
    return due


def due_times(state: SellerState) -> list[datetime]:
    """When a renewal's next timer fires: asking, reminding, lapsing."""
    return [at for r in state.renewals for _, at in _due(r)]


def on_timers(state: SellerState, now: datetime) -> list[Effect]:
    """Ask, remind and lapse whatever renewal has come to its time."""
    effects: list[Effect] = []
    for r in state.renewals:
        for what, at in _due(r):
            if now < at:
                break
            if what == "ask":
                r.asked = True
                effects += [_record(r, RenewalStatus.requested), _notice(r, "renewal_requested")]
            elif what == "remind":
                r.reminded = True
                if now < r.valid_until:
                    effects.append(_notice(r, "renewal_reminder"))
            else:
                r.lapsed = r.reminded = True
                effects.append(_record(r, RenewalStatus.lapsed))
                if not state.selling_freely:
                    # An active or warned seller hears it in the limit's statement of reasons.
                    effects.append(_notice(r, "renewal_lapsed", lapse_reason([r]).summary))
    return effects


def lapse_reason(gone: list[Renewal]) -> ReasonRecord:
    """The facts of a limit for documents that stopped being valid."""
    return ReasonRecord(
        summary="a document on file stopped being valid and was not renewed: "
        + ", ".join(f"{_named(r)} (valid until {r.valid_until:%Y-%m-%d})" for r in gone),
        evidence=[f"{r.kind}: valid until {r.valid_until.isoformat()}" for r in gone],
        ground="documents",
    )


def _named(r: Renewal) -> str:
    return r.kind.replace("_", " ")


def _notice(r: Renewal, template: str, summary: str = "") -> NoticeEffect:
    return NoticeEffect(
        template=template,
        reason=ReasonRecord(
            summary=summary or f"the {_named(r)} on file is valid until {r.valid_until:%Y-%m-%d}",
            evidence=[r.kind],
            ground="documents",
        ),
        ends_at=r.valid_until,
    )


def _record(
    r: Renewal,
    status: RenewalStatus,
    document_id: str | None = None,
    actor: str = "system",
    note: str = "",
) -> RenewalEffect:
    return RenewalEffect(
        kind=r.kind,
        round=r.round,
        status=status,
        valid_until=r.valid_until,
        document_id=document_id,
        actor=actor,
        note=note,
    )


# --- a new file, and its review -------------------------------------------------------------


def reviews_closed(state: SellerState, why: str) -> list[Effect]:
    """The reviews of new files closed without a decision (the seller offboarded): each file
    is refused, and its renewal waits for another."""
    effects: list[Effect] = []
    for r in state.renewals:
        if r.review_task is None:
            continue
        status = RenewalStatus.lapsed if r.lapsed else RenewalStatus.requested
        effects.append(_record(r, status, r.offered_document, note=why))
        r.review_task = r.offered_document = r.offered_until = None
    return effects


def why_no_renewal(state: SellerState, kind: str, until: datetime, now: datetime) -> str | None:
    """None when a new file of `kind` valid until `until` may be sent for review now."""
    renewal = next((r for r in state.renewals if r.kind == kind), None)
    if state.finished:
        return "the seller is offboarded"
    if renewal is None:
        return f"no {kind} is renewed on this account"
    if not renewal.asked:
        return f"the {kind} is not due for renewal before {renewal.ask_at:%Y-%m-%d}"
    if renewal.review_task is not None:
        return f"a new {kind} is already under review"
    if until <= now:
        return "the new document is not valid any more"
    return None


def on_submitted(
    policy: Policy, state: SellerState, kind: str, document_id: str, until: datetime, now: datetime
) -> list[Effect]:
    """A new file uploaded: a reviewer checks it (a `document_review` task)."""
    renewal = next(r for r in state.renewals if r.kind == kind)
    renewal.submissions += 1
    task_id = task_id_for(state.seller_id, f"renewal-{kind}-{renewal.round}-{renewal.submissions}")
    renewal.review_task, renewal.offered_document, renewal.offered_until = (
        task_id,
        document_id,
        until,
    )
    due = add_duration(now, policy.durations.task_sla)
    state.open_tasks[task_id] = TaskKind.document_review
    state.task_due[task_id] = due
    return [
        OpenTaskEffect(
            task_id=task_id, kind=TaskKind.document_review, due_at=due, note=document_id
        ),
        _record(renewal, RenewalStatus.under_review, document_id),
    ]


def on_reviewed(
    policy: Policy, state: SellerState, task_id: str, decision: Decision, actor: str, comment: str
) -> list[Effect]:
    """Accepted: the document on file is the new one, followed from its dates. Refused: the
    seller uploads another; the old one's date runs again (it may lapse at once)."""
    index, renewal = next((i, r) for i, r in enumerate(state.renewals) if r.review_task == task_id)
    document_id, until = renewal.offered_document, renewal.offered_until
    renewal.review_task = renewal.offered_document = renewal.offered_until = None
    if decision != Decision.approve or until is None:
        status = RenewalStatus.lapsed if renewal.lapsed else RenewalStatus.requested
        because = f": {comment}" if comment else ""
        summary = f"the new {_named(renewal)} was refused by {actor}{because}"
        return [
            _record(renewal, status, document_id, actor, comment),
            _notice(renewal, "renewal_refused", summary),
        ]
    renewed = renewal.model_copy(update={"valid_until": until})
    done = _record(renewed, RenewalStatus.renewed, document_id, actor)
    state.renewals[index] = renewal_for(policy, renewal.kind, until, renewal.round + 1)
    return [done, _notice(state.renewals[index], "renewal_accepted")]
