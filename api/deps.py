"""Typed dependencies: settings, database session, object store, Temporal client, principal."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import Session
from temporalio.client import Client

from sellerflow.config import Settings
from sellerflow.errors import Forbidden, ServiceUnavailable, Unauthorized
from sellerflow.policy.model import Policy
from sellerflow.principal import Principal
from sellerflow.security import read_token
from sellerflow.services.auth import STAFF_MEMBER, staff_member, staff_principal
from sellerflow.services.integrations import integration_principal
from sellerflow.services.seller_accounts import ACCOUNT_OF_TOKEN, account_id_of, seller_principal
from sellerflow.services.seller_accounts import TOKEN_KIND as SELLER_TOKEN
from sellerflow.storage import ObjectStore
from sellerflow.temporal import connect
from sellerflow.vocabulary import Role


@dataclass
class AppState:
    settings: Settings
    engine: sa.Engine
    store: ObjectStore
    policy: Policy
    # The frequent reads that are served on the event loop, without a thread per request.
    reads: AsyncEngine
    temporal: Client | None = None
    extras: dict[str, object] = field(default_factory=dict)
    # Fewer than the engine's pool holds (5 + 10 overflow), leaving room for /readyz.
    sessions: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(12))

    async def close(self) -> None:
        """Closes the pools (aiosqlite's connections are threads that would outlive the app)."""
        self.engine.dispose()
        await self.reads.dispose()


def client_address(request: Request) -> str | None:
    """The client's address as the connection gives it (behind a proxy: uvicorn's
    `--proxy-headers`), for the throttles and the signature evidence."""
    return request.client.host if request.client else None


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.sellerflow
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[Session]:
    """A request waits here, without blocking the event loop, until a connection is free.

    Async routes use their session on the event loop, and connections go back to the pool in
    the dependencies' teardown, which also runs on the loop: a request blocking the loop on an
    exhausted pool would wait for connections nobody can return (a stall until the pool's
    30-second timeout, request after request)."""
    async with state.sessions:
        with Session(state.engine, expire_on_commit=False) as session:
            yield session


async def get_temporal(state: StateDep) -> Client:
    """The shared client; connects lazily when Temporal was down at start-up."""
    if state.temporal is None:
        try:
            state.temporal = await asyncio.wait_for(connect(state.settings), 3)
        except (RuntimeError, TimeoutError) as err:
            raise ServiceUnavailable("Temporal is not reachable; try again shortly") from err
    return state.temporal


SessionDep = Annotated[Session, Depends(get_session)]


async def get_reads(state: StateDep) -> AsyncIterator[AsyncConnection]:
    """A connection of the read pool (autocommit) for a route that awaits its statements."""
    async with state.reads.connect() as conn:
        yield conn


ReadsDep = Annotated[AsyncConnection, Depends(get_reads)]

# Pagination offsets stay far below the database's 64-bit integers (beyond them SQLite raises).
MAX_OFFSET = 1_000_000_000
TemporalDep = Annotated[Client, Depends(get_temporal)]

oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def principal_from_token(state: AppState, session: Session, token: str | None) -> Principal:
    """The caller a bearer token names; a staff member is looked up (and may be disabled)."""
    claims = _claims(state, token)
    applicant = _applicant(claims)
    if applicant is not None:
        return applicant
    if claims.get("kind") == SELLER_TOKEN:
        account = session.execute(ACCOUNT_OF_TOKEN, {"account_id": account_id_of(claims)}).first()
        return seller_principal(account, claims)
    return _staff_member(session, claims)


async def get_principal(
    state: StateDep, token: Annotated[str | None, Depends(oauth2)]
) -> Principal:
    """An applicant's token is enough on its own; a staff member or a seller account is looked up
    (a short read of the read pool, awaited)."""
    claims = _claims(state, token)
    applicant = _applicant(claims)
    if applicant is not None:
        return applicant
    if claims.get("kind") == SELLER_TOKEN:
        async with state.reads.connect() as conn:
            found = await conn.execute(ACCOUNT_OF_TOKEN, {"account_id": account_id_of(claims)})
            return seller_principal(found.first(), claims)
    _check_staff_kind(claims)
    async with state.reads.connect() as conn:
        user = (await conn.execute(STAFF_MEMBER, {"username": claims.get("sub")})).first()
    return staff_principal(user, claims)


async def get_staff_claims(
    state: StateDep, token: Annotated[str | None, Depends(oauth2)]
) -> dict[str, Any]:
    """A staff member's checked token, before the database is asked who they are: a route that
    reads other rows too asks in the same statement (`STAFF_COLUMNS`, `staff_principal`)."""
    claims = _claims(state, token)
    if _applicant(claims) is not None or claims.get("kind") == SELLER_TOKEN:
        raise Forbidden("staff only")
    _check_staff_kind(claims)
    return claims


StaffClaimsDep = Annotated[dict[str, Any], Depends(get_staff_claims)]


def _claims(state: AppState, token: str | None) -> dict[str, Any]:
    if not token:
        raise Unauthorized("a bearer token is required")
    return read_token(state.settings.sellerflow_secret_key, token)


def _applicant(claims: dict[str, Any]) -> Principal | None:
    if claims.get("kind") != "applicant":
        return None
    try:
        return Principal(subject="applicant", application_id=uuid.UUID(claims["sub"]))
    except (KeyError, ValueError) as err:
        raise Unauthorized("invalid token") from err


def _check_staff_kind(claims: dict[str, Any]) -> None:
    # The pages' anonymous visitor tokens are signed with the same key: never a staff member.
    if claims.get("kind") != "staff":
        raise Unauthorized("invalid token")


def _staff_member(session: Session, claims: dict[str, Any]) -> Principal:
    _check_staff_kind(claims)
    return staff_member(session, claims)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_staff(principal: PrincipalDep) -> Principal:
    if not principal.is_staff:
        raise Forbidden("staff only")
    return principal


StaffDep = Annotated[Principal, Depends(get_staff)]

# Read only by the routes an integration may call (order ingestion): anywhere else the key is
# not looked at, and the call is one without a token (401).
api_key = APIKeyHeader(
    name="X-Api-Key",
    auto_error=False,
    description="an integration's API key (`python -m sellerflow.cli.integrations create`)",
)


async def get_integration_or_principal(
    state: StateDep,
    key: Annotated[str | None, Depends(api_key)],
    token: Annotated[str | None, Depends(oauth2)],
) -> Principal:
    """The integration an `X-Api-Key` names, else the bearer token's caller."""
    if key is None:
        return await get_principal(state, token)
    async with state.reads.connect() as conn:
        integration = await integration_principal(conn, key)
    if integration is None:
        raise Unauthorized("unknown or revoked API key")
    return integration


IntegrationOrPrincipalDep = Annotated[Principal, Depends(get_integration_or_principal)]


def require_role(*roles: Role) -> Any:
    async def check(staff: StaffDep) -> Principal:
        if not staff.has(*roles):
            raise Forbidden(f"needs role {' or '.join(r.value for r in roles)}")
        return staff

    return Depends(check)
