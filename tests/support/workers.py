"""A Worker per test, on a task queue of its own, its sync activities on a thread pool."""

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker


@asynccontextmanager
async def worker_on_new_queue(
    client: Client,
    name: str,
    *,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]] = (),
    threads: int = 4,
    **options: Any,
) -> AsyncIterator[str]:
    """Run a Worker on the task queue `name-<uuid>` until the block ends; yields the queue.

    `options` go to the Worker as they are (interceptors, a workflow runner...)."""
    task_queue = f"{name}-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=threads) as executor:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=workflows,
            activities=activities,
            activity_executor=executor,
            **options,
        ):
            yield task_queue
