"""Staff seller pages: the ranking with filters, counts and paging; a seller's card (scorecard,
reason records, appeals) with the manual-action form for ops."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import MAX_OFFSET, AppState, SessionDep, StateDep, get_temporal
from api.pages.applicant import validation_messages
from api.pages.charts import seller_trends
from api.pages.session import (
    CheckedFormDep,
    OpsPageDep,
    PageRoute,
    PageSession,
    PageSessionDep,
    StaffPageDep,
    readable,
    redirect,
    render,
    text,
)
from api.presenters import action_public, notices_public
from api.schemas import SellerActionCreate, TimelineEntry
from sellerflow.errors import DomainError, Forbidden
from sellerflow.models import Seller, utcnow
from sellerflow.principal import Principal
from sellerflow.services import evidence, history, renewals, sellers
from sellerflow.vocabulary import Role, SellerActionKind, SellerCategory, SellerStatus, Standing

router = APIRouter(prefix="/staff/sellers", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50


@dataclass(frozen=True)
class RankingQuery:
    """The list's filters as the address carries them (`ssm=me` kept as written)."""

    status: SellerStatus | None = None
    standing: Standing | None = None
    category: SellerCategory | None = None
    ssm: str | None = None
    at_risk: bool = False

    def href(self, limit: int, offset: int) -> str:
        params = {k: str(v) for k, v in vars(self).items() if v not in (None, False)}
        if self.at_risk:
            params["at_risk"] = "1"
        if limit != PAGE_SIZE:
            params["limit"] = str(limit)
        if offset:
            params["offset"] = str(offset)
        return "/staff/sellers" + ("?" + urlencode(params) if params else "")


