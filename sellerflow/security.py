"""Password hashing and signed bearer tokens for staff, applicants and sellers."""

import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sellerflow.errors import Unauthorized

_hasher = PasswordHasher()
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """The hash checked for an unknown or disabled user, so that a failed sign-in costs as much
    as a wrong password and its timing does not tell who exists."""
    return hash_password(secrets.token_hex(16))


def issue_token(secret: str, subject: str, *, kind: str, minutes: int, **claims: Any) -> str:
    now = datetime.now(UTC)
    payload = {"sub": subject, "kind": kind, "iat": now, "exp": now + timedelta(minutes=minutes)}
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM])
    except jwt.ExpiredSignatureError as err:
        raise Unauthorized("token expired") from err
    except jwt.PyJWTError as err:
        raise Unauthorized("invalid token") from err
    return claims
