"""Password hashing and signed bearer tokens for staff and applicants."""

from datetime import UTC, datetime, timedelta
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
