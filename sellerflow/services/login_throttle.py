"""Password guessing throttled: after `MAX_FAILURES` failed sign-ins in `WINDOW`, a username, or
a client address, is refused (429) until its window ends, whatever the password.

The rows are keyed by an HMAC of the username or address with the secret key: the table holds
no personal data, and the keys cannot be reversed without the key.
"""

import hashlib
import hmac
import math
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sellerflow.db import table_of
from sellerflow.errors import TooManyAttempts
from sellerflow.models import LoginThrottle

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
THROTTLE = table_of(LoginThrottle)


def throttle_keys(secret: str, username: str, address: str | None) -> list[str]:
    """The rows a sign-in counts against: its username (as typed, case-folded) and address."""
    keys = [_key(secret, "username", username.casefold())]
    if address:
        keys.append(_key(secret, "address", address))
    return keys


def _key(secret: str, kind: str, value: str) -> str:
    message = f"login:{kind}:{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_not_throttled(conn: sa.Connection, keys: Iterable[str], now: datetime) -> None:
    """TooManyAttempts, with the seconds to wait, when any key is out of attempts."""
    rows = conn.execute(
        sa.select(THROTTLE.c.window_started_at).where(
            THROTTLE.c.key.in_(list(keys)),
            THROTTLE.c.failures >= MAX_FAILURES,
            THROTTLE.c.window_started_at > now - WINDOW,
        )
    ).scalars()
    ends = [started + WINDOW for started in rows]
    if ends:
        seconds = math.ceil((max(ends) - now).total_seconds())
        raise TooManyAttempts(
            "too many failed sign-ins; try again later", retry_after=max(seconds, 1)
        )


def record_failure(conn: sa.Connection, keys: Iterable[str], now: datetime) -> None:
    """One failure more for each key; a window that has ended starts again at this one.

    One upsert per key: concurrent failures each count (no read-then-write race)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    expired = THROTTLE.c.window_started_at <= now - WINDOW
    for key in keys:
        statement = insert(THROTTLE).values(key=key, failures=1, window_started_at=now)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[THROTTLE.c.key],
                set_={
                    "failures": sa.case((expired, 1), else_=THROTTLE.c.failures + 1),
                    "window_started_at": sa.case(
                        (expired, statement.excluded.window_started_at),
                        else_=THROTTLE.c.window_started_at,
                    ),
                },
            )
        )


def forget_failures(conn: sa.Connection, key: str) -> None:
    """A successful sign-in clears its username's failures (not its address's)."""
    conn.execute(sa.delete(THROTTLE).where(THROTTLE.c.key == key))
