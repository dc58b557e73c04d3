"""Sellers: ranking, detail with scorecard and reason records, appeals, manual actions."""

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query
from sqlmodel import Session, col, select

from api.deps import (
    MAX_OFFSET,
    Principal,
    PrincipalDep,
    SessionDep,
    StaffDep,
    TemporalDep,
    require_role,
)
from api.errors import errors
from api.schemas import (
    AppealCreate,
    AppealCreated,
    Page,
    ScorecardPublic,
    SellerActionCreate,
    SellerActionPublic,
    SellerActionResult,
    SellerPublic,
    SellerSummary,
)
from api.workflow_calls import call_workflow, undo_on_failure
from sellerflow.errors import Forbidden, NotFound
from sellerflow.models import Appeal, ScorecardRow, Seller, SellerAction
from sellerflow.payloads import AppealFiledInput, ManualActionInput
from sellerflow.records import count
from sellerflow.vocabulary import Role, SellerCategory, SellerStatus
from workflows.seller import SellerWorkflow

router = APIRouter(prefix="/v1/sellers", tags=["sellers"])


def seller_workflow_id(seller_id: uuid.UUID) -> str:
    return f"seller-{seller_id}"


def _summary(seller: Seller) -> SellerSummary:
    return SellerSummary(
        id=str(seller.id),
        legal_name=seller.legal_name,
        seller_category=seller.seller_category,
        country=seller.country,
        status=seller.status,
        score=seller.score,
        category_percentile=seller.category_percentile,
    )


@router.get("", response_model=Page[SellerSummary], responses=errors(401, 403))
def list_sellers(
    _: StaffDep,
    session: SessionDep,
    status: SellerStatus | None = None,
    category: SellerCategory | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[SellerSummary]:
    conditions: list[sa.ColumnElement[bool]] = []
    if status:
        conditions.append(col(Seller.status) == status.value)
    if category:
        conditions.append(col(Seller.seller_category) == category.value)
    total = count(session, sa.select(sa.func.count()).select_from(Seller).where(*conditions))
    rows = session.exec(
        select(Seller)
        .where(*conditions)
        .order_by(col(Seller.score).desc().nulls_last(), col(Seller.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return Page(data=[_summary(s) for s in rows], count=total, limit=limit, offset=offset)


def seller_for(session: Session, principal: Principal, seller_id: uuid.UUID) -> Seller:
    """The seller if the caller is staff or that seller's own applicant; otherwise 404."""
    seller = session.get(Seller, seller_id)
    if seller is None or (
        not principal.is_staff and principal.application_id != seller.application_id
    ):
        raise NotFound("no seller with this id")
    return seller


@router.get("/{seller_id}", response_model=SellerPublic, responses=errors(401, 404))
def get_seller(seller_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> SellerPublic:
    seller = seller_for(session, principal, seller_id)
    cards = session.exec(select(ScorecardRow).where(ScorecardRow.seller_id == seller.id)).all()
    actions = session.exec(
        select(SellerAction)
        .where(SellerAction.seller_id == seller.id)
        .order_by(SellerAction.created_at)  # type: ignore[arg-type]
    ).all()
    return SellerPublic(
        **_summary(seller).model_dump(),
        application_id=str(seller.application_id),
        ssm=seller.ssm_username,
        capabilities={
            "listing_cap": seller.listing_cap,
            "daily_order_cap": seller.daily_order_cap,
            "payouts_deferred": seller.payouts_deferred,
        },
        standing=seller.standing,
        scorecard=[ScorecardPublic.model_validate(c, from_attributes=True) for c in cards],
        actions=[
            SellerActionPublic(
                at=a.created_at,
                from_status=a.from_status,
                to_status=a.to_status,
                action=a.action,
                actor=a.actor,
                reason=a.reason,
            )
            for a in actions
        ],
    )


@router.post(
    "/{seller_id}/appeals",
    status_code=201,
    response_model=AppealCreated,
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def file_appeal(
    seller_id: uuid.UUID,
    body: AppealCreate,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> AppealCreated:
    seller = seller_for(session, principal, seller_id)
    if principal.is_staff:
        raise Forbidden("only the seller can appeal")
    appeal = Appeal(seller_id=seller.id, **body.model_dump())
    session.add(appeal)
    session.commit()
    handle = temporal.get_workflow_handle(seller_workflow_id(seller.id))
    async with undo_on_failure(session, appeal):
        status = await call_workflow(
            handle.execute_update(
                SellerWorkflow.file_appeal, AppealFiledInput(appeal_id=str(appeal.id))
            )
        )
    return AppealCreated(appeal_id=str(appeal.id), status=status)


@router.post(
    "/{seller_id}/actions",
    response_model=SellerActionResult,
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def manual_action(
    seller_id: uuid.UUID,
    body: SellerActionCreate,
    staff: Annotated[Principal, require_role(Role.ops)],
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> SellerActionResult:
    seller = seller_for(session, staff, seller_id)
    handle = temporal.get_workflow_handle(seller_workflow_id(seller.id))
    status = await call_workflow(
        handle.execute_update(
            SellerWorkflow.manual_action,
            ManualActionInput(
                request_id=idempotency_key or str(uuid.uuid4()),
                action=body.action,
                actor=staff.subject,
                reason=body.reason,
                fraud=body.fraud,
            ),
            # A retry with the same key is the same update: the server answers it once.
            id=f"manual:{staff.subject}:{idempotency_key}" if idempotency_key else None,
        )
    )
    return SellerActionResult(seller_id=str(seller.id), status=status)
