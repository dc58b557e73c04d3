"""Staff sign-in and who a staff token names."""

from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.config import Settings
from sellerflow.db import table_of
from sellerflow.errors import Unauthorized
from sellerflow.models import StaffUser, role_list
from sellerflow.principal import Principal
from sellerflow.security import issue_token, verify_password

STAFF = table_of(StaffUser)
# What a principal needs of a staff member's row.
STAFF_COLUMNS = (STAFF.c.username, STAFF.c.roles, STAFF.c.email, STAFF.c.disabled)
STAFF_MEMBER = sa.select(*STAFF_COLUMNS).where(STAFF.c.username == sa.bindparam("username"))


class StaffColumns(Protocol):
    """A row with `STAFF_COLUMNS` (or a `StaffUser`)."""

    username: str
    roles: str
    email: str | None
    disabled: bool


def staff_principal(user: StaffColumns | None) -> Principal:
    """The principal of a staff row; None (no such user) or a disabled one is a 401."""
    if user is None or user.disabled:
        raise Unauthorized("unknown or disabled user")
    roles = frozenset(role_list(user.roles))
    return Principal(subject=user.username, roles=roles, email=user.email)


def staff_member(session: Session, username: object) -> Principal:
    user: StaffColumns | None = session.execute(STAFF_MEMBER, {"username": username}).first()
    return staff_principal(user)


def sign_in(session: Session, settings: Settings, username: str, password: str) -> str:
    """A staff bearer token for the right password; the same answer for every failure."""
    user = session.execute(
        sa.select(STAFF.c.password_hash, *STAFF_COLUMNS).where(STAFF.c.username == username)
    ).first()
    if user is None or user.disabled or not verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    return issue_token(
        settings.sellerflow_secret_key,
        user.username,
        kind="staff",
        minutes=settings.sellerflow_token_minutes,
        roles=role_list(user.roles),
    )
