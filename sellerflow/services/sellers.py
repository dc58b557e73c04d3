"""Sellers after approval: ranking and detail, appeals against a restriction, manual actions.

The seller's workflow decides; this service stores what a request carries, names the update
after the request (a retry is the same update) and reads back how far the workflow got."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from temporalio.client import Client

from sellerflow.db import count, table_of
from sellerflow.errors import Conflict, Forbidden, InvalidRequest, NotFound, ServiceUnavailable
from sellerflow.models import (
    Appeal,
    AuditLog,
    Notification,
    OffboardingRequest,
    ScorecardRow,
    Seller,
    SellerAction,
    SellerDay,
    SellerNotice,
    SellerStatusCount,
    Task,
    seller_rank,
    utcnow,
)
from sellerflow.payloads import AppealFiledInput, AppealWithdrawnInput, ManualActionInput
from sellerflow.policy.model import Policy, add_duration
from sellerflow.policy.mystery import what_to_fix
from sellerflow.policy.notices import APPEALABLE_NOTICES
from sellerflow.policy.seller_state import task_id_for
from sellerflow.principal import Principal
from sellerflow.services import evidence
from sellerflow.tables import OFFBOARDING_REQUESTS
from sellerflow.vocabulary import (
    Decision,
    SellerActionKind,
    SellerCategory,
    SellerStatus,
    Standing,
    TaskKind,
    TaskStatus,
)
from sellerflow.workflow_calls import call_workflow
from workflows.seller import SellerWorkflow

# Appeal and manual-action ids derived from the request: a retry is the same request.
_REQUEST_IDS = uuid.UUID("0d8b7c1e-52f4-4e36-b0b9-7a6f3e2c9d15")


@dataclass(frozen=True)
class SellerFilters:
    status: SellerStatus | None = None
    category: SellerCategory | None = None
    standing: Standing | None = None
    # The SSM's username: that manager's portfolio.
    ssm: str | None = None
    # Sellers at risk (`at_risk`) before the others, each group best score first.
    at_risk_first: bool = False


@dataclass(frozen=True)
class AppealState:
    appeal: Appeal
    # pending, in_review, the review's decision, refused or closed
    status: str
    decided_at: datetime | None
    reviewer_comment: str | None


def seller_workflow_id(seller_id: uuid.UUID) -> str:
    return f"seller-{seller_id}"


def _request_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(_REQUEST_IDS, json.dumps([str(p) for p in parts]))


# --- reads -----------------------------------------------------------------------------------


def seller_for(session: Session, principal: Principal, seller_id: uuid.UUID) -> Seller:
    """The seller if the caller is staff, that seller's own account or its applicant (the
    application's token, until it expires); otherwise 404."""
    seller = session.get(Seller, seller_id)
    if seller is None or not (
        principal.is_staff
        or principal.seller_id == seller.id
        or principal.application_id == seller.application_id
    ):
        raise NotFound("no seller with this id")
    return seller


def ssm_named(ssm: str | None, staff: Principal) -> str | None:
    """The SSM a filter names: `me` is the staff member asking."""
    return staff.subject if ssm == "me" else ssm


def _conditions(filters: SellerFilters) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.status:
        conditions.append(col(Seller.status) == filters.status.value)
    if filters.category:
        conditions.append(col(Seller.seller_category) == filters.category.value)
    if filters.standing:
        conditions.append(col(Seller.standing) == filters.standing.value)
    if filters.ssm:
        conditions.append(col(Seller.ssm_username) == filters.ssm)
    return conditions


def _noticed() -> sa.Select[uuid.UUID | None]:
    """The sellers sent an offboarding notice with no reinstatement after it (the status does
    not change with a notice: the outbox holds it, and a reinstatement is what withdraws it);
    from `ix_notification_template_seller` (migration 0023)."""
    reinstated = sa.exists().where(
        col(SellerAction.seller_id) == col(Notification.seller_id),
        col(SellerAction.action) == SellerActionKind.reinstate.value,
        col(SellerAction.created_at) > col(Notification.created_at),
    )
    return sa.select(col(Notification.seller_id)).where(
        col(Notification.template) == "offboarding_notice",
        col(Notification.seller_id).is_not(None),  # else NOT IN would be unknown, never true
        ~reinstated,
    )


