"""Staff sign-in (a short-lived access token and a refresh token), who a staff token names,
and signing out (staff and sellers)."""

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.config import Settings
from sellerflow.db import table_of
from sellerflow.errors import Unauthorized
from sellerflow.models import StaffUser, role_list
from sellerflow.principal import Principal
from sellerflow.security import dummy_hash, issue_token, read_token, verify_password
from sellerflow.services import seller_accounts
from sellerflow.services.login_throttle import throttled_sign_in

STAFF = table_of(StaffUser)
# What a principal needs of a staff member's row.
STAFF_COLUMNS = (
    STAFF.c.username,
    STAFF.c.roles,
    STAFF.c.email,
    STAFF.c.disabled,
    STAFF.c.token_version,
)
STAFF_MEMBER = sa.select(*STAFF_COLUMNS).where(STAFF.c.username == sa.bindparam("username"))


class StaffColumns(Protocol):
    """A row with `STAFF_COLUMNS` (or a `StaffUser`)."""

    username: str
    roles: str
    email: str | None
    disabled: bool
    token_version: int


# A staff refresh token: never accepted as a bearer token (`api.deps._check_staff_kind`), only by
# `refresh`; it lasts the session (`sellerflow_token_minutes`) and dies with the token version.
REFRESH_KIND = "staff_refresh"


@dataclass(frozen=True)
class StaffTokens:
    """A short-lived access token, the refresh token that gives the next, the access token's
    life in seconds, and whom they name."""

    access_token: str
    refresh_token: str
    expires_in: int
    principal: Principal


def staff_principal(user: StaffColumns | None, claims: dict[str, Any]) -> Principal:
    """The principal of a staff row for a token's `claims`; None (no such user), a disabled one
    or a token of an older `token_version` (revoked: sellerflow.users) is a 401."""
    if user is None or user.disabled:
        raise Unauthorized("unknown or disabled user")
    # Tokens issued before versions existed carry none: they count as version 0.
    if claims.get("ver", 0) != user.token_version:
        raise Unauthorized("token revoked; sign in again")
    return _principal_of(user)


def _principal_of(user: StaffColumns) -> Principal:
    roles = frozenset(role_list(user.roles))
    return Principal(subject=user.username, roles=roles, email=user.email)


def staff_member(session: Session, claims: dict[str, Any]) -> Principal:
    """The staff member a token's claims name, read with the session."""
    username = claims.get("sub")
    user: StaffColumns | None = session.execute(STAFF_MEMBER, {"username": username}).first()
    return staff_principal(user, claims)


def sign_out(session: Session, username: str) -> None:
    """Revoke every token of the user (the pages' logout): the next request signs in again."""
    bump = STAFF.c.token_version + 1
    session.execute(sa.update(STAFF).where(STAFF.c.username == username).values(token_version=bump))
    session.commit()


def sign_out_caller(session: Session, caller: Principal) -> bool:
    """Revoke every token of a staff member or a seller account (the API's and the pages'
    logout); False for a caller without tokens of its own to revoke (an applicant)."""
    if caller.account_id is not None:
        seller_accounts.sign_out(session, caller.account_id)
    elif caller.is_staff:
        sign_out(session, caller.subject)
    else:
        return False
    return True


def sign_in(
    session: Session, settings: Settings, username: str, password: str, address: str | None
) -> StaffTokens:
    """A staff member's tokens for the right password; the same answer for every failure, and
    429 for a username or client `address` out of attempts (`login_throttle`)."""

    def check() -> sa.Row[Any] | None:
        user = session.execute(
            sa.select(STAFF.c.password_hash, *STAFF_COLUMNS).where(STAFF.c.username == username)
        ).first()
        if user is None or user.disabled:
            verify_password(dummy_hash(), password)  # the cost of a wrong password
            return None
        return user if verify_password(user.password_hash, password) else None

    secret = settings.sellerflow_secret_key
    user = throttled_sign_in(session, secret, username, address, check)
    refresh_token = issue_token(
        secret,
        user.username,
        kind=REFRESH_KIND,
        minutes=settings.sellerflow_token_minutes,
        ver=user.token_version,
        jti=secrets.token_hex(16),
    )
    return _tokens(settings, user, refresh_token)


def refresh(session: Session, settings: Settings, refresh_token: str) -> StaffTokens:
    """A new access token for a refresh token: 401 when it expired, is not a refresh token, or
    its user was disabled or signed out since (the token version, as for access tokens)."""
    claims = read_token(settings.sellerflow_secret_key, refresh_token)
    if claims.get("kind") != REFRESH_KIND:
        raise Unauthorized("not a refresh token")
    user: StaffColumns | None = session.execute(
        STAFF_MEMBER, {"username": claims.get("sub")}
    ).first()
    staff_principal(user, claims)
    assert user is not None  # staff_principal refuses a missing user
    return _tokens(settings, user, refresh_token)


def _tokens(settings: Settings, user: StaffColumns, refresh_token: str) -> StaffTokens:
    minutes = settings.sellerflow_staff_token_minutes
    access_token = issue_token(
        settings.sellerflow_secret_key,
        user.username,
        kind="staff",
        minutes=minutes,
        roles=role_list(user.roles),
        ver=user.token_version,
    )
    return StaffTokens(access_token, refresh_token, minutes * 60, _principal_of(user))
