"""Named limits on attempts per key, counted in a window: after `limit.most` counted attempts in
`limit.window`, a key is refused (429) until its window ends. Sign-ins (`login_throttle`) and
application creation (`services.applications`) are limited this way.

The rows of `login_throttle` are keyed by an HMAC of the limit's name, the kind of value and the
value (a username, a client address, an e-mail address) with the secret key: the table holds no
personal data, and the keys cannot be reversed without the key.
"""

import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sellerflow.db import table_of
from sellerflow.errors import TooManyAttempts
from sellerflow.models import LoginThrottle

THROTTLE = table_of(LoginThrottle)


@dataclass(frozen=True)
class Limit:
    """At most `most` counted attempts per key in `window` (0: no limit); `refusal` is the 429's
    detail."""

    name: str
    most: int
    window: timedelta
    refusal: str


@dataclass(frozen=True)
class Counter:
    """One key's row under one limit."""

    limit: Limit
    key: str


def counter(secret: str, limit: Limit, kind: str, value: str) -> Counter:
    message = f"{limit.name}:{kind}:{value}".encode()
    return Counter(limit, hmac.new(secret.encode(), message, hashlib.sha256).hexdigest())


def check_not_throttled(conn: sa.Connection, counters: Iterable[Counter], now: datetime) -> None:
    """TooManyAttempts, with the seconds to wait, when any counter is out of attempts: the
    refusal of the one that ends last."""
    ends: list[tuple[datetime, Limit]] = []
    for counter_ in counters:
        limit = counter_.limit
        if limit.most <= 0:
            continue
        started = conn.execute(
            sa.select(THROTTLE.c.window_started_at).where(
                THROTTLE.c.key == counter_.key,
                THROTTLE.c.failures >= limit.most,
                THROTTLE.c.window_started_at > now - limit.window,
            )
        ).scalar()
        if started is not None:
            ends.append((started + limit.window, limit))
    if ends:
        end, limit = max(ends, key=lambda refused: refused[0])
        seconds = math.ceil((end - now).total_seconds())
        raise TooManyAttempts(limit.refusal, retry_after=max(seconds, 1))


def count_attempt(conn: sa.Connection, counters: Iterable[Counter], now: datetime) -> None:
    """One attempt more for each counter; a window that has ended starts again at this one.

    One upsert per key: concurrent attempts each count (no read-then-write race)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for counter_ in counters:
        if counter_.limit.most <= 0:
            continue
        expired = THROTTLE.c.window_started_at <= now - counter_.limit.window
        statement = insert(THROTTLE).values(key=counter_.key, failures=1, window_started_at=now)
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


def forget(conn: sa.Connection, counter_: Counter) -> None:
    """The counter's attempts cleared (a successful sign-in clears its username's)."""
    conn.execute(sa.delete(THROTTLE).where(THROTTLE.c.key == counter_.key))