def _under_notice() -> sa.ColumnElement[bool]:
    """Under an offboarding notice and not offboarded yet."""
    return sa.and_(
        col(Seller.status) != SellerStatus.offboarded.value, col(Seller.id).in_(_noticed())
    )


_BELOW_GOOD = [s.value for s in Standing if s != Standing.good]
_RESTRICTED = [SellerStatus.limited.value, SellerStatus.suspended.value]


def _risks() -> list[sa.ColumnElement[bool]]:
    """What puts a seller at risk, each served by an index: a standing below good, limited or
    suspended, or under an offboarding notice."""
    return [
        col(Seller.standing).in_(_BELOW_GOOD),
        col(Seller.status).in_(_RESTRICTED),
        _under_notice(),
    ]


def at_risk() -> sa.ColumnElement[bool]:
    return sa.or_(*_risks())


def _at_risk_among(conditions: list[sa.ColumnElement[bool]]) -> sa.CompoundSelect[Any]:
    """The ids of the matching sellers at risk, one index read per risk, where one `OR` of them
    is a filter on every matching row: the ranking reads its at-risk range from these ids, a
    few among many, and not by walking its index past every seller who is not at risk."""
    ids = sa.select(col(Seller.id))
    return sa.union(*(ids.where(*conditions, risk) for risk in _risks()))


def _status_only(filters: SellerFilters) -> bool:
    """Whether the counts of these filters are the status counters' (`seller_status_count`,
    kept by triggers on `seller` in the same transaction as each write)."""
    return not (filters.category or filters.standing or filters.ssm)


