"""`eventually`: the answer once it is truthy, an AssertionError naming what was awaited once it
gave up, never before its tries or its time are spent."""

import itertools
import time

import pytest

from tests.support.waiting import eventually


async def test_returns_the_first_truthy_answer_of_a_function_or_an_async_function() -> None:
    answers = iter([None, 0, "", "ready"])
    assert await eventually(lambda: next(answers), interval=0, why="x") == "ready"

    counter = itertools.count()

    async def third() -> int | None:
        n = next(counter)
        return n if n == 2 else None

    assert await eventually(third, interval=0.01, why="x") == 2


async def test_gives_up_naming_why_and_the_last_answer() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"the thing: not after .* last answer: \[\]"):
        await eventually(lambda: [], timeout=0.2, interval=0.05, why="the thing")
    assert time.monotonic() - started >= 0.2


async def test_a_slow_probe_does_not_shorten_the_tries() -> None:
    asked = 0

    def slow() -> bool:
        nonlocal asked
        asked += 1
        time.sleep(0.05)  # longer than the interval: the wall clock alone would allow 2 tries
        return False

    with pytest.raises(AssertionError, match="10 tries"):
        await eventually(slow, timeout=0.1, interval=0.01, why="slow")
    assert asked == 10

    asked = 0
    with pytest.raises(AssertionError):
        await eventually(slow, timeout=0.1, interval=0.01, tries=1, why="slow")
    assert asked < 10


async def test_why_may_say_what_was_seen_last() -> None:
    seen = {"stage": "draft"}
    with pytest.raises(AssertionError, match="stayed in draft"):
        await eventually(lambda: False, timeout=0, why=lambda: f"stayed in {seen['stage']}")


async def test_ignored_exceptions_are_not_yet_and_others_end_the_wait() -> None:
    calls = itertools.count()

    def flaky() -> str:
        if next(calls) < 2:
            raise ConnectionError("not up yet")
        return "up"

    assert await eventually(flaky, interval=0, ignoring=(ConnectionError,), why="x") == "up"

    def down() -> bool:
        raise ConnectionError("down")

    with pytest.raises(AssertionError, match="down") as gave_up:
        await eventually(down, timeout=0, ignoring=(ConnectionError,), why="the server")
    assert isinstance(gave_up.value.__cause__, ConnectionError)

    def failing() -> bool:
        raise AssertionError("status 500")

    started = time.monotonic()
    with pytest.raises(AssertionError, match="status 500"):
        await eventually(failing, timeout=10, why="x")
    assert time.monotonic() - started < 1, "an assertion in the probe ends the wait at once"
