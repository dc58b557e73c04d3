"""Signals and updates fired at a seller workflow while it continues as new every few dozen
events: each one is applied exactly once across the chain of runs, none lost, none doubled.

The workflow runs unsandboxed so that the lowered MAX_EVENTS_PER_RUN reaches it. Its activities
are recorders: what they saw is the workflow's effects, counted per message. An interceptor can
send messages from inside `continue_as_new`, so they reach the server while the closing workflow
task is in flight.
"""

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import pytest
import pytest_asyncio
from temporalio import workflow
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.worker import (
    ContinueAsNewInput,
    Interceptor,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

import workflows.evaluation as evaluation_module
import workflows.seller as seller_module
from activities.evaluation import EvaluationActivities
from activities.notifications import NotificationActivities
from activities.renewals import RenewalActivities
from activities.sellers import SellerActivities
from activities.tasks import TaskActivities
from sellerflow.payloads import (
    ApplySellerStatusInput,
    BeginEvaluationInput,
    BeginEvaluationResult,
    CancelTasksInput,
    CategoryMeansInput,
    CloseTaskInput,
    CompleteTaskInput,
    DeliverNotificationInput,
    DocumentsOnFile,
    DocumentsOnFileInput,
    EscalateTaskInput,
    EvaluationInput,
    FinishEvaluationInput,
    ManualActionInput,
    NotifyInput,
    OpenTaskInput,
    RankSellersInput,
    RecordRefusalInput,
    RecordRenewalInput,
    RecordStandingInput,
    ScoreChunkInput,
    ScoreChunkResult,
    SellerInput,
    StandingChange,
    StandingChangedInput,
    TaskOutcome,
)
from sellerflow.policy.model import Policy, load_policy
from sellerflow.policy.seller_state import MysteryOrder, ReasonRecord, SellerState, task_id_for
from sellerflow.vocabulary import Decision, SellerActionKind, SellerStatus, Standing, TaskKind
from tests.policy.sellers import PASSING_CHECKLIST
from tests.support.fakes import fake_of, fakes_in
from tests.support.waiting import eventually
from workflows.evaluation import SellerEvaluationWorkflow
from workflows.seller import SellerWorkflow

# Small enough for a continue-as-new every few messages, large enough for one message's events.
EVENTS_PER_RUN = 60
ROUNDS = 16
DECISIONS_PER_ROUND = 4
RACING_RUNS = 12  # runs whose closing is raced by messages
SETTLE_SECONDS = 90.0
EVALUATION_EVENTS_PER_RUN = 20  # a run for a chunk or two
EVALUATION_CHUNK = 3

Handle = WorkflowHandle[SellerWorkflow, str]
SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED


@dataclass
class Effects:
    """What the recording activities saw."""

    closed: Counter[str] = field(default_factory=Counter)
    # close_task for these task ids waits until its event is set
    held: dict[str, asyncio.Event] = field(default_factory=dict)
    statuses: list[tuple[SellerStatus, str]] = field(default_factory=list)
    by_seller: defaultdict[str, list[tuple[SellerStatus, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    notices: Counter[str] = field(default_factory=Counter)


class RecordingActivities:
    """The seller workflow's activities as recorders of what they saw (`effects`); no
    documents are on file."""

    def __init__(self, effects: Effects) -> None:
        self.effects = effects

    @fake_of(RenewalActivities.documents_on_file)
    async def documents_on_file(self, inp: DocumentsOnFileInput) -> DocumentsOnFile:
        return DocumentsOnFile(documents=[])

    @fake_of(RenewalActivities.record_renewal)
    async def record_renewal(self, inp: RecordRenewalInput) -> None:
        return None

    @fake_of(TaskActivities.open_task)
    async def open_task(self, inp: OpenTaskInput) -> str:
        return inp.task_id

    @fake_of(TaskActivities.close_task)
    async def close_task(self, inp: CloseTaskInput) -> None:
        self.effects.closed[inp.decision.task_id] += 1
        if (release := self.effects.held.get(inp.decision.task_id)) is not None:
            await release.wait()

    @fake_of(TaskActivities.escalate_task)
    async def escalate_task(self, inp: EscalateTaskInput) -> list[str]:
        return []

    @fake_of(TaskActivities.cancel_tasks)
    async def cancel_tasks(self, inp: CancelTasksInput) -> int:
        return 0

    @fake_of(SellerActivities.record_refusal)
    async def record_refusal(self, inp: RecordRefusalInput) -> None:
        return None

    @fake_of(SellerActivities.record_standing)
    async def record_standing(self, inp: RecordStandingInput) -> None:
        return None

    @fake_of(SellerActivities.apply_status)
    async def apply_status(self, inp: ApplySellerStatusInput) -> None:
        change = (inp.effect.status, inp.effect.reason.summary)
        self.effects.statuses.append(change)
        self.effects.by_seller[inp.seller_id].append(change)

    @fake_of(NotificationActivities.notify)
    async def notify(self, inp: NotifyInput) -> bool:
        self.effects.notices[f"{inp.template}: {inp.context.get('reason', '')}"] += 1
        return True

    @fake_of(NotificationActivities.deliver_notification)
    async def deliver_notification(self, inp: DeliverNotificationInput) -> bool:
        return True


@dataclass
class Marketplace:
    """What the evaluation's activities score: a standing per evaluation for every seller."""

    sellers: list[str] = field(default_factory=list)
    standings: dict[str, Standing] = field(default_factory=dict)


class EvaluationFakes:
    """The evaluation's activities: chunks of EVALUATION_CHUNK sellers, each changed."""

    def __init__(self, market: Marketplace) -> None:
        self.market = market

    @fake_of(EvaluationActivities.begin_evaluation)
    async def begin_evaluation(self, inp: BeginEvaluationInput) -> BeginEvaluationResult:
        return BeginEvaluationResult(running=None)

    @fake_of(EvaluationActivities.category_means)
    async def category_means(self, inp: CategoryMeansInput) -> dict[str, dict[str, float]]:
        return {}

    @fake_of(EvaluationActivities.score_sellers)
    async def score_sellers(self, inp: ScoreChunkInput) -> ScoreChunkResult:
        start = int(inp.after_seller_id or 0)
        chunk = self.market.sellers[start : start + EVALUATION_CHUNK]
        reason = ReasonRecord(summary=inp.evaluation_id)
        standing = self.market.standings[inp.evaluation_id]
        return ScoreChunkResult(
            last_seller_id=str(start + len(chunk)) if chunk else None,
            scored=len(chunk),
            changes=[
                StandingChange(seller_id=s, standing=standing, reasons=[reason]) for s in chunk
            ],
        )

    @fake_of(EvaluationActivities.rank_sellers)
    async def rank_sellers(self, inp: RankSellersInput) -> int:
        return len(self.market.sellers)

    @fake_of(EvaluationActivities.finish_evaluation)
    async def finish_evaluation(self, inp: FinishEvaluationInput) -> None:
        return None


@dataclass
class CloseRacer:
    """Sends messages while a run is closing: called in `continue_as_new` on the workflow's
    thread, it waits until `send` has reached the server, before the task with the command
    can complete. Once per run, never on replay."""

    loop: asyncio.AbstractEventLoop
    send: Callable[[], Coroutine[None, None, None]] | None = None
    runs: set[str] = field(default_factory=set)

    def race(self) -> None:
        run_id = workflow.info().run_id
        if self.send is None or workflow.unsafe.is_replaying() or run_id in self.runs:
            return
        self.runs.add(run_id)
        asyncio.run_coroutine_threadsafe(self.send(), self.loop).result(timeout=1.5)


class RacingInterceptor(Interceptor):
    def __init__(self, racer: CloseRacer) -> None:
        self.racer = racer

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        racer = self.racer

        class Outbound(WorkflowOutboundInterceptor):
            def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
                racer.race()
                super().continue_as_new(input)

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(Outbound(outbound))

        return Inbound


@dataclass
class Rig:
    client: Client
    task_queue: str
    policy: Policy
    effects: Effects
    racer: CloseRacer
    market: Marketplace

    async def start(self, state: SellerState) -> Handle:
        """An active seller (trial over); the handle follows the chain of runs by workflow id."""
        started = await self.client.start_workflow(
            SellerWorkflow.run,
            SellerInput(
                seller_id=state.seller_id,
                application_id=str(uuid.uuid4()),
                policy=self.policy,
                state=state,
            ),
            id=f"seller-{state.seller_id}",
            task_queue=self.task_queue,
        )
        return self.client.get_workflow_handle_for(SellerWorkflow.run, started.id)


@pytest_asyncio.fixture
async def rig(temporal_client: Client, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    monkeypatch.setattr(seller_module, "MAX_EVENTS_PER_RUN", EVENTS_PER_RUN)
    monkeypatch.setattr(evaluation_module, "MAX_EVENTS_PER_RUN", EVALUATION_EVENTS_PER_RUN)
    effects = Effects()
    market = Marketplace()
    racer = CloseRacer(asyncio.get_running_loop())
    task_queue = f"can-{uuid.uuid4()}"
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[SellerWorkflow, SellerEvaluationWorkflow],
        activities=[*fakes_in(RecordingActivities(effects)), *fakes_in(EvaluationFakes(market))],
        workflow_runner=UnsandboxedWorkflowRunner(),
        interceptors=[RacingInterceptor(racer)],
    ):
        yield Rig(temporal_client, task_queue, load_policy("default"), effects, racer, market)


def active_seller(mystery_orders: int = 0) -> SellerState:
    """An active seller with `mystery_orders` open mystery-order tasks."""
    seller_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    orders = [
        MysteryOrder(key=f"mystery-{i}", due_at=now, task_id=task_id_for(seller_id, f"mystery-{i}"))
        for i in range(mystery_orders)
    ]
    return SellerState(
        seller_id=seller_id,
        status=SellerStatus.active,
        trial_ends_at=now - timedelta(days=1),
        mystery_orders=orders,
        open_tasks={o.task_id: TaskKind.mystery_order for o in orders if o.task_id},
        task_due={o.task_id: now + timedelta(days=14) for o in orders if o.task_id},
    )


async def run_chain(client: Client, workflow_id: str) -> list[list[HistoryEvent]]:
    """Every run's history, first to current, followed through the continued-as-new events."""
    first = await client.get_workflow_handle(workflow_id).describe()
    run_id = first.raw_description.workflow_execution_info.first_run_id
    runs: list[list[HistoryEvent]] = []
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(list(history.events))
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return runs
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id


def messages_per_run(runs: list[list[HistoryEvent]]) -> list[int]:
    kinds = {SIGNALED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED}
    return [sum(1 for e in events if e.event_type in kinds) for events in runs]


def around_continue_as_new(runs: list[list[HistoryEvent]]) -> tuple[int, int]:
    """Messages that reached a run before its first workflow task ran, and workflow tasks the
    server refused because a signal arrived while the run was closing."""
    early = refused = 0
    for events in runs:
        types = [e.event_type for e in events]
        started = EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
        first_task = types.index(started) if started in types else len(types)
        early += sum(1 for t in types[:first_task] if t == SIGNALED)
        refused += sum(
            1
            for e in events
            if e.workflow_task_failed_event_attributes.cause
            == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
        )
    return early, refused


def signalled_ids(runs: list[list[HistoryEvent]], client: Client) -> Counter[str]:
    """How often the server delivered each standing signal, over all runs."""
    converter = client.data_converter.payload_converter
    seen: Counter[str] = Counter()
    for events in runs:
        for event in events:
            attrs = event.workflow_execution_signaled_event_attributes
            if attrs.signal_name == "standing_changed":
                [inp] = converter.from_payloads(attrs.input.payloads, [StandingChangedInput])
                seen[inp.event_id] += 1
    return seen


def decision(task_id: str) -> CompleteTaskInput:
    return CompleteTaskInput(
        task_id=task_id,
        actor="lab1",
        decision=Decision.passed,
        comment=task_id,
        checklist=PASSING_CHECKLIST,
    )


async def send_standings(handle: Handle, warn: str, good: str) -> None:
    """Warn, good, and the warn again (as a retried evaluation sends it): applied twice, the
    repeat would warn the now active seller a second time."""
    for event_id, standing in ((warn, Standing.warn), (good, Standing.good), (warn, Standing.warn)):
        inp = StandingChangedInput(
            event_id=event_id, standing=standing, reasons=[ReasonRecord(summary=event_id)]
        )
        await handle.signal(SellerWorkflow.standing_changed, inp)


async def decide_by_signal(handle: Handle, task_id: str) -> None:
    """Fire-and-forget, sent twice: the copy must be refused, never applied."""
    for _ in range(2):
        await handle.signal(SellerWorkflow.complete_task_signal, decision(task_id))


async def decide_by_update(handle: Handle, task_id: str) -> None:
    """The API's way, retried with the same update id as after a lost answer."""
    update_id = f"decide-{task_id}"
    outcome = await handle.execute_update(
        SellerWorkflow.complete_task, decision(task_id), id=update_id
    )
    assert outcome.task_id == task_id
    try:
        await handle.execute_update(SellerWorkflow.complete_task, decision(task_id), id=update_id)
    except WorkflowUpdateFailedError as err:  # the retry reached a later run: the task is closed
        if "not open" not in str(err.cause):
            raise


async def test_messages_around_continue_as_new_apply_once(rig: Rig) -> None:
    """Rounds of messages sent all at once, each round more events than a run may hold; at
    each run's first try to continue as new, a decision by update and one by signal are sent
    from inside that closing workflow task, so the server refuses the closing and the run
    must take them first. Signals and updates also reach new runs before their first task."""
    state = active_seller(ROUNDS * DECISIONS_PER_ROUND + 1 + 2 * RACING_RUNS)
    *task_ids, last_task = list(state.open_tasks)
    task_ids, racing = task_ids[: -2 * RACING_RUNS], iter(task_ids[-2 * RACING_RUNS :])
    raced: list[str] = []
    racing_updates: list[asyncio.Task[TaskOutcome]] = []

    async def race_decisions() -> None:
        """One decision by update, one by signal (twice), for two more tasks."""
        if (by_update := next(racing, None)) is None or (by_signal := next(racing, None)) is None:
            return
        raced.extend([by_update, by_signal])
        update = handle.execute_update(SellerWorkflow.complete_task, decision(by_update))
        racing_updates.append(asyncio.create_task(update))
        await asyncio.sleep(0)  # the update's request goes out first
        await decide_by_signal(handle, by_signal)

    handle = await rig.start(state)
    rig.racer.send = race_decisions
    started = time.monotonic()

    for r in range(ROUNDS):
        tasks = task_ids[r * DECISIONS_PER_ROUND : (r + 1) * DECISIONS_PER_ROUND]
        async with asyncio.timeout(SETTLE_SECONDS):
            await asyncio.gather(
                send_standings(handle, f"standing-{2 * r}", f"standing-{2 * r + 1}"),
                *(decide_by_signal(handle, t) for t in tasks[::2]),
                *(decide_by_update(handle, t) for t in tasks[1::2]),
            )
    rig.racer.send = None
    async with asyncio.timeout(SETTLE_SECONDS):
        outcomes = await asyncio.gather(*racing_updates)
    assert [o.task_id for o in outcomes] == raced[::2], "updates sent while a run closed"
    # Messages are handled in arrival order: once this one is answered, all of them were.
    async with asyncio.timeout(SETTLE_SECONDS):
        await handle.execute_update(SellerWorkflow.complete_task, decision(last_task))
    elapsed = time.monotonic() - started

    fx = rig.effects
    decided = [*task_ids, *raced, last_task]
    assert fx.closed == Counter(dict.fromkeys(decided, 1)), "each decision closed once"
    findings = Counter({f"mystery_order_finding: passed by lab1: {t}": 1 for t in decided})
    assert fx.notices == findings, "each decision notified once"
    expected: list[tuple[SellerStatus, str]] = []
    for r in range(ROUNDS):
        expected += [(SellerStatus.warned, f"standing-{2 * r}")]
        expected += [(SellerStatus.active, "KPIs recovered")]
    assert fx.statuses == expected, "each standing change once, in order, repeats ignored"

    runs = await run_chain(rig.client, handle.id)
    per_run = messages_per_run(runs)
    early, refused = around_continue_as_new(runs)
    print(f"{elapsed:.1f} s, runs: {len(runs)}, messages per run: {per_run}")
    print(f"signals before a run's first task: {early}, closing tasks refused: {refused}")
    # Each raced closing (two tasks decided per race) was refused by the server.
    assert refused >= len(raced) // 2 > 0
    assert sum(1 for n in per_run if n) >= 3, "the messages were spread over several runs"
    delivered = signalled_ids(runs, rig.client)
    assert delivered == Counter(
        {f"standing-{i}": 2 if i % 2 == 0 else 1 for i in range(2 * ROUNDS)}
    ), "the server delivered every standing signal to exactly one run"


async def manual_action(handle: Handle, request_id: str, action: SellerActionKind) -> str | None:
    """A manual action by update; None when the workflow refused it (its status changed)."""
    inp = ManualActionInput(request_id=request_id, action=action, actor="ops1", reason=request_id)
    try:
        return await handle.execute_update(SellerWorkflow.manual_action, inp)
    except WorkflowUpdateFailedError as err:
        if "cannot" not in str(err.cause):
            raise
        return None


async def next_run(handle: Handle) -> None:
    """Push the workflow into a new run with standing signals that change nothing, one at a
    time (a burst of hundreds would push the earlier ids out of the seller's dedupe memory)."""
    before = (await handle.describe()).run_id
    async with asyncio.timeout(SETTLE_SECONDS):
        while (await handle.describe()).run_id == before:
            await handle.signal(
                SellerWorkflow.standing_changed,
                StandingChangedInput(event_id=str(uuid.uuid4()), standing=Standing.good),
            )
            await signal_handled(handle)


async def test_repeated_manual_actions_apply_once_across_runs(rig: Rig) -> None:
    """An ops action retried with its idempotency key (a new update each time, as the API makes
    one per request): sent twice at once, and again after a continue-as-new, it applies once."""
    handle = await rig.start(active_seller())
    rounds = [(f"warn-{r}", f"reinstate-{r}") for r in range(4)]
    for warn, reinstate in rounds:
        for request_id, action in (
            (warn, SellerActionKind.warn),
            (reinstate, SellerActionKind.reinstate),
        ):
            async with asyncio.timeout(SETTLE_SECONDS):
                answers = await asyncio.gather(
                    manual_action(handle, request_id, action),
                    manual_action(handle, request_id, action),
                )
            # Both answered with the status after the action, or the late one refused by it.
            after = "warned" if action == SellerActionKind.warn else "active"
            assert set(answers) in ({after}, {after, None}), answers
    assert await manual_action(handle, "offboard", SellerActionKind.offboard) == "active"
    await next_run(handle)
    async with asyncio.timeout(SETTLE_SECONDS):
        again = await manual_action(handle, "offboard", SellerActionKind.offboard)
    assert again == "active"
    # The last message is answered: every earlier one has been handled.

    expected: list[tuple[SellerStatus, str]] = []
    for warn, reinstate in rounds:
        expected += [(SellerStatus.warned, f"manual warn by ops1: {warn}")]
        expected += [(SellerStatus.active, f"manual reinstate by ops1: {reinstate}")]
    assert rig.effects.statuses == expected
    notices = [n for n in rig.effects.notices.elements() if n.startswith("offboarding_notice")]
    assert notices == ["offboarding_notice: manual offboard by ops1: offboard"]

    accepted = accepted_actions(await run_chain(rig.client, handle.id), rig.client)
    assert sum(1 for ids in accepted if ids) >= 3, "the actions spanned several runs"
    offboards = [run for run, ids in enumerate(accepted) if "offboard" in ids]
    assert len(offboards) == 2, "the repeated offboard was taken by a later run"
    assert any(ids.count(r) == 2 for ids in accepted for r in ids), "both copies were taken"


def accepted_actions(runs: list[list[HistoryEvent]], client: Client) -> list[list[str]]:
    """The request ids of the manual actions each run accepted."""
    converter = client.data_converter.payload_converter
    accepted: list[list[str]] = []
    for events in runs:
        ids = []
        for event in events:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if request.meta.update_id:
                [inp] = converter.from_payloads(request.input.args.payloads, [ManualActionInput])
                ids.append(inp.request_id)
        accepted.append(ids)
    return accepted


async def signal_handled(handle: Handle) -> None:
    """Wait until the current run completed a workflow task after its last signal."""

    async def handled() -> bool:
        events = [e.event_type for e in (await handle.fetch_history()).events]
        last_signal = max(
            (i for i, t in enumerate(events) if t == SIGNALED),
            default=0,  # a new run: the signal was handled by the one before
        )
        return EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in events[last_signal:]

    await eventually(
        handled, timeout=SETTLE_SECONDS, interval=0.05, why="the last signal was never handled"
    )


async def test_decision_copy_during_its_decision_is_refused(rig: Rig) -> None:
    """A decision by signal, and its copy arriving while the workflow carries the first one out
    (its message already taken from the inbox, the task still open): the task closes once."""
    state = active_seller(2)
    held, other = list(state.open_tasks)
    rig.effects.held[held] = asyncio.Event()
    handle = await rig.start(state)

    await handle.signal(SellerWorkflow.complete_task_signal, decision(held))
    await eventually(
        lambda: rig.effects.closed[held],
        timeout=SETTLE_SECONDS,
        interval=0.02,
        why="the first decision never reached close_task",
    )
    await handle.signal(SellerWorkflow.complete_task_signal, decision(held))
    await signal_handled(handle)
    rig.effects.held[held].set()
    # An update after both: answered only once everything before it was handled.
    async with asyncio.timeout(SETTLE_SECONDS):
        await handle.execute_update(SellerWorkflow.complete_task, decision(other))

    assert rig.effects.closed == Counter({held: 1, other: 1})


async def test_evaluations_signal_each_seller_once_while_both_roll_over(rig: Rig) -> None:
    """Evaluations continue as new between chunks and the sellers they signal continue as new
    between messages: each seller applies each evaluation's standing once, in order, and an
    evaluation run again under its id (a retry) changes nothing."""
    handles = [await rig.start(active_seller()) for _ in range(6)]
    rig.market.sellers = [h.id.removeprefix("seller-") for h in handles]
    evaluations = [
        (f"evaluation-{uuid.uuid4()}", standing)
        for standing in (Standing.warn, Standing.good, Standing.warn, Standing.good)
    ]
    rig.market.standings = dict(evaluations)
    for evaluation_id, _ in [*evaluations, evaluations[0]]:
        result = await rig.client.execute_workflow(
            SellerEvaluationWorkflow.run,
            EvaluationInput(policy=rig.policy, evaluation_id=evaluation_id),
            id=evaluation_id,
            task_queue=rig.task_queue,
        )
        assert (result.sellers_scored, result.standing_changes) == (6, 6)
    # A manual action is answered after every message before it: the signals are all handled.
    for handle in handles:
        async with asyncio.timeout(SETTLE_SECONDS):
            await manual_action(handle, "settle", SellerActionKind.warn)

    first_warn, second_warn = evaluations[0][0], evaluations[2][0]
    expected = [
        (SellerStatus.warned, first_warn),
        (SellerStatus.active, "KPIs recovered"),
        (SellerStatus.warned, second_warn),
        (SellerStatus.active, "KPIs recovered"),
        (SellerStatus.warned, "manual warn by ops1: settle"),
    ]
    assert {s: rig.effects.by_seller[s] for s in rig.market.sellers} == dict.fromkeys(
        rig.market.sellers, expected
    )
    evaluation_runs = [len(await run_chain(rig.client, e)) for e, _ in evaluations]
    assert min(evaluation_runs) >= 2, evaluation_runs
    seller_runs = [len(await run_chain(rig.client, h.id)) for h in handles]
    assert min(seller_runs) >= 2, seller_runs


STREAM = 160  # standings sent back to back: many runs' worth of work, faster than it is done


async def test_a_stream_of_standings_faster_than_the_run_still_continues_as_new(
    rig: Rig,
) -> None:
    """Standings sent back to back, each changing the status (so the run is always in an
    activity when the next ones arrive): the run still continues as new near its limit,
    carrying the standings it has not applied, instead of handling messages for ever; every
    standing is applied once, in order, across the runs."""
    handle = await rig.start(active_seller())
    seller_id = handle.id.removeprefix("seller-")
    for sent in range(STREAM):
        standing = (Standing.warn, Standing.good)[sent % 2]
        inp = StandingChangedInput(event_id=f"stream-{sent}", standing=standing)
        await handle.signal(SellerWorkflow.standing_changed, inp)
    await eventually(
        lambda: len(rig.effects.by_seller[seller_id]) >= STREAM or None,
        timeout=SETTLE_SECONDS,
        why=lambda: f"{len(rig.effects.by_seller[seller_id])} of {STREAM} standings applied",
    )

    runs = await run_chain(rig.client, handle.id)
    assert len(runs) >= 3, f"{len(runs)} runs of {[len(r) for r in runs]} events"
    # A run checks its length before each message: past the limit by the events of one message,
    # and of the signals that reach it while it closes (the server refuses a closing that new
    # signals reached, and the run closes again, carrying them): a bound of its own, not the
    # stream's length.
    assert max(len(events) for events in runs) <= 5 * EVENTS_PER_RUN, [len(r) for r in runs]
    statuses = [status for status, _ in rig.effects.by_seller[seller_id]]
    assert statuses == [(SellerStatus.warned, SellerStatus.active)[i % 2] for i in range(STREAM)]
