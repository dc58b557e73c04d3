"""Sellers: ranking, detail with scorecard and reason records, appeals, manual actions."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from api.deps import (
    MAX_OFFSET,
    PrincipalDep,
    SessionDep,
    StaffDep,
    StateDep,
    TemporalDep,
    require_role,
)
from api.errors import errors
from api.presenters import (
    action_public,
    evidence_public,
    notices_public,
    offboarding_public,
    pending_offboarding,
    seller_summary,
)
from api.schemas import (
    AppealCreate,
    AppealCreated,
    AppealPublic,
    CapabilitiesPublic,
    ErasureRequested,
    MysteryFindingPublic,
    Page,
    ScorecardPublic,
    SellerActionCreate,
    SellerActionResult,
    SellerDayPublic,
    SellerPublic,
    SellerSummary,
)
from sellerflow.models import utcnow
from sellerflow.principal import Principal
from sellerflow.services import evidence, retention, sellers
from sellerflow.services.sellers import seller_for
from sellerflow.vocabulary import Role, SellerCategory, SellerStatus, Standing

router = APIRouter(prefix="/v1/sellers", tags=["sellers"])


@router.get("", responses=errors(401, 403, 422))
def list_sellers(
    staff: StaffDep,
    session: SessionDep,
    status: SellerStatus | None = None,
    category: SellerCategory | None = None,
    standing: Standing | None = None,
    ssm: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    at_risk: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[SellerSummary]:
    """`ssm=me` is the caller's portfolio; `at_risk=true` puts the sellers at risk first."""
    filters = sellers.SellerFilters(
        status, category, standing, sellers.ssm_named(ssm, staff), at_risk_first=at_risk
    )
    rows, total = sellers.list_sellers(session, filters, limit=limit, offset=offset)
    return Page(data=[seller_summary(s) for s in rows], count=total, limit=limit, offset=offset)


