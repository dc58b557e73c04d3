"""Waiting for what the system does on its own time (a workflow, a worker, a mail server): one
helper instead of a poll loop per test."""

import asyncio
import inspect
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypedDict, TypeVar, Unpack, overload

T = TypeVar("T")

TIMEOUT = 20.0
INTERVAL = 0.1


class Patience(TypedDict, total=False):
    """How long `eventually` keeps asking (its docstring says how each one counts)."""

    timeout: float
    interval: float
    tries: int | None
    ignoring: tuple[type[Exception], ...]


@overload
async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    why: str | Callable[[], str],
    **patience: Unpack[Patience],
) -> T: ...


@overload
async def eventually(
    probe: Callable[[], T | None], *, why: str | Callable[[], str], **patience: Unpack[Patience]
) -> T: ...


async def eventually(
    probe: Callable[[], object],
    *,
    why: str | Callable[[], str],
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    tries: int | None = None,
    ignoring: tuple[type[Exception], ...] = (),
) -> object:
    """Ask `probe` (a function, or an async one) every `interval` seconds until it returns a
    truthy value, and return that value.

    It gives up only once `timeout` seconds have passed *and* the probe has been asked `tries`
    times (by default `timeout / interval`), so a probe slowed down by a loaded machine never
    shortens the wait (the loops this replaces counted their tries); `tries=1` keeps the
    wall-clock limit alone, for a probe that may take long by design. Then it raises an
    AssertionError naming `why` (what was awaited; a function is called then, to say what was
    seen last) and the probe's last answer. An exception of a type in `ignoring` counts as "not
    yet" (it is then the last answer, and the cause of the AssertionError); any other
    exception, a failed assertion inside the probe among them, ends the wait at once.
    """
    if tries is None:
        tries = max(1, math.ceil(timeout / interval)) if interval > 0 else 1
    started = time.monotonic()
    asked = 0
    last: object = None
    error: Exception | None = None
    while True:
        asked += 1
        try:
            answer = probe()
            if inspect.isawaitable(answer):
                answer = await answer
        except ignoring as err:
            last, error = err, err
        else:
            if answer:
                return answer
            last, error = answer, None
        elapsed = time.monotonic() - started
        if elapsed >= timeout and asked >= tries:
            awaited = why if isinstance(why, str) else why()
            raise AssertionError(
                f"{awaited}: not after {elapsed:.1f} s and {asked} tries; last answer: {last!r}"
            ) from error
        await asyncio.sleep(interval)
