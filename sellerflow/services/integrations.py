"""Service accounts of the systems that feed the marketplace's data in (order ingestion): an API
key per account, random, shown once at creation and stored as its SHA-256 only.

SHA-256 rather than a password hash: the key is 256 random bits, so there is nothing to guess
and no need for a slow hash, and the digest is looked up by its unique index on every call."""

import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Session, select

from sellerflow.errors import Conflict, NotFound
from sellerflow.models import IntegrationKey
from sellerflow.principal import Principal
from sellerflow.tables import INTEGRATION_KEYS

KEY_PREFIX = "sfk_"  # recognisable in a leaked config or a secret scanner's rules
MAX_KEY_LENGTH = 200

ACTIVE_KEY = sa.select(INTEGRATION_KEYS.c.name).where(
    INTEGRATION_KEYS.c.key_sha256 == sa.bindparam("digest"),
    INTEGRATION_KEYS.c.revoked_at.is_(None),
)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str) -> str:
    """A new key for the account `name` (a revoked account gets a fresh one); shown only here."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    found = session.exec(select(IntegrationKey).where(IntegrationKey.name == name)).first()
    if found is not None and found.revoked_at is None:
        raise Conflict(f"integration {name} has a key; revoke it first")
    row = found or IntegrationKey(name=name, key_sha256="")
    row.key_sha256, row.created_at, row.revoked_at = key_digest(key), datetime.now(UTC), None
    session.add(row)
    session.commit()
    return key


def revoke_key(session: Session, name: str) -> None:
    found = session.exec(select(IntegrationKey).where(IntegrationKey.name == name)).first()
    if found is None or found.revoked_at is not None:
        raise NotFound(f"no active integration {name}")
    found.revoked_at = datetime.now(UTC)
    session.add(found)
    session.commit()


def list_keys(session: Session) -> list[IntegrationKey]:
    return list(session.exec(select(IntegrationKey).order_by(IntegrationKey.name)))


async def integration_principal(conn: AsyncConnection, key: str) -> Principal | None:
    """The account an active key belongs to, None for an unknown or revoked key."""
    if len(key) > MAX_KEY_LENGTH:
        return None
    name = (await conn.execute(ACTIVE_KEY, {"digest": key_digest(key)})).scalar()
    return None if name is None else Principal(subject=f"integration:{name}", integration=name)