def _page(
    session: Session,
    conditions: list[sa.ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
) -> list[Seller]:
    """One page in the ranking's order: its ids first, from the index alone (the offset skipped
    there, not over the rows), then those rows."""
    ids = sa.select(col(Seller.id)).where(*conditions).order_by(*seller_rank())
    page = ids.limit(limit).offset(offset).subquery()
    query = select(Seller).join(page, col(Seller.id) == page.c.id).order_by(*seller_rank())
    return list(session.exec(query).all())


def list_sellers(
    session: Session,
    filters: SellerFilters,
    *,
    limit: int,
    offset: int,
    total: int | None = None,
) -> tuple[list[Seller], int]:
    """Best score first (unscored last), then by id; at-risk sellers before the rest if asked
    (each group in that order); and how many match.

    Each page is read from an index in the ranking's order (migration 0023). At risk first is
    two ranges of it: the page's part among the sellers at risk, then its part among the rest,
    where one ordering by an at-risk flag sorted every matching seller. `total`: how many
    match, when the caller has counted them already (`status_counts`)."""
    conditions = _conditions(filters)
    if total is None:
        total = sum(status_counts(session, filters).values())
    if not filters.at_risk_first:
        return _page(session, conditions, limit=limit, offset=offset), total
    risky_ids = _at_risk_among(conditions)
    risky = col(Seller.id).in_(risky_ids)
    rows = _page(session, [risky], limit=limit, offset=offset)
    if len(rows) == limit or offset + len(rows) >= total:
        return rows, total
    # The page reaches past the sellers at risk: how many they are (counted only then).
    at_risk_count = offset + len(rows)
    if not rows:
        at_risk_count = count(session, sa.select(sa.func.count()).select_from(risky_ids.subquery()))
    rest = [*conditions, col(Seller.id).not_in(risky_ids)]
    offset_in_rest = max(0, offset - at_risk_count)
    rows += _page(session, rest, limit=limit - len(rows), offset=offset_in_rest)
    return rows, total


def status_counts(session: Session, filters: SellerFilters) -> dict[str, int]:
    """How many of the matching sellers are in each status (statuses with none left out)."""
    if _status_only(filters):
        counters = table_of(SellerStatusCount)
        query = sa.select(counters.c.status, counters.c.sellers).where(counters.c.sellers > 0)
        if filters.status:
            query = query.where(counters.c.status == filters.status.value)
    else:
        query = (
            sa.select(col(Seller.status), sa.func.count())
            .where(*_conditions(filters))
            .group_by(col(Seller.status))
        )
    found = {str(status): int(n) for status, n in session.execute(query).all()}
    return {s.value: found[s.value] for s in SellerStatus if s.value in found}


def at_risk_ids(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these sellers are at risk (to mark them in a list)."""
    if not ids:
        return set()
    query = sa.select(col(Seller.id)).where(col(Seller.id).in_(ids), at_risk())
    return set(session.execute(query).scalars())


def scorecard(session: Session, seller: Seller) -> list[ScorecardRow]:
    return list(session.exec(select(ScorecardRow).where(ScorecardRow.seller_id == seller.id)))


@dataclass(frozen=True)
class WeekChange:
    """What changed for a seller since a week ago: the standing and score of its day then (None
    when it had no evaluation then), and its status changes since, oldest first."""

    standing_before: str | None
    score_before: float | None
    moves: list[tuple[str, str]]


def week_changes(
    session: Session, listed: list[Seller], now: datetime
) -> dict[uuid.UUID, WeekChange]:
    """For a page of sellers, in two queries: the day a week back, the status changes since."""
    ids = [s.id for s in listed]
    if not ids:
        return {}
    week_ago = now - timedelta(days=7)
    last_before = (
        sa.select(col(SellerDay.seller_id), sa.func.max(col(SellerDay.day)).label("day"))
        .where(col(SellerDay.seller_id).in_(ids), col(SellerDay.day) <= week_ago.date())
        .group_by(col(SellerDay.seller_id))
        .subquery()
    )
    then = {
        row.seller_id: row
        for row in session.execute(
            sa.select(col(SellerDay.seller_id), col(SellerDay.standing), col(SellerDay.score)).join(
                last_before,
                sa.and_(
                    col(SellerDay.seller_id) == last_before.c.seller_id,
                    col(SellerDay.day) == last_before.c.day,
                ),
            )
        )
    }
    moves: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for row in session.execute(
        sa.select(
            col(SellerAction.seller_id), col(SellerAction.from_status), col(SellerAction.to_status)
        )
        .where(col(SellerAction.seller_id).in_(ids), col(SellerAction.created_at) > week_ago)
        .order_by(col(SellerAction.created_at))
    ):
        moves.setdefault(row.seller_id, []).append((str(row.from_status), str(row.to_status)))
    return {
        sid: WeekChange(
            standing_before=str(then[sid].standing) if sid in then else None,
            score_before=then[sid].score if sid in then else None,
            moves=moves.get(sid, []),
        )
        for sid in ids
    }


@dataclass(frozen=True)
class MysteryFinding:
    """A mystery order the lab decided: its outcome and what the seller must fix, by when."""

    decided_at: datetime | None
    outcome: str
    to_fix: list[str]
    fix_by: datetime | None


def mystery_findings(session: Session, policy: Policy, seller: Seller) -> list[MysteryFinding]:
    """The seller's decided mystery orders, newest first; a blocker is fixed within the
    policy's `blocker_fix`, when a follow-up order checks it."""
    tasks = session.exec(
        select(Task)
        .where(
            Task.seller_id == seller.id,
            Task.kind == TaskKind.mystery_order.value,
            col(Task.decision).is_not(None),
        )
        .order_by(col(Task.completed_at).desc())
    ).all()
    found = []
    for task in tasks:
        decided, outcome = task.completed_at, str(task.decision)
        fix_by = None
        if outcome == Decision.blocker.value and decided is not None:
            fix_by = add_duration(decided, policy.durations.blocker_fix)
        found.append(MysteryFinding(decided, outcome, what_to_fix(task.checklist), fix_by))
    return found


def trend_of(session: Session, seller: Seller) -> list[SellerDay]:
    """The seller's daily evaluations, oldest first (the evaluation keeps `HISTORY_DAYS`)."""
    rows = session.exec(
        select(SellerDay).where(SellerDay.seller_id == seller.id).order_by(col(SellerDay.day))
    ).all()
    return list(rows)


def actions_of(session: Session, seller: Seller) -> list[SellerAction]:
    """The seller's status changes, oldest first."""
    rows = session.exec(
        select(SellerAction)
        .where(SellerAction.seller_id == seller.id)
        .order_by(col(SellerAction.created_at))
    ).all()
    return list(rows)


def appeals_of(session: Session, seller: Seller) -> list[AppealState]:
    """The seller's appeals with their status, newest first."""
    rows = session.exec(
        select(Appeal.id)
        .where(Appeal.seller_id == seller.id)
        .order_by(col(Appeal.created_at).desc(), col(Appeal.id))
    ).all()
    return [appeal_state(session, seller, appeal_id) for appeal_id in rows]


def _refusal_recorded(session: Session, seller_id: uuid.UUID, key: str) -> bool:
    """Whether the seller workflow saw this message and refused it when it came to apply it."""
    found = session.exec(
        select(AuditLog.id).where(AuditLog.idempotency_key == f"seller-refused:{seller_id}:{key}")
    ).first()
    return found is not None


def appeal_state(session: Session, seller: Seller, appeal_id: uuid.UUID) -> AppealState:
    """`pending` until the workflow opens its review; `in_review`; then the review's decision,
    `refused` when the workflow refused it, or `closed` (withdrawn or superseded)."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is None or appeal.seller_id != seller.id:
        raise NotFound("no appeal with this id")
    task = session.get(Task, uuid.UUID(task_id_for(str(seller.id), f"appeal-{appeal_id}")))
    if task is not None and task.status == TaskStatus.open.value:
        status = "in_review"
    elif task is not None and task.decision is not None:
        status = task.decision
    elif task is not None:
        status = "closed"
    elif _refusal_recorded(session, seller.id, str(appeal_id)):
        status = "refused"
    else:
        status = "pending"
    return AppealState(
        appeal=appeal,
        status=status,
        decided_at=task.completed_at if task is not None else None,
        reviewer_comment=task.comment if task is not None else None,
    )


# --- writes ----------------------------------------------------------------------------------


async def file_appeal(
    session: Session,
    temporal: Client,
    principal: Principal,
    seller: Seller,
    fields: dict[str, Any],
    request_key: str,
) -> tuple[uuid.UUID, str | None]:
    """The appeal's id and status, None when the workflow is slow to answer (follow it by id).

    `request_key` is the client's Idempotency-Key or the request's body: the same request
    again is the same appeal."""
    if principal.is_staff:
        raise Forbidden("only the seller can appeal")
    named = fields.pop("notice_id", None)
    appeal_id = _request_id(seller.id, request_key)
    stored = session.get(Appeal, appeal_id)
    if stored is not None:
        # The same request again: the notice it was filed against, even if a later one came.
        notice = session.get(SellerNotice, stored.notice_id) if stored.notice_id else None
    else:
        notice = notice_appealed(session, seller, named)
        files = evidence.files_for_appeal(session, seller, list(fields.get("evidence", [])))
        notice_id = notice.id if notice is not None else None
        session.add(Appeal(id=appeal_id, seller_id=seller.id, notice_id=notice_id, **fields))
        session.flush()
        evidence.attach(session, files, appeal_id)
        session.commit()
    handle = temporal.get_workflow_handle(seller_workflow_id(seller.id))
    against = notice.decision if notice is not None else None
    try:
        status = await call_workflow(
            handle.execute_update(
                SellerWorkflow.file_appeal,
                AppealFiledInput(appeal_id=str(appeal_id), against=against),
                id=f"appeal:{appeal_id}",
            )
        )
    except ServiceUnavailable:
        # The workflow may have accepted it: the row stays, and the appeal is followed by id.
        return appeal_id, None
    except (Conflict, InvalidRequest):
        # Refused by the workflow's check before it accepted the appeal: nothing refers to the
        # row. A refusal recorded on apply keeps it, with its audit record.
        if not _refusal_recorded(session, seller.id, str(appeal_id)):
            stored = session.get(Appeal, appeal_id)
            if stored is not None:
                evidence.attach(session, evidence.files_of_appeal(session, appeal_id), None)
                session.flush()
                session.delete(stored)
                session.commit()
        raise
    return appeal_id, status


def notice_appealed(
    session: Session, seller: Seller, notice_id: uuid.UUID | None
) -> SellerNotice | None:
    """The notice an appeal is against: the seller's newest appealable notice, which the one
    named must be (an older one was replaced by it). None for a seller restricted before
    notices were stored: the workflow then takes the appeal against whatever is in force."""
    newest = session.exec(
        select(SellerNotice)
        .where(
            SellerNotice.seller_id == seller.id,
            col(SellerNotice.decision).in_([d.value for d in APPEALABLE_NOTICES]),
        )
        .order_by(col(SellerNotice.issued_at).desc(), col(SellerNotice.id))
        .limit(1)
    ).first()
    if notice_id is None:
        return newest
    named = session.get(SellerNotice, notice_id)
    if named is None or named.seller_id != seller.id:
        raise NotFound("no notice with this id")
    if named.decision not in APPEALABLE_NOTICES:
        raise Conflict(f"a {named.decision.value} notice opens no appeal")
    if newest is not None and newest.id != named.id:
        raise Conflict(f"this notice was followed by a later one ({newest.id}): appeal that one")
    return named


async def withdraw_appeal(
    session: Session, temporal: Client, principal: Principal, seller: Seller, appeal_id: uuid.UUID
) -> str:
    """The seller takes back an open appeal; its review task is closed and its evidence files go
    back to the seller, for the next appeal. Sent again: answered."""
    if principal.is_staff:
        raise Forbidden("only the seller can withdraw its appeal")
    appeal = session.get(Appeal, appeal_id)
    if appeal is None or appeal.seller_id != seller.id:
        raise NotFound("no appeal with this id")
    handle = temporal.get_workflow_handle(seller_workflow_id(seller.id))
    status = await call_workflow(
        handle.execute_update(
            SellerWorkflow.withdraw_appeal,
            AppealWithdrawnInput(appeal_id=str(appeal_id)),
            id=f"appeal-withdrawn:{appeal_id}",
        )
    )
    evidence.attach(session, evidence.files_of_appeal(session, appeal_id), None)
    session.commit()
    return status


async def manual_action(
    temporal: Client,
    staff: Principal,
    seller: Seller,
    *,
    action: SellerActionKind,
    reason: str,
    fraud: bool,
    request_key: str,
    actor: str | None = None,
) -> str:
    """Without an Idempotency-Key the request id is derived from who asks what and why: the
    same action with the same reason, sent again, is answered once, never applied twice.
    `actor`: who the reason record names as deciding (the caller unless given); the request
    id is derived from it, so a request sent again by someone else is still the same one."""
    request_id = str(_request_id(seller.id, actor or staff.subject, request_key))
    handle = temporal.get_workflow_handle(seller_workflow_id(seller.id))
    return await call_workflow(
        handle.execute_update(
            SellerWorkflow.manual_action,
            ManualActionInput(
                request_id=request_id,
                action=action,
                actor=actor or staff.subject,
                reason=reason,
                fraud=fraud,
            ),
            # A retry is the same update: the server answers it once.
            id=f"manual:{request_id}",
        )
    )


# --- offboarding with a second person's confirmation ------------------------------------------


def needs_confirmation(action: SellerActionKind, *, fraud: bool) -> bool:
    """An offboarding without fraud waits for a second ops member (`request_offboarding`)."""
    return action == SellerActionKind.offboard and not fraud


def open_offboarding(session: Session, seller: Seller) -> OffboardingRequest | None:
    return session.exec(
        select(OffboardingRequest).where(
            OffboardingRequest.seller_id == seller.id,
            col(OffboardingRequest.outcome).is_(None),
        )
    ).first()


def request_offboarding(
    session: Session, staff: Principal, seller: Seller, reason: str, request_key: str
) -> OffboardingRequest:
    """An offboarding without fraud waits for a second ops member; the same request again is
    the same request, another one while it is open is 409."""
    if seller.status == SellerStatus.offboarded:
        raise Conflict("the seller is offboarded already")
    request_id = _request_id(seller.id, staff.subject, "offboarding", request_key)
    earlier = session.get(OffboardingRequest, request_id)
    if earlier is not None and earlier.outcome is not None:
        request_id = uuid.uuid4()  # the same request as one decided before: a new one
    pending = open_offboarding(session, seller)
    if pending is not None and pending.id == request_id:
        return pending
    if pending is not None:
        raise Conflict(f"an offboarding asked by {pending.requested_by} waits for confirmation")
    asked = OffboardingRequest(
        id=request_id, seller_id=seller.id, requested_by=staff.subject, reason=reason
    )
    session.add(asked)
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        raise Conflict("another offboarding of this seller waits for confirmation") from None
    return asked


def _pending(session: Session, seller: Seller, request_id: uuid.UUID) -> OffboardingRequest:
    asked = session.get(OffboardingRequest, request_id)
    if asked is None or asked.seller_id != seller.id:
        raise NotFound("no offboarding request with this id")
    if asked.outcome is not None:
        raise Conflict(f"this offboarding request is {asked.outcome} already")
    return asked


def _close(
    session: Session,
    asked: OffboardingRequest,
    staff: Principal,
    outcome: str,
    *,
    unsent_only: bool = False,
) -> bool:
    """Record the request's outcome, unless another was recorded meanwhile (or, `unsent_only`,
    a confirmation was sent meanwhile): one conditional statement, so of two ops members
    deciding at once one wins and the other is told. Who confirmed first stays who decided."""
    table = OFFBOARDING_REQUESTS
    closing = sa.update(table).where(table.c.id == asked.id, table.c.outcome.is_(None))
    if unsent_only:
        closing = closing.where(table.c.decided_by.is_(None))
    done = session.connection().execute(
        closing.values(
            outcome=outcome,
            decided_at=utcnow(),
            decided_by=sa.func.coalesce(table.c.decided_by, staff.subject),
        )
    )
    session.commit()
    session.refresh(asked)
    return done.rowcount == 1


def _send_confirmation(session: Session, asked: OffboardingRequest, staff: Principal) -> None:
    """Record who confirms before the offboarding is sent (once: a confirmation sent again keeps
    the first confirmer); 409 when the request was closed meanwhile."""
    table = OFFBOARDING_REQUESTS
    session.connection().execute(
        sa.update(table)
        .where(table.c.id == asked.id, table.c.outcome.is_(None), table.c.decided_by.is_(None))
        .values(decided_by=staff.subject)
    )
    session.commit()
    session.refresh(asked)
    if asked.outcome is not None:
        raise Conflict(f"this offboarding request is {asked.outcome} already")


async def confirm_offboarding(
    session: Session, temporal: Client, staff: Principal, seller: Seller, request_id: uuid.UUID
) -> str:
    """Four eyes: another ops member confirms, and the offboarding (with notice) goes to the
    seller's workflow in the name of the one who asked; a refusal there closes the request.

    The confirmation is recorded (`decided_by`) before it is sent: when the workflow is slow
    to answer (503) it may have applied it, so the request stays open but can no longer be
    cancelled; confirmed again, it is the same update, applied at most once."""
    asked = _pending(session, seller, request_id)
    if asked.requested_by == staff.subject:
        raise Conflict("four eyes: another ops member confirms the offboarding you asked for")
    _send_confirmation(session, asked, staff)
    try:
        status = await manual_action(
            temporal,
            staff,
            seller,
            action=SellerActionKind.offboard,
            # Who confirmed stays on the request, for staff: the seller is told what, not who.
            reason=asked.reason,
            fraud=False,
            request_key=f"offboarding-request:{asked.id}",
            actor=asked.requested_by,
        )
    except (Conflict, InvalidRequest):
        _close(session, asked, staff, "refused")
        raise
    _close(session, asked, staff, "confirmed")
    return status


def cancel_offboarding(
    session: Session, staff: Principal, seller: Seller, request_id: uuid.UUID
) -> None:
    """Anyone of ops cancels a request until its confirmation was sent to the workflow."""
    asked = _pending(session, seller, request_id)
    if asked.decided_by is None and _close(session, asked, staff, "cancelled", unsent_only=True):
        return
    if asked.outcome is not None:
        raise Conflict(f"this offboarding request is {asked.outcome} already")
    raise Conflict(
        f"{asked.decided_by} confirmed this offboarding and it was sent to the seller's "
        "workflow: confirm it again to learn the answer"
    )
