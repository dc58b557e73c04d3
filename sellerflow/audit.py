"""The append-only audit log: who did what to which record, from what to what, and why.

Every row is chained: `hash` is SHA-256 over the row's canonical content and the previous
row's hash (`prev_hash`), so editing or deleting a row breaks the chain at that row.
`python -m sellerflow.cli.audit verify` walks the chain and names the first broken row.

Appends are serialized by the one-row `audit_chain_head` table: an append first *writes* that
row (a no-op UPDATE) and reads the head hash it returns (UPDATE ... RETURNING, one statement).
On PostgreSQL the UPDATE takes the row lock, so a concurrent append waits until this
transaction commits and then updates, and returns, the newest committed version of the row.
On SQLite the UPDATE takes the database's single write lock, so no other writer can move the
head until this transaction ends.
The lock is held until the surrounding transaction commits; audited writes are few and short.
A unique `prev_hash` is the safety net: two rows can never follow the same predecessor.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow.db import connection_of, table_of
from sellerflow.models import AuditChainHead, AuditLog, utcnow

GENESIS_HASH = "0" * 64


# The columns a row's hash covers (with its predecessor's hash).
HASHED = (
    "at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
    "reason",
    "idempotency_key",
)


def content_hash(content: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 of a row's canonical JSON content (`HASHED`) and its predecessor's hash."""
    canonical = {name: content[name] for name in HASHED}
    canonical["at"] = content["at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical["prev_hash"] = prev_hash
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def row_hash(row: object, prev_hash: str) -> str:
    """`content_hash` of an `AuditLog` (or anything with its columns as attributes)."""
    return content_hash({name: getattr(row, name) for name in HASHED}, prev_hash)


# Plain statements, built once: every audited write runs them (no ORM rows, no rebuilt keys).
AUDIT: sa.Table = table_of(AuditLog)
HEAD: sa.Table = table_of(AuditChainHead)
_EXISTS = sa.select(AUDIT.c.id).where(AUDIT.c.idempotency_key == sa.bindparam("key"))
# The lock (see the module docstring) and the newest hash, in one statement.
_LOCK_HEAD = (
    sa.update(HEAD)
    .where(HEAD.c.id == 1)
    .values(last_hash=HEAD.c.last_hash)
    .returning(HEAD.c.last_hash)
)
_START_CHAIN = sa.insert(HEAD).values(id=1, last_hash=GENESIS_HASH)
_APPEND = sa.insert(AUDIT).returning(AUDIT.c.id)
_MOVE_HEAD = (
    sa.update(HEAD)
    .where(HEAD.c.id == 1)
    .values(last_id=sa.bindparam("row_id"), last_hash=sa.bindparam("row_hash"))
)


def _lock_head(conn: sa.Connection) -> str:
    """Take the chain lock (see the module docstring) and return the newest hash."""
    locked = conn.execute(_LOCK_HEAD).scalar_one_or_none()
    if locked is None:
        # A database built without the migration (which creates the head): start the chain.
        # A concurrent first append fails on the primary key and its activity retries.
        conn.execute(_START_CHAIN)
        return GENESIS_HASH
    return str(locked)


def record(
    db: Session | sa.Connection,
    *,
    key: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before: str | None = None,
    after: str | None = None,
    reason: str = "",
    at: datetime | None = None,
    new_key: bool = False,
) -> None:
    """Append one row; a row with the same key (a retried activity) is not written twice.

    `new_key`: the caller knows no row has this key (it was made in this same transaction
    together with a record that was new), so the check is skipped.
    """
    conn = connection_of(db)
    # Checked before the lock, which every append waits for: a retry that finds its row leaves
    # at once, and two appends with one key cannot both insert (the key is unique).
    if not new_key and conn.execute(_EXISTS, {"key": key}).first():
        return
    prev_hash = _lock_head(conn)
    row = {
        "idempotency_key": key,
        "at": at or utcnow(),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "before": before,
        "after": after,
        "reason": reason[:4000],
    }
    digest = content_hash(row, prev_hash)
    row_id = conn.execute(_APPEND, {**row, "prev_hash": prev_hash, "hash": digest}).scalar_one()
    conn.execute(_MOVE_HEAD, {"row_id": row_id, "row_hash": digest})


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    broken_row: int | None = None
    problem: str = ""


def verify_rows(rows: Iterable[AuditLog], head: AuditChainHead | None) -> Verdict:
    """Check each row's hash and link, oldest first, then that the head names the last row."""
    expected_prev, last_id, count = GENESIS_HASH, None, 0
    for row in rows:
        count += 1
        if row.prev_hash != expected_prev:
            where = f"row {last_id}" if last_id is not None else "the start of the chain"
            return Verdict(
                False,
                count,
                row.id,
                f"prev_hash does not match {where}: a row before it was deleted or rewritten",
            )
        if row_hash(row, row.prev_hash) != row.hash:
            return Verdict(False, count, row.id, "content does not match its hash: row edited")
        expected_prev, last_id = row.hash, row.id
    if head is not None and head.last_hash != expected_prev:
        return Verdict(
            False,
            count,
            head.last_id,
            "the chain head names a row that is missing: rows at the end were deleted",
        )
    return Verdict(True, count)


def verify(session: Session) -> Verdict:
    rows = session.exec(
        select(AuditLog).order_by(col(AuditLog.id)).execution_options(yield_per=1000)
    )
    return verify_rows(rows, session.get(AuditChainHead, 1))
