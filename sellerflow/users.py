"""Staff accounts: creation, roles, passwords (the command: `python -m sellerflow.cli.users`)."""

import sqlalchemy as sa
from sqlmodel import select

from sellerflow.db import session_scope
from sellerflow.models import StaffUser, role_list
from sellerflow.security import hash_password
from sellerflow.vocabulary import Role

DEV_USERS = [
    ("onboarding1", Role.onboarding),
    ("onboarding2", Role.onboarding),
    ("ssm1", Role.ssm),
    ("ssm2", Role.ssm),
    ("lab1", Role.lab),
    ("ops1", Role.ops),
    # A second ops member: a policy version is approved by someone other than its proposer.
    ("ops2", Role.ops),
]


def ensure_user(
    engine: sa.Engine, username: str, roles: list[str], password: str, email: str | None = None
) -> StaffUser:
    """Create the user if missing (an existing one keeps its password)."""
    with session_scope(engine) as session:
        user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
        if user is None:
            user = StaffUser(
                username=username,
                email=email or f"{username}@staff.sellerflow.local",
                password_hash=hash_password(password),
                roles=",".join(roles),
            )
            session.add(user)
        return user


# Each change below revokes the user's tokens: a token issued before it is refused (401), so a
# reset password, a disabled user or new roles count at once, on every device.


def revoke_tokens(user: StaffUser) -> None:
    user.token_version += 1


def reset_password(user: StaffUser, password: str) -> None:
    user.password_hash = hash_password(password)
    revoke_tokens(user)


def set_disabled(user: StaffUser, disabled: bool) -> None:
    if disabled and not user.disabled:
        revoke_tokens(user)
    user.disabled = disabled


def set_roles(user: StaffUser, roles: list[str]) -> None:
    if role_list(user.roles) != roles:
        revoke_tokens(user)
    user.roles = ",".join(roles)