@router.get("/{seller_id}", responses=errors(401, 404))
def get_seller(
    seller_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> SellerPublic:
    seller = seller_for(session, principal, seller_id)
    return SellerPublic(
        **seller_summary(seller).model_dump(),
        application_id=str(seller.application_id),
        ssm=seller.ssm_username,
        policy_version=seller.policy_version,
        capabilities=CapabilitiesPublic(
            listing_cap=seller.listing_cap,
            daily_order_cap=seller.daily_order_cap,
            payouts_deferred=seller.payouts_deferred,
        ),
        standing=seller.standing,
        scorecard=[
            ScorecardPublic.model_validate(c, from_attributes=True)
            for c in sellers.scorecard(session, seller)
        ],
        actions=[
            action_public(a, for_staff=principal.is_staff)
            for a in sellers.actions_of(session, seller)
        ],
        notices=notices_public(session, seller, for_staff=principal.is_staff),
        offboarding_request=pending_offboarding(session, seller, principal),
        mystery_orders=[
            MysteryFindingPublic(**vars(found))
            for found in sellers.mystery_findings(session, state.policy, seller)
        ],
        trend=[
            SellerDayPublic.model_validate(day, from_attributes=True)
            for day in sellers.trend_of(session, seller)
        ],
    )


@router.post(
    "/{seller_id}/appeals",
    status_code=201,
    responses={**errors(401, 403, 404, 409, 422, 503), 202: {"description": "being opened"}},
)
async def file_appeal(
    seller_id: uuid.UUID,
    body: AppealCreate,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> AppealCreated:
    """201 with the appeal's status; 202 (status `pending`) when the workflow is slow to answer:
    `GET .../appeals/{appeal_id}` follows it. The same request again is the same appeal."""
    seller = seller_for(session, principal, seller_id)
    request_key = idempotency_key or body.model_dump_json()
    appeal_id, status = await sellers.file_appeal(
        session, temporal, principal, seller, body.model_dump(), request_key
    )
    if status is None:
        response.status_code = 202
    return AppealCreated(appeal_id=str(appeal_id), status=status or "pending")


@router.get("/{seller_id}/appeals/{appeal_id}", responses=errors(401, 404))
def get_appeal(
    seller_id: uuid.UUID, appeal_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> AppealPublic:
    seller = seller_for(session, principal, seller_id)
    found = sellers.appeal_state(session, seller, appeal_id)
    return AppealPublic(
        appeal_id=str(found.appeal.id),
        status=found.status,
        filed_at=found.appeal.created_at,
        decided_at=found.decided_at,
        reviewer_comment=found.reviewer_comment,
        notice_id=str(found.appeal.notice_id) if found.appeal.notice_id else None,
        evidence=[evidence_public(e) for e in evidence.files_of_appeal(session, found.appeal.id)],
    )


@router.post("/{seller_id}/appeals/{appeal_id}/withdraw", responses=errors(401, 403, 404, 409, 503))
async def withdraw_appeal(
    seller_id: uuid.UUID,
    appeal_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> AppealCreated:
    """The seller takes back an open appeal; its review task is closed. Sent again: answered."""
    seller = seller_for(session, principal, seller_id)
    status = await sellers.withdraw_appeal(session, temporal, principal, seller, appeal_id)
    return AppealCreated(appeal_id=str(appeal_id), status=status)


@router.post(
    "/{seller_id}/actions",
    responses={**errors(401, 403, 404, 409, 422, 503), 202: {"description": "to be confirmed"}},
)
async def manual_action(
    seller_id: uuid.UUID,
    body: SellerActionCreate,
    staff: Annotated[Principal, require_role(Role.ops)],
    session: SessionDep,
    temporal: TemporalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> SellerActionResult:
    """An offboarding without fraud is 202 with the request another ops member confirms."""
    seller = seller_for(session, staff, seller_id)
    request_key = idempotency_key or body.model_dump_json()
    if sellers.needs_confirmation(body.action, fraud=body.fraud):
        asked = sellers.request_offboarding(session, staff, seller, body.reason, request_key)
        response.status_code = 202
        return SellerActionResult(
            seller_id=str(seller.id),
            status=seller.status.value,
            offboarding_request=offboarding_public(asked),
        )
    status = await sellers.manual_action(
        temporal,
        staff,
        seller,
        action=body.action,
        reason=body.reason,
        fraud=body.fraud,
        request_key=request_key,
    )
    return SellerActionResult(seller_id=str(seller.id), status=status)


@router.post(
    "/{seller_id}/offboarding-requests/{request_id}/confirm",
    responses=errors(401, 403, 404, 409, 503),
)
async def confirm_offboarding(
    seller_id: uuid.UUID,
    request_id: uuid.UUID,
    staff: Annotated[Principal, require_role(Role.ops)],
    session: SessionDep,
    temporal: TemporalDep,
) -> SellerActionResult:
    """Another ops member than the one who asked: the offboarding notice is given."""
    seller = seller_for(session, staff, seller_id)
    status = await sellers.confirm_offboarding(session, temporal, staff, seller, request_id)
    return SellerActionResult(seller_id=str(seller.id), status=status)


@router.post(
    "/{seller_id}/offboarding-requests/{request_id}/cancel",
    responses=errors(401, 403, 404, 409),
)
def cancel_offboarding(
    seller_id: uuid.UUID,
    request_id: uuid.UUID,
    staff: Annotated[Principal, require_role(Role.ops)],
    session: SessionDep,
) -> SellerActionResult:
    seller = seller_for(session, staff, seller_id)
    sellers.cancel_offboarding(session, staff, seller, request_id)
    return SellerActionResult(seller_id=str(seller.id), status=seller.status.value)


@router.post("/{seller_id}/erasure", status_code=202, responses=errors(401, 403, 404, 409))
def request_erasure(
    seller_id: uuid.UUID,
    staff: Annotated[Principal, require_role(Role.ops)],
    session: SessionDep,
) -> ErasureRequested:
    """A departed seller's personal data and files are erased by the next daily retention run
    (202); asked again, the first request stands. 409 unless the seller is offboarded."""
    seller = seller_for(session, staff, seller_id)
    asked = retention.request_seller_erasure(session, seller, staff.subject, utcnow())
    assert asked.erasure_requested_at is not None
    return ErasureRequested(
        seller_id=str(asked.id),
        erasure_requested_at=asked.erasure_requested_at,
        erasure_requested_by=asked.erasure_requested_by or staff.subject,
    )
