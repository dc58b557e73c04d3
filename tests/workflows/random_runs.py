"""The loop the random workflow tests share: a random step, the workflow idle again, then the
test's own checks with a failure report that names the seed and the steps taken."""

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import TimeSkipper

from tests.idle import wait_for_idle

STEPS = 40
# How long a query or an update may take to be answered after any step.
ANSWER_SECONDS = 5


async def random_run(
    handle: WorkflowHandle[Any, Any], seed: int, take_step: Callable[[int], Awaitable[str]]
) -> AsyncIterator[str]:
    """Take STEPS steps (`take_step(n)` says what it did); after each, once the workflow is
    idle, yield the failure report for the test to check the workflow with."""
    steps: list[str] = []
    for n in range(STEPS):
        steps.append(await take_step(n))
        report = f"seed {seed}, steps: {steps}"
        await asyncio.wait_for(wait_for_idle(handle), 30)
        yield report


async def jump_in_time(
    skipper: TimeSkipper,
    handle: WorkflowHandle[Any, Any],
    rng: random.Random,
    jumps: list[timedelta],
) -> str:
    """The step that skips time by one of `jumps`; says by how much."""
    jump = rng.choice(jumps)
    await skipper.fast_forward(handle, jump)
    return f"time +{jump}"


async def refused_in_seconds(update: Awaitable[Any]) -> None:
    """The update (one its validator refuses) is answered, refused, within ANSWER_SECONDS."""
    with pytest.raises(WorkflowUpdateFailedError):
        await asyncio.wait_for(update, ANSWER_SECONDS)
