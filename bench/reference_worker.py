"""`python -m bench.reference_worker TASK_QUEUE`: a worker for `bench.reference` in a process of
its own, configured as worker.py's (the same activity threads, metrics on WORKER_METRICS_PORT,
SIGTERM stops it). Apart from bench.reference, whose workflow module the sandbox re-imports."""

import asyncio
import compileall
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

import bench.reference as reference_module
from bench.reference import ReferenceWorkflow, trivial_activity
from sellerflow.config import get_settings
from sellerflow.temporal import connect
from worker import WORKER_THREADS, build_runtime


async def serve(task_queue: str) -> None:
    compileall.compile_file(reference_module.__file__, quiet=2)
    settings = get_settings()
    client = await connect(settings, runtime=build_runtime(settings))
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as executor:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[ReferenceWorkflow],
            activities=[trivial_activity],
            activity_executor=executor,
            max_concurrent_activities=WORKER_THREADS,
        ):
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
