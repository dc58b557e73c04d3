"""What a seller's current state allows: decisions on its tasks, appeals, manual actions.

The workflow asks these when a message arrives (the update's validator) and again when it is
applied, since the state may have moved on in between."""

from datetime import datetime

from sellerflow.policy import Refused, renewals
from sellerflow.policy.lifecycle import appeal_task_id, appealable
from sellerflow.policy.seller_state import SellerState
from sellerflow.vocabulary import (
    TASK_DECISIONS,
    Decision,
    NoticeDecision,
    SellerActionKind,
    SellerStatus,
    TaskKind,
)


def can_appeal(state: SellerState, now: datetime) -> str | None:
    """None when an appeal may be filed now, else why not."""
    if state.appeals_any_restriction:
        return _why_no_appeal(state, now)
    if state.status != SellerStatus.suspended:
        return "only a suspended seller can appeal"
    if state.appeal_task is not None:
        return "an appeal is already under review"
    if state.notice_ends_at is not None:
        return "the offboarding notice has been given"
    return None


def _why_no_appeal(state: SellerState, now: datetime) -> str | None:
    if appealable(state, now) is not None:
        return None
    if state.appeal_task is not None:
        return "an appeal is already under review"
    restriction = "the offboarding notice" if state.notice_ends_at is not None else "this limit"
    if state.notice_ends_at is None and state.status != SellerStatus.limited:
        return "only a limit, a suspension or an offboarding notice can be appealed"
    if state.appealed:
        return f"{restriction} was appealed already, and the appeal decided"
    return f"the appeal window of {restriction} has ended"


MANUAL_ACTIONS_BY_STATUS: dict[SellerStatus, frozenset[SellerActionKind]] = {
    SellerStatus.trial: frozenset({SellerActionKind.suspend, SellerActionKind.offboard}),
    SellerStatus.active: frozenset(
        {
            SellerActionKind.warn,
            SellerActionKind.limit,
            SellerActionKind.suspend,
            SellerActionKind.offboard,
        }
    ),
    SellerStatus.warned: frozenset(
        {
            SellerActionKind.limit,
            SellerActionKind.suspend,
            SellerActionKind.reinstate,
            SellerActionKind.offboard,
        }
    ),
    SellerStatus.limited: frozenset(
        {SellerActionKind.suspend, SellerActionKind.reinstate, SellerActionKind.offboard}
    ),
    SellerStatus.suspended: frozenset({SellerActionKind.reinstate, SellerActionKind.offboard}),
    SellerStatus.offboarded: frozenset(),
}


def check_seller_decision(state: SellerState, task_id: str, decision: Decision) -> None:
    """Raise Refused unless the task is open on this seller and takes this decision now."""
    kind = state.open_tasks.get(task_id)
    if kind is None:
        raise Refused("TaskNotOpen", "this task is not open any more")
    if decision not in TASK_DECISIONS[kind]:
        allowed = ", ".join(sorted(d.value for d in TASK_DECISIONS[kind]))
        raise Refused("InvalidDecision", f"a {kind.value} task takes one of: {allowed}")
    if kind == TaskKind.appeal_review and decision == Decision.reinstate:
        _check_reinstatement_on_appeal(state)
    if kind != TaskKind.trial_review or decision == Decision.offboard:
        return
    if decision == Decision.extend and state.trial_extended:
        raise Refused(
            "InvalidDecision", "the trial has been extended once already: graduate or offboard"
        )
    if state.status == SellerStatus.suspended:
        raise Refused(
            "StatusConflict",
            "the seller is suspended: decide the trial once it is reinstated, or offboard",
        )


def _check_reinstatement_on_appeal(state: SellerState) -> None:
    """A limit held by a lapsed document is lifted by its renewal, not by a reinstatement
    (which the hold would undo at once): the reviewer upholds, or accepts the new file."""
    gone = renewals.lapsed(state)
    if (
        state.status == SellerStatus.limited
        and state.appeal_against == NoticeDecision.limit
        and gone
    ):
        kinds = ", ".join(r.kind for r in gone)
        raise Refused(
            "StatusConflict",
            f"the limit holds until the lapsed documents are renewed ({kinds}): uphold the "
            "appeal, or accept the seller's new file in its document review",
        )


def check_manual_action(
    state: SellerState, action: SellerActionKind, *, fraud: bool = False
) -> None:
    if action not in MANUAL_ACTIONS_BY_STATUS[state.status]:
        raise Refused(
            "StatusConflict", f"cannot {action.value} a seller whose status is {state.status.value}"
        )
    if action == SellerActionKind.offboard and not fraud and state.notice_ends_at is not None:
        ends = state.notice_ends_at.strftime("%Y-%m-%d %H:%M UTC")
        raise Refused("StatusConflict", f"the offboarding notice already runs until {ends}")
    gone = renewals.lapsed(state)
    if action == SellerActionKind.reinstate and state.status == SellerStatus.limited and gone:
        kinds = ", ".join(r.kind for r in gone)
        raise Refused(
            "StatusConflict", f"the limit holds until the lapsed documents are renewed: {kinds}"
        )


def check_renewal(state: SellerState, kind: str, valid_until: datetime, now: datetime) -> None:
    """Raise Refused unless a new file of `kind` may go to a reviewer now."""
    if (why := renewals.why_no_renewal(state, kind, valid_until, now)) is not None:
        raise Refused("StatusConflict", why)


def check_appeal(state: SellerState, now: datetime, against: NoticeDecision | None = None) -> None:
    """Raise Refused unless an appeal may be filed now, against `against` if it names one."""
    why = can_appeal(state, now)
    if why is not None:
        raise Refused("StatusConflict", why)
    in_force = appealable(state, now)
    if against is not None and state.appeals_any_restriction and against != in_force:
        named = in_force.value if in_force is not None else "none"
        raise Refused(
            "StatusConflict",
            f"this notice ({against.value}) is not the restriction in force to appeal ({named})",
        )


def check_appeal_withdrawal(state: SellerState, appeal_id: str) -> None:
    if state.appeal_task != appeal_task_id(state, appeal_id):
        raise Refused("StatusConflict", "this appeal is not under review")
