"""The Temporal worker: builds the activities' clients once and runs every workflow.

Also creates its Schedules (idempotently): the seller evaluation (daily, the policy's cron),
the sweeper (every 5 minutes) and retention (daily); logs JSON lines (with workflow and run ids)
and serves the SDK's Prometheus metrics.
"""

import asyncio
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from activities.applications import ApplicationActivities
from activities.evaluation import EvaluationActivities
from activities.notifications import NotificationActivities
from activities.onboarding import OnboardingActivities
from activities.renewals import RenewalActivities
from activities.retention import RetentionActivities
from activities.rollout import EVALUATION_SCHEDULE_ID, RolloutActivities, evaluation_spec
from activities.sellers import SellerActivities
from activities.simulations import SimulationActivities
from activities.starts import OnboardingStarts
from activities.tasks import TaskActivities
from sellerflow.config import Settings, get_settings, refuse_default_secrets
from sellerflow.db import make_engine, unreachable_because
from sellerflow.logs import configure_logging
from sellerflow.outbox import Mailer
from sellerflow.payloads import EvaluationInput
from sellerflow.policy.model import Policy, load_policy
from sellerflow.registries import CompanyRegistry, LocalRegistry, VatRegistry
from sellerflow.registries.http import HttpCompanyRegistry, HttpVatRegistry
from sellerflow.storage import ObjectStore
from sellerflow.temporal import connect
from workflows.evaluation import SellerEvaluationWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.retention import RetentionWorkflow
from workflows.rollout import PolicyRolloutWorkflow
from workflows.seller import SellerWorkflow
from workflows.simulation import PolicySimulationWorkflow
from workflows.sweep import SweepWorkflow

log = logging.getLogger("sellerflow.worker")
SWEEP_SCHEDULE_ID = "sweeper"
SWEEP_EVERY = timedelta(minutes=5)
RETENTION_SCHEDULE_ID = "retention"
RETENTION_EVERY = timedelta(days=1)
GRACEFUL_SHUTDOWN = timedelta(seconds=15)


# Activity threads, and so activities run at once, per worker process.
WORKER_THREADS = 16
ALL_WORKFLOWS = [
    OnboardingWorkflow,
    SellerWorkflow,
    SellerEvaluationWorkflow,
    SweepWorkflow,
    RetentionWorkflow,
    PolicySimulationWorkflow,
    PolicyRolloutWorkflow,
]


def company_registry(settings: Settings) -> CompanyRegistry:
    url = settings.company_register_url
    return HttpCompanyRegistry(url) if url else LocalRegistry()


def vat_registry(settings: Settings) -> VatRegistry | None:
    url = settings.vat_registry_url
    return HttpVatRegistry(url) if url else None


def build_activities(
    engine: sa.Engine, settings: Settings, policy: Policy
) -> list[Callable[..., Any]]:
    store = ObjectStore(settings)
    apps = ApplicationActivities(
        engine,
        company_registry(settings),
        store,
        vat_registry=vat_registry(settings),
        checks=policy.checks,
    )
    tasks = TaskActivities(engine)
    mailer = Mailer(settings.smtp_url) if settings.smtp_url else None
    notes = NotificationActivities(engine, settings, policy, mailer)
    sellers = SellerActivities(engine)
    renewal = RenewalActivities(engine)
    evaluation = EvaluationActivities(engine)
    simulations = SimulationActivities(engine)
    rollout = RolloutActivities(engine)
    starts = OnboardingStarts(engine, settings, policy)
    moves = OnboardingActivities(engine, settings, policy, apps)
    return [
        moves.transition,
        apps.set_stage,
        apps.verify_application,
        apps.apply_verdicts,
        apps.recheck_checks,
        apps.setup_account,
        tasks.open_task,
        tasks.close_task,
        tasks.escalate_task,
        tasks.cancel_tasks,
        notes.notify,
        notes.deliver_notification,
        notes.sweep_outbox,
        starts.start_lost_onboardings,
        sellers.apply_status,
        sellers.trial_snapshot,
        sellers.record_refusal,
        sellers.record_standing,
        sellers.record_policy_switch,
        renewal.documents_on_file,
        renewal.record_renewal,
        evaluation.begin_evaluation,
        evaluation.category_means,
        evaluation.score_sellers,
        evaluation.rank_sellers,
        evaluation.finish_evaluation,
        RetentionActivities(engine, policy, store).erase_due,
        simulations.simulate_policy,
        simulations.fail_simulation,
        rollout.announce_rollout,
        rollout.activate_version,
        rollout.update_evaluation_schedule,
        rollout.sellers_to_switch,
        rollout.record_progress,
        rollout.finish_rollout,
    ]


def build_runtime(settings: Settings) -> Runtime:
    """The SDK runtime, serving Prometheus metrics on `worker_metrics_port` (all interfaces)."""
    address = f"0.0.0.0:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


class ActivityFailureCounter(Interceptor):
    """Counts failed activity attempts by activity type and error type."""

    def __init__(self, meter: MetricMeter) -> None:
        self.failures = meter.create_counter(
            "sellerflow_activity_failures", "failed activity attempts"
        )

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountFailures(next, self)


class _CountFailures(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, counter: ActivityFailureCounter) -> None:
        super().__init__(next)
        self.counter = counter

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception as err:
            name = getattr(input.fn, "__name__", "unknown")
            self.counter.failures.add(1, {"activity_type": name, "error": type(err).__name__})
            if isinstance(err, SQLAlchemyError):
                raise database_failure(name, err) from None
            if isinstance(err, ValueError) and not isinstance(err, ApplicationError):
                # Bad input (a malformed id, a payload that does not validate) fails the same way
                # on every attempt: retrying it forever would wedge the workflow that sent it.
                raise ApplicationError(
                    f"{name}: invalid input: {str(err)[:300]}",
                    type="InvalidInput",
                    non_retryable=True,
                ) from None
            raise


