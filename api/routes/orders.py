"""Order outcomes from the marketplace, in batches, idempotent by order id."""

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from api.deps import IntegrationOrPrincipalDep, SessionDep
from api.errors import errors
from api.schemas import OrderEventBody, OrderEventsResult, RejectedEvent
from sellerflow.services import orders

router = APIRouter(prefix="/v1/order-events", tags=["orders"])


@router.post("", response_model_exclude_none=True, responses=errors(401, 403, 422))
def post_order_events(
    rows: list[dict[str, Any]], caller: IntegrationOrPrincipalDep, session: SessionDep
) -> OrderEventsResult:
    """Each row is checked alone: invalid rows are reported by index, valid ones are kept.
    Callers: an integration's `X-Api-Key`, or an ops member's bearer token."""
    orders.check_may_post(caller, len(rows))
    valid: list[tuple[int, dict[str, Any]]] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(rows):
        try:
            valid.append((index, OrderEventBody.model_validate(raw).model_dump()))
        except ValidationError as err:
            rejected.append({"index": index, "errors": [e["msg"] for e in err.errors()]})
    accepted, unknown = orders.record(session, valid)
    refused = [RejectedEvent.model_validate(r) for r in rejected + unknown]
    return OrderEventsResult(accepted=accepted, rejected=refused)
