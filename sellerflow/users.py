"""Staff accounts: creation, roles, passwords (the command: `python -m sellerflow.cli.users`)."""

import sqlalchemy as sa
from sqlmodel import select

from sellerflow.db import session_scope
from sellerflow.models import StaffUser
from sellerflow.security import hash_password
from sellerflow.vocabulary import Role

DEV_USERS = [
    ("onboarding1", Role.onboarding),
    ("onboarding2", Role.onboarding),
    ("ssm1", Role.ssm),
    ("ssm2", Role.ssm),
    ("lab1", Role.lab),
    ("ops1", Role.ops),
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