def database_failure(activity_name: str, err: SQLAlchemyError) -> ApplicationError:
    """What Temporal records of a failed statement: a fixed text naming the error class and the
    activity. The driver's text may quote the row (PostgreSQL's DETAIL: `Key (email)=(...)`,
    a NOT NULL violation's whole row), and a failure is kept in the history, shown in the UI
    and copied into every retry; so the worker's log alone gets the statement (its values
    hidden by the engines), the driver's error code and the constraint, without that text.

    Retries are as before: an OperationalError (`DatabaseUnavailable`) and every other class
    (typed by its name) are retried until the database answers."""
    error = type(err).__name__
    orig = getattr(err, "orig", None)
    diag = getattr(orig, "diag", None)
    log.warning(
        "activity %s: %s from the database (%s, code %s, constraint %s): %s",
        activity_name,
        error,
        type(orig).__name__ if orig is not None else "-",
        getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None),
        getattr(diag, "constraint_name", None),
        getattr(err, "statement", None),
    )
    if isinstance(err, OperationalError):
        # Why the database is unreachable (refused, timed out, locked) is the operator's clue.
        log.warning(
            "activity %s: database unavailable: %s", activity_name, unreachable_because(err)
        )
        return ApplicationError(
            f"database unavailable: {activity_name}: {error} (details in the worker's log)",
            type="DatabaseUnavailable",
        )
    return ApplicationError(
        f"{activity_name}: {error} in the database (details in the worker's log)", type=error
    )


def worker_engine(settings: Settings) -> sa.Engine:
    """Activities retry, so their connections go without a ping on every checkout."""
    return make_engine(settings.database_url, pre_ping=False)


def worker_interceptors(client: Client) -> list[Interceptor]:
    """The interceptors every worker runs with (the tests' workers too)."""
    runtime = client.service_client.config.runtime or Runtime.default()
    return [ActivityFailureCounter(runtime.metric_meter)]


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox, with the project's workflow modules imported once for the worker.

    By default the sandbox imports a workflow's module (and every module of ours it imports
    outside `imports_passed_through`) again for each run it holds: about 150 KB of module
    objects per cached seller workflow, most of the memory it takes. Our workflow modules keep
    no state of their own and call nothing non-deterministic (replay of saved histories checks
    it, and the tests' workers run them in the default sandbox, which refuses such calls), so
    they are passed through like the rest of our code."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(workflows.__name__)
    )


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
        workflow_runner=workflow_runner(),
        max_cached_workflows=settings.worker_max_cached_workflows,
        activities=build_activities(engine, settings, policy),
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
        # A stop (deploy, SIGTERM) lets running activities finish and report: an SMTP hand-off
        # cut off before `sent_at` commits would be retried and the mail sent twice.
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        interceptors=worker_interceptors(client),
    )


async def _ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Create a schedule unless it exists (a restarted worker, another worker)."""
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %s", schedule_id)
    except ScheduleAlreadyRunningError:
        pass


async def ensure_evaluation_schedule(client: Client, settings: Settings, policy: Policy) -> None:
    """The daily evaluation, at the policy's cron."""
    start = ScheduleActionStartWorkflow(
        SellerEvaluationWorkflow.run,
        EvaluationInput(policy=policy),
        id="seller-evaluation-scheduled",
        static_summary="Daily seller evaluation",
        task_queue=settings.temporal_task_queue,
        execution_timeout=timedelta(hours=6),
    )
    await _ensure_schedule(
        client, EVALUATION_SCHEDULE_ID, _skipping(start, evaluation_spec(policy))
    )


async def ensure_sweep_schedule(client: Client, settings: Settings) -> None:
    """The sweeper: lost starts, unsent messages."""
    start = ScheduleActionStartWorkflow(
        SweepWorkflow.run,
        id="sweep",
        static_summary="Start lost onboardings, deliver unsent messages",
        task_queue=settings.temporal_task_queue,
        execution_timeout=timedelta(minutes=15),
    )
    spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=SWEEP_EVERY)])
    await _ensure_schedule(client, SWEEP_SCHEDULE_ID, _skipping(start, spec))


async def ensure_retention_schedule(client: Client, settings: Settings) -> None:
    """Retention: erasure past the retention period, stray uploads."""
    start = ScheduleActionStartWorkflow(
        RetentionWorkflow.run,
        id="retention",
        static_summary="Erase what is past its retention period, remove stray uploads",
        task_queue=settings.temporal_task_queue,
        execution_timeout=timedelta(hours=2),
    )
    spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=RETENTION_EVERY)])
    await _ensure_schedule(client, RETENTION_SCHEDULE_ID, _skipping(start, spec))


def _skipping(start: ScheduleActionStartWorkflow, spec: ScheduleSpec) -> Schedule:
    """A schedule whose run is skipped while the one before still runs."""
    return Schedule(
        action=start, spec=spec, policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)
    )


async def main() -> None:
    configure_logging()
    settings = get_settings()
    refuse_default_secrets(settings)
    policy = load_policy(settings.sellerflow_policy)
    engine = worker_engine(settings)
    client = await connect(settings, runtime=build_runtime(settings))
    log.info("worker metrics on :%d/metrics", settings.worker_metrics_port)
    await ensure_evaluation_schedule(client, settings, policy)
    await ensure_sweep_schedule(client, settings)
    await ensure_retention_schedule(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as executor:
        worker = build_worker(client, engine, settings, policy, executor)
        log.info(
            "worker polling task queue %s (policy %s)", settings.temporal_task_queue, policy.version
        )
        async with worker:
            await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
