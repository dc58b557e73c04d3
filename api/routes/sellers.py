"""Sellers: ranking, detail with scorecard and reason records, appeals, manual actions."""

import json
import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Response
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
    AppealPublic,
    Page,
    ScorecardPublic,
    SellerActionCreate,
    SellerActionPublic,
    SellerActionResult,
    SellerPublic,
    SellerSummary,
)
from api.workflow_calls import call_workflow
from sellerflow.db import count
from sellerflow.errors import Conflict, Forbidden, InvalidRequest, NotFound, ServiceUnavailable
from sellerflow.models import Appeal, AuditLog, ScorecardRow, Seller, SellerAction, Task
from sellerflow.payloads import AppealFiledInput, AppealWithdrawnInput, ManualActionInput
from sellerflow.policy.seller_state import task_id_for
from sellerflow.vocabulary import Role, SellerCategory, SellerStatus, TaskStatus
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


# Appeal and manual-action ids derived from the request: a retry is the same request.
_REQUEST_IDS = uuid.UUID("0d8b7c1e-52f4-4e36-b0b9-7a6f3e2c9d15")


def _request_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(_REQUEST_IDS, json.dumps([str(p) for p in parts]))


def _refusal_recorded(session: Session, seller_id: uuid.UUID, key: str) -> bool:
    """Whether the seller workflow saw this message and refused it when it came to apply it."""
    found = session.exec(
        select(AuditLog.id).where(AuditLog.idempotency_key == f"seller-refused:{seller_id}:{key}")
    ).first()
    return found is not None


@router.post(
    "/{seller_id}/appeals",
    status_code=201,
    response_model=AppealCreated,
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
    if principal.is_staff:
        raise Forbidden("only the seller can appeal")
    appeal_id = _request_id(seller.id, idempotency_key or body.model_dump_json())
    if session.get(Appeal, appeal_id) is None:
        session.add(Appeal(id=appeal_id, seller_id=seller.id, **body.model_dump()))
        session.commit()
    handle = temporal.get_workflow_handle(seller_workflow_id(seller.id))
    try:
        status = await call_workflow(
            handle.execute_update(
                SellerWorkflow.file_appeal,
                AppealFiledInput(appeal_id=str(appeal_id)),
                id=f"appeal:{appeal_id}",
            )
        )
    except ServiceUnavailable:
        # The workflow may have accepted it: the row stays, and the appeal is followed by id.
        response.status_code = 202
        return AppealCreated(appeal_id=str(appeal_id), status="pending")
    except (Conflict, InvalidRequest):
        # Refused by the workflow's check before it accepted the appeal: nothing refers to the
        # row. A refusal recorded on apply keeps it, with its audit record.
        if not _refusal_recorded(session, seller.id, str(appeal_id)):
            stored = session.get(Appeal, appeal_id)
            if stored is not None:
                session.delete(stored)
                session.commit()
        raise
    return AppealCreated(appeal_id=str(appeal_id), status=status)


@router.get(
    "/{seller_id}/appeals/{appeal_id}",
    response_model=AppealPublic,
    responses=errors(401, 404),
)
def get_appeal(
    seller_id: uuid.UUID, appeal_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> AppealPublic:
    """`pending` until the workflow opens its review; `in_review`; then the review's decision,
    `refused` when the workflow refused it, or `closed` (withdrawn or superseded)."""
    seller = seller_for(session, principal, seller_id)
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
    return AppealPublic(
        appeal_id=str(appeal.id),
        status=status,
        filed_at=appeal.created_at,
        decided_at=task.completed_at if task is not None else None,
        reviewer_comment=task.comment if task is not None else None,
    )


@router.post(
    "/{seller_id}/appeals/{appeal_id}/withdraw",
    response_model=AppealCreated,
    responses=errors(401, 403, 404, 409, 503),
)
async def withdraw_appeal(
    seller_id: uuid.UUID,
    appeal_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> AppealCreated:
    """The seller takes back an open appeal; its review task is closed. Sent again: answered."""
    seller = seller_for(session, principal, seller_id)
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
    return AppealCreated(appeal_id=str(appeal_id), status=status)


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
    """Without an Idempotency-Key the request id is derived from who asks what and why: the
    same action with the same reason, sent again, is answered once, never applied twice."""
    seller = seller_for(session, staff, seller_id)
    request_id = str(
        _request_id(seller.id, staff.subject, idempotency_key or body.model_dump_json())
    )
    handle = temporal.get_workflow_handle(seller_workflow_id(seller.id))
    status = await call_workflow(
        handle.execute_update(
            SellerWorkflow.manual_action,
            ManualActionInput(
                request_id=request_id,
                action=body.action,
                actor=staff.subject,
                reason=body.reason,
                fraud=body.fraud,
            ),
            # A retry is the same update: the server answers it once.
            id=f"manual:{request_id}",
        )
    )
    return SellerActionResult(seller_id=str(seller.id), status=status)
