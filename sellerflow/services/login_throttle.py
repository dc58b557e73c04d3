"""Password guessing throttled: after `MAX_FAILURES` failed sign-ins in `WINDOW`, a username, or
a client address, is refused (429) until its window ends, whatever the password (the named
limit `SIGN_IN` of `services.throttle`; only failures are counted)."""

from datetime import timedelta

from sellerflow.services.throttle import Counter, Limit, counter

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
SIGN_IN = Limit("login", MAX_FAILURES, WINDOW, "too many failed sign-ins; try again later")


def throttle_keys(secret: str, username: str, address: str | None) -> list[Counter]:
    """The rows a sign-in counts against: its username (as typed, case-folded) and address."""
    counters = [counter(secret, SIGN_IN, "username", username.casefold())]
    if address:
        counters.append(counter(secret, SIGN_IN, "address", address))
    return counters
