"""Statements of reasons as stored records: written once per restriction, in the transaction
of the change they announce, and read back for the seller and for staff."""

import uuid

import sqlalchemy as sa

from sellerflow.db import insert_once
from sellerflow.policy.notices import Statement
from sellerflow.tables import SELLER_NOTICES, SELLERS

# Notice ids derive from the change's key: a retried activity stores the same notice.
_NOTICE_IDS = uuid.UUID("3c0f5d7a-8e21-4b6c-9a47-1d2e3f405162")


def notice_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_NOTICE_IDS, key)


def record(conn: sa.Connection, seller_id: uuid.UUID, key: str, notice: Statement) -> bool:
    """Store the notice of the change keyed `key` (False: stored before), with the policy
    version the seller runs under: the rules it was decided by."""
    version = conn.execute(
        sa.select(SELLERS.c.policy_version).where(SELLERS.c.id == seller_id)
    ).scalar()
    return insert_once(
        conn,
        SELLER_NOTICES,
        "idempotency_key",
        {
            "id": notice_id(key),
            "seller_id": seller_id,
            "idempotency_key": key,
            "decision": notice.decision.value,
            "actor": notice.actor,
            "issued_at": notice.issued_at,
            "ends_at": notice.ends_at,
            "statement": notice.model_dump(mode="json"),
            "policy_version": version,
        },
    )


def notices_of(
    conn: sa.Connection, seller_id: uuid.UUID
) -> list[tuple[uuid.UUID, Statement, str | None]]:
    """The seller's notices with their ids and the policy version each was decided under (none
    before migration 0026), newest first."""
    rows = conn.execute(
        sa.select(SELLER_NOTICES.c.id, SELLER_NOTICES.c.statement, SELLER_NOTICES.c.policy_version)
        .where(SELLER_NOTICES.c.seller_id == seller_id)
        .order_by(SELLER_NOTICES.c.issued_at.desc(), SELLER_NOTICES.c.id)
    )
    return [(row.id, Statement.model_validate(row.statement), row.policy_version) for row in rows]
