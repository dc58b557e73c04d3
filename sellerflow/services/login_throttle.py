"""Password guessing throttled: after `MAX_FAILURES` failed sign-ins in `WINDOW`, a username, or
a client address, is refused (429) until its window ends, whatever the password (the named
limit `SIGN_IN` of `services.throttle`; only failures are counted)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlmodel import Session

from sellerflow.errors import Unauthorized
from sellerflow.services.throttle import (
    Counter,
    Limit,
    check_not_throttled,
    count_attempt,
    counter,
    forget,
)

T = TypeVar("T")

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
SIGN_IN = Limit("login", MAX_FAILURES, WINDOW, "too many failed sign-ins; try again later")


def throttle_keys(secret: str, username: str, address: str | None) -> list[Counter]:
    """The rows a sign-in counts against: its username (as typed, case-folded) and address."""
    counters = [counter(secret, SIGN_IN, "username", username.casefold())]
    if address:
        counters.append(counter(secret, SIGN_IN, "address", address))
    return counters


def throttled_sign_in(
    session: Session,
    secret: str,
    username: str,
    address: str | None,
    check: Callable[[], T | None],
) -> T:
    """What `check` signs in (None: the wrong password), counted against the username and the
    address: 429 while either is out of attempts, 401 (the same for every failure) otherwise."""
    now = datetime.now(UTC)
    keys = throttle_keys(secret, username, address)
    check_not_throttled(session.connection(), keys, now)
    signed_in = check()
    if signed_in is None:
        count_attempt(session.connection(), keys, now)
        session.commit()
        raise Unauthorized("wrong username or password")
    forget(session.connection(), keys[0])
    session.commit()
    return signed_in
