"""The Temporal worker: builds the activities' clients once and runs every workflow.

Also creates the seller-evaluation Schedule (idempotently) so monitoring runs daily.
"""

import asyncio
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.worker import Worker

from activities.applications import ApplicationActivities
from activities.evaluation import EvaluationActivities
from activities.notifications import NotificationActivities
from activities.sellers import SellerActivities
from activities.tasks import TaskActivities
from sellerflow.config import Settings, get_settings
from sellerflow.db import make_engine
from sellerflow.payloads import EvaluationInput
from sellerflow.policy.model import Policy, load_policy
from sellerflow.registry import LocalRegistry
from sellerflow.temporal import connect
from workflows import ALL_WORKFLOWS, SellerEvaluationWorkflow

log = logging.getLogger("sellerflow.worker")
EVALUATION_SCHEDULE_ID = "seller-evaluation"


def build_activities(
    engine: sa.Engine, settings: Settings, policy: Policy
) -> list[Callable[..., Any]]:
    apps = ApplicationActivities(engine, LocalRegistry())
    tasks = TaskActivities(engine)
    notes = NotificationActivities(engine, settings, policy)
    sellers = SellerActivities(engine)
    evaluation = EvaluationActivities(engine)
    return [
        apps.set_stage,
        apps.verify_application,
        apps.apply_verdicts,
        apps.setup_account,
        tasks.open_task,
        tasks.close_task,
        tasks.escalate_task,
        tasks.cancel_tasks,
        notes.notify,
        sellers.apply_status,
        sellers.trial_snapshot,
        evaluation.category_means,
        evaluation.score_sellers,
        evaluation.rank_sellers,
        evaluation.finish_evaluation,
    ]


def build_worker(
    client: Client,
    engine: sa.Engine,
    settings: Settings,
    policy: Policy,
    executor: ThreadPoolExecutor,
    task_queue: str | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=ALL_WORKFLOWS,
        activities=build_activities(engine, settings, policy),
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
    )


async def ensure_evaluation_schedule(client: Client, settings: Settings, policy: Policy) -> None:
    """Create the daily evaluation schedule if it does not exist yet."""
    try:
        await client.create_schedule(
            EVALUATION_SCHEDULE_ID,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    SellerEvaluationWorkflow.run,
                    EvaluationInput(policy=policy),
                    id="seller-evaluation-scheduled",
                    task_queue=settings.temporal_task_queue,
                    execution_timeout=timedelta(hours=6),
                ),
                spec=ScheduleSpec(cron_expressions=[policy.evaluation.cron]),
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
        log.info("created schedule %s (%s)", EVALUATION_SCHEDULE_ID, policy.evaluation.cron)
    except ScheduleAlreadyRunningError:
        pass


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = get_settings()
    policy = load_policy(settings.sellerflow_policy)
    engine = make_engine(settings.database_url)
    client = await connect(settings)
    await ensure_evaluation_schedule(client, settings, policy)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, engine, settings, policy, executor)
        log.info(
            "worker polling task queue %s (policy %s)", settings.temporal_task_queue, policy.version
        )
        async with worker:
            await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
