"""Order outcomes from the marketplace: stored idempotently by order id, the latest wins."""

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from sellerflow.db import table_of
from sellerflow.errors import Forbidden, InvalidRequest
from sellerflow.models import OrderEvent, Seller, utcnow
from sellerflow.principal import Principal
from sellerflow.vocabulary import Role

MAX_BATCH = 10_000


def check_may_post(caller: Principal, size: int) -> None:
    """Ops (manual corrections) and the integration accounts post order events."""
    if caller.integration is None and not (caller.is_staff and caller.has(Role.ops)):
        raise Forbidden("needs role ops (or an integration key)")
    if size > MAX_BATCH:
        raise InvalidRequest(f"at most {MAX_BATCH} events per call")


def record(
    session: Session, events: list[tuple[int, dict[str, Any]]]
) -> tuple[int, list[dict[str, Any]]]:
    """Store valid events (index, fields) of a batch; how many were kept, and the rows refused
    for naming an unknown seller."""
    known = _known_sellers(session, {str(fields["seller_id"]) for _, fields in events})
    rejected: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    for index, fields in events:
        if fields["seller_id"] not in known:
            rejected.append(
                {"index": index, "order_id": fields["order_id"], "errors": ["unknown seller"]}
            )
            continue
        # The last event of an order in a batch wins, as a later call would.
        latest[fields["order_id"]] = {
            **fields,
            "seller_id": uuid.UUID(fields["seller_id"]),
            "updated_at": utcnow(),
        }
    values = list(latest.values())
    if values:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = table_of(OrderEvent)
        for start in range(0, len(values), 1000):
            statement = insert(table).values(values[start : start + 1000])
            updated = {
                c.name: statement.excluded[c.name] for c in table.columns if c.name != "order_id"
            }
            session.execute(
                statement.on_conflict_do_update(index_elements=["order_id"], set_=updated)
            )
        session.commit()
    return len(values), rejected


def _known_sellers(session: Session, ids: set[str]) -> set[str]:
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