@router.get("")
def ranking(
    request: Request,
    page: PageSessionDep,
    staff: StaffPageDep,
    session: SessionDep,
    status: SellerStatus | None = None,
    standing: Standing | None = None,
    category: SellerCategory | None = None,
    ssm: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    at_risk: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    query = RankingQuery(status, standing, category, ssm, at_risk)
    filters = sellers.SellerFilters(
        status, category, standing, sellers.ssm_named(ssm, staff), at_risk_first=at_risk
    )
    per_status = sellers.status_counts(session, filters)
    total = sum(per_status.values())
    rows, _ = sellers.list_sellers(session, filters, limit=limit, offset=offset, total=total)
    previous = max(0, offset - limit)
    return render(
        request,
        page,
        "staff_sellers.html",
        sellers=rows,
        at_risk=sellers.at_risk_ids(session, [s.id for s in rows]),
        week=sellers.week_changes(session, rows, utcnow()),
        total=total,
        per_status=per_status,
        query=query,
        statuses=list(SellerStatus),
        standings=list(Standing),
        categories=list(SellerCategory),
        first=offset + 1 if rows else 0,
        last=offset + len(rows),
        previous_href=query.href(limit, previous) if offset > 0 else None,
        next_href=query.href(limit, offset + limit) if offset + limit < total else None,
    )


TIMELINE_SHOWN = 100
# The card reads the newest runs of the seller's workflow only (each run is bounded by its
# continue-as-new threshold); the full history is the API's (`GET /v1/sellers/{id}/history`).
TIMELINE_RUNS = 3


async def _timeline(
    state: AppState, session: Session, staff: Principal, seller: Seller
) -> tuple[list[TimelineEntry], int, str | None]:
    """The newest entries of the timeline across every run of the seller's workflow, the runs,
    or why it cannot be shown (the role reads no onboarding, or Temporal is unreachable)."""
    try:
        history.seller_of(session, staff, seller.id)
        temporal = await get_temporal(state)
        found = await history.seller_timeline(session, temporal, seller, TIMELINE_RUNS)
    except DomainError as err:
        return [], 0, readable(err)
    entries = [TimelineEntry(**vars(e)) for e in found.entries]
    return entries[-TIMELINE_SHOWN:][::-1], found.runs, None


async def seller_view(
    request: Request,
    page: PageSession,
    staff: Principal,
    session: Session,
    state: AppState,
    seller_id: uuid.UUID,
) -> Response:
    seller = sellers.seller_for(session, staff, seller_id)
    card = sellers.scorecard(session, seller)
    timeline, runs, timeline_error = await _timeline(state, session, staff, seller)
    return render(
        request,
        page,
        "staff_seller.html",
        seller=seller,
        scorecard=card,
        trends=seller_trends(sellers.trend_of(session, seller), card),
        actions=[action_public(a, for_staff=True) for a in sellers.actions_of(session, seller)],
        appeals=sellers.appeals_of(session, seller),
        evidence_of=lambda appeal_id: evidence.files_of_appeal(session, appeal_id),
        reads_evidence=staff.has(Role.ops, Role.ssm),
        notices=notices_public(session, seller, for_staff=True),
        offboarding=sellers.open_offboarding(session, seller),
        renewals=renewals.renewals_of(session, seller.id),
        timeline=timeline,
        runs=runs,
        timeline_error=timeline_error,
        is_ops=staff.has(Role.ops),
        action_kinds=list(SellerActionKind),
    )


@router.get("/{seller_id}")
async def seller_card(
    seller_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    staff: StaffPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    return await seller_view(request, page, staff, session, state, seller_id)


@router.post("/{seller_id}/actions")
async def manual_action(
    seller_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    # Signed in (else to the login), then the form's token, then the role: a forged post is
    # refused as forged whoever's session it rides on.
    _: StaffPageDep,
    form: CheckedFormDep,
    ops: OpsPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Sent to the seller's workflow as the API does; back to the card with what came of it."""
    seller = sellers.seller_for(session, ops, seller_id)
    card = f"/staff/sellers/{seller.id}"
    try:
        body = SellerActionCreate.model_validate(
            {"action": text(form, "action"), "reason": text(form, "reason")}
            | {"fraud": form.get("fraud") == "on"}
        )
        if sellers.needs_confirmation(body.action, fraud=body.fraud):
            sellers.request_offboarding(session, ops, seller, body.reason, body.model_dump_json())
            asked = "Offboarding asked: another ops member confirms it on this card"
            return redirect(request, page, card, ok=asked)
        temporal = await get_temporal(state)
        status = await sellers.manual_action(
            temporal,
            ops,
            seller,
            action=body.action,
            reason=body.reason,
            fraud=body.fraud,
            request_key=body.model_dump_json(),
        )
    except ValidationError as err:
        return redirect(
            request, page, card, error="Check the form: " + "; ".join(validation_messages(err))
        )
    except DomainError as err:
        return redirect(request, page, card, error=readable(err))
    done = f"Action {body.action.value} recorded: the seller is {status.replace('_', ' ')}"
    return redirect(request, page, card, ok=done)


@router.post("/{seller_id}/offboarding-requests/{request_id}/{decision}")
async def decide_offboarding(
    seller_id: uuid.UUID,
    request_id: uuid.UUID,
    decision: Literal["confirm", "cancel"],
    request: Request,
    page: PageSessionDep,
    _: StaffPageDep,
    form: CheckedFormDep,
    ops: OpsPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Confirm (another ops member than the one who asked) or cancel an offboarding request."""
    seller = sellers.seller_for(session, ops, seller_id)
    card = f"/staff/sellers/{seller.id}"
    try:
        if decision == "cancel":
            sellers.cancel_offboarding(session, ops, seller, request_id)
            return redirect(request, page, card, ok="Offboarding request cancelled")
        temporal = await get_temporal(state)
        status = await sellers.confirm_offboarding(session, temporal, ops, seller, request_id)
    except DomainError as err:
        return redirect(request, page, card, error=readable(err))
    done = f"Offboarding confirmed: notice given, the seller is {status.replace('_', ' ')}"
    return redirect(request, page, card, ok=done)


@router.get("/{seller_id}/evidence/{evidence_id}")
def evidence_download(
    seller_id: uuid.UUID,
    evidence_id: uuid.UUID,
    staff: StaffPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """A file of an appeal, for the staff who review appeals (ops, SSM): a short-lived link."""
    if not staff.has(Role.ops, Role.ssm):
        raise Forbidden("appeal evidence is for the staff who review appeals (ops, SSM)")
    seller = sellers.seller_for(session, staff, seller_id)
    found = evidence.evidence_of(session, seller, evidence_id)
    return RedirectResponse(evidence.download_url(state.store, found), status_code=307)
