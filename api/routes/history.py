"""Readable history of an application, or of a seller, from Temporal and the audit log."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, StaffDep, TemporalDep
from api.errors import errors
from api.schemas import History, RawHistory, SellerHistory, TimelineEntry, WorkflowHistoryJson
from sellerflow.services import history
from sellerflow.services.access import application_for

router = APIRouter(prefix="/v1/applications", tags=["history"])
seller_router = APIRouter(prefix="/v1/sellers", tags=["history"])


@router.get(
    "/{application_id}/history",
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
    if raw:
        histories = await history.application_histories(temporal, app)
        return RawHistory(
            workflows=[
                WorkflowHistoryJson(workflow_id=h.workflow_id, history=h.to_json_dict())
                for h in histories
            ]
        )
    found = await history.application_timeline(session, temporal, app)
    return History(
        application_id=str(app.id),
        workflows=found.workflow_ids,
        timeline=[TimelineEntry(**vars(entry)) for entry in found.entries],
    )


@seller_router.get(
    "/{seller_id}/history",
    responses=errors(401, 403, 404, 503),
)
async def seller_history(
    seller_id: uuid.UUID, staff: StaffDep, session: SessionDep, temporal: TemporalDep
) -> SellerHistory:
    """Every run of the seller's workflow (across continue-as-new) and its audit rows."""
    seller = history.seller_of(session, staff, seller_id)
    found = await history.seller_timeline(session, temporal, seller)
    return SellerHistory(
        seller_id=str(seller.id),
        application_id=str(seller.application_id),
        workflow_id=found.workflow_ids[0],
        runs=found.runs,
        timeline=[TimelineEntry(**vars(entry)) for entry in found.entries],
    )
