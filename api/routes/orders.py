"""Order outcomes from the marketplace, in batches, idempotent by order id."""

import uuid
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from api.deps import SessionDep, StaffDep
from api.errors import errors
from api.schemas import OrderEventBody, OrderEventsResult
from sellerflow.errors import Forbidden, InvalidRequest
from sellerflow.models import OrderEvent, Seller, utcnow
from sellerflow.vocabulary import Role

router = APIRouter(prefix="/v1/order-events", tags=["orders"])
MAX_BATCH = 10_000


@router.post("", response_model=OrderEventsResult, responses=errors(401, 403, 422))
def post_order_events(
    rows: list[dict[str, Any]], staff: StaffDep, session: SessionDep
) -> OrderEventsResult:
    """Each row is checked alone: invalid rows are reported by index, valid ones are kept."""
    if not staff.has(Role.ops):
        raise Forbidden("needs role ops (or the integration account)")
    if len(rows) > MAX_BATCH:
        raise InvalidRequest(f"at most {MAX_BATCH} events per call")
    valid: list[tuple[int, OrderEventBody]] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(rows):
        try:
            valid.append((index, OrderEventBody.model_validate(raw)))
        except ValidationError as err:
            rejected.append({"index": index, "errors": [e["msg"] for e in err.errors()]})
    known = _known_sellers(session, {event.seller_id for _, event in valid})
    latest: dict[str, dict[str, Any]] = {}
    for index, event in valid:
        if event.seller_id not in known:
            rejected.append(
                {"index": index, "order_id": event.order_id, "errors": ["unknown seller"]}
            )
            continue
        # The last event of an order in a batch wins, as a later call would.
        latest[event.order_id] = {
            **event.model_dump(),
            "seller_id": uuid.UUID(event.seller_id),
            "updated_at": utcnow(),
        }
    values = list(latest.values())
    if values:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = OrderEvent.__table__  # type: ignore[attr-defined]
        for start in range(0, len(values), 1000):
            statement = insert(table).values(values[start : start + 1000])
            updated = {
                c.name: statement.excluded[c.name] for c in table.columns if c.name != "order_id"
            }
            session.execute(
                statement.on_conflict_do_update(index_elements=["order_id"], set_=updated)
            )
        session.commit()
    return OrderEventsResult(accepted=len(values), rejected=rejected)


def _known_sellers(session: SessionDep, ids: set[str]) -> set[str]:
    parsed = set()
    for value in ids:
        try:
            parsed.add(uuid.UUID(value))
        except ValueError:
            continue
    if not parsed:
        return set()
    found = session.execute(sa.select(col(Seller.id)).where(col(Seller.id).in_(parsed)))
    return {str(row[0]) for row in found}
