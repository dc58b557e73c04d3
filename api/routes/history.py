"""Readable history of an application, or of a seller, from Temporal and the audit log."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, StaffDep, TemporalDep, application_for
from api.errors import errors
from api.schemas import History, RawHistory, SellerHistory, TimelineEntry, WorkflowHistoryJson
from api.workflow_calls import call_workflow
from sellerflow.errors import NotFound
from sellerflow.history import (
    application_workflows,
    fetch_histories,
    inbox_entries,
    merge,
    seller_audit_entries,
)
from sellerflow.models import Seller

router = APIRouter(prefix="/v1/applications", tags=["history"])
seller_router = APIRouter(prefix="/v1/sellers", tags=["history"])


@router.get(
    "/{application_id}/history",
    response_model=History | RawHistory,
    responses={
        **errors(401, 403, 404, 503),
        200: {"description": "the timeline; with ?raw=1 the replayable JSON"},
    },
)
async def application_history(
    application_id: uuid.UUID,
    staff: StaffDep,
    session: SessionDep,
    temporal: TemporalDep,
    raw: Annotated[bool, Query(description="replayable history JSON instead")] = False,
) -> History | RawHistory:
    app = application_for(session, staff, application_id)
    workflow_ids = application_workflows(app)
    histories = await call_workflow(fetch_histories(temporal, workflow_ids))
    if raw:
        return RawHistory(
            workflows=[
                WorkflowHistoryJson(workflow_id=h.workflow_id, history=h.to_json_dict())
                for h in histories
            ]
        )
    entries = merge(histories, inbox_entries(session, app))
    return History(
        application_id=str(app.id),
        workflows=workflow_ids,
        timeline=[TimelineEntry(**vars(entry)) for entry in entries],
    )


@seller_router.get(
    "/{seller_id}/history",
    response_model=SellerHistory,
    responses=errors(401, 403, 404, 503),
)
async def seller_history(
    seller_id: uuid.UUID, _: StaffDep, session: SessionDep, temporal: TemporalDep
) -> SellerHistory:
    """Every run of the seller's workflow (across continue-as-new) and its audit rows."""
    seller = session.get(Seller, seller_id)
    if seller is None:
        raise NotFound("no seller with this id")
    workflow_id = f"seller-{seller.id}"
    histories = await call_workflow(fetch_histories(temporal, [workflow_id]))
    entries = merge(histories, seller_audit_entries(session, seller))
    return SellerHistory(
        seller_id=str(seller.id),
        application_id=str(seller.application_id),
        workflow_id=workflow_id,
        runs=len(histories),
        timeline=[TimelineEntry(**vars(entry)) for entry in entries],
    )
