"""Two simulated years of daily evaluations against one seller workflow: it must continue as new,
keep every run's history short, and apply each standing signal exactly once across the runs.

One signal per simulated day; the days are sent in batches of BATCH_DAYS, each batch followed by
one fast-forward over those days (a fast-forward per day would spend most of a minute on the
server's time-skipping round trips alone). The model applies a batch's signals at the time they
were sent and its timers at the batch's end, as the workflow does.
"""

import random
import time
from datetime import datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from sellerflow.payloads import StandingChangedInput
from sellerflow.policy.lifecycle import on_standing, on_task_decided, on_timers
from sellerflow.policy.model import Policy
from sellerflow.policy.seller_state import Effect, OpenTaskEffect, SellerState, StatusEffect
from sellerflow.vocabulary import Decision, SellerStatus, Standing, TaskKind
from tests.idle import wait_for_idle
from tests.support.waiting import eventually
from tests.workflows.conftest import Harness
from workflows.seller import MAX_EVENTS_PER_RUN, SellerWorkflow

DAYS = 2 * 365
BATCH_DAYS = 7
BAD_SPELL_DAYS = (2, 12)


def daily_standings(seed: int = 7) -> list[Standing]:
    """Mostly good, with a bad spell (warn, some days limit) every few weeks."""
    rng = random.Random(seed)
    days: list[Standing] = []
    while len(days) < DAYS:
        days += [Standing.good] * rng.randint(10, 40)
        days += rng.choices([Standing.warn, Standing.limit], k=rng.randint(*BAD_SPELL_DAYS))
    return days[:DAYS]


class LadderModel:
    """What the pure ladder rules say the workflow must do with the same batches of signals."""

    def __init__(self, policy: Policy, seller_id: str, now: datetime) -> None:
        self.policy = policy
        self.state = SellerState(seller_id=seller_id, status=SellerStatus.active, trial_ends_at=now)
        self.statuses: list[SellerStatus] = []
        self.mystery_orders = 0

    def batch(self, standings: list[Standing], sent_at: datetime, now: datetime) -> None:
        """The batch's signals as of `sent_at` (an improvement period starts when its warning is
        applied), the timers due by `now`, then the lab passes what is open."""
        for standing in standings:
            self._apply(on_standing(self.policy, self.state, standing, [], sent_at))
        self._apply(on_timers(self.policy, self.state, now))
        for task_id, kind in list(self.state.open_tasks.items()):
            if kind == TaskKind.mystery_order:
                self._apply(
                    on_task_decided(
                        self.policy, self.state, task_id, Decision.passed, "lab1", "", now
                    )
                )

    def _apply(self, effects: list[Effect]) -> None:
        self.statuses += [e.status for e in effects if isinstance(e, StatusEffect)]
        self.mystery_orders += sum(
            1 for e in effects if isinstance(e, OpenTaskEffect) and e.kind == TaskKind.mystery_order
        )


async def run_ids(client: Client, workflow_id: str, first_run_id: str) -> list[str]:
    """The chain of runs, followed through each run's continued-as-new event."""
    ids = [first_run_id]
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=ids[-1]).fetch_history()
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return ids
        ids.append(last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id)


async def history_lengths(client: Client, workflow_id: str, ids: list[str]) -> list[int]:
    return [
        len((await client.get_workflow_handle(workflow_id, run_id=r).fetch_history()).events)
        for r in ids
    ]


async def first_task_done(handle: WorkflowHandle[SellerWorkflow, str]) -> None:
    """Wait until the current run has run a workflow task (a query answers only then).

    After continue-as-new the dev server may hold the new run's first workflow task back by
    about a second of real time, which a fast-forward does not skip; messages wait meanwhile.
    """

    async def answered() -> bool:
        try:
            await handle.query(SellerWorkflow.view)
        except RPCError as err:
            if "not scheduled yet" not in err.message:
                raise
            return False
        return True

    await eventually(answered, timeout=5, why="the run never started its first workflow task")


async def send_batch(
    handle: WorkflowHandle[SellerWorkflow, str], first_day: int, standings: list[Standing]
) -> None:
    for day, standing in enumerate(standings, start=first_day):
        signal = StandingChangedInput(event_id=f"evaluation-{day}", standing=standing)
        await handle.signal(SellerWorkflow.standing_changed, signal)
    # The previous batch's last evaluation again, as a retried evaluation would send it.
    if first_day:
        repeat = StandingChangedInput(
            event_id=f"evaluation-{first_day - 1}", standing=Standing.limit
        )
        await handle.signal(SellerWorkflow.standing_changed, repeat)


async def test_two_years_of_daily_evaluations(harness: Harness) -> None:
    started = time.monotonic()
    first = await harness.start()
    await harness.graduate(first)
    # Signals and fast-forwards follow the chain by workflow id; `first` is pinned to run one.
    handle = harness.client.get_workflow_handle_for(SellerWorkflow.run, first.id)
    statuses_before = len(harness.rec.statuses)
    mystery_before = len(harness.opened(TaskKind.mystery_order))
    seller_id = first.id.removeprefix("seller-")
    model = LadderModel(harness.policy, seller_id, await harness.skipper.get_current_time(handle))
    standings = daily_standings()

    for first_day in range(0, DAYS, BATCH_DAYS):
        batch = standings[first_day : first_day + BATCH_DAYS]
        sent_at = await harness.skipper.get_current_time(handle)
        await send_batch(handle, first_day, batch)
        # The batch applied before time moves on, as the model applies it (at `sent_at`): on a
        # loaded machine a fast-forward could otherwise overtake signals not yet handled.
        await wait_for_idle(handle)
        await harness.skipper.fast_forward(handle, timedelta(days=len(batch)))
        await first_task_done(handle)
        model.batch(batch, sent_at, await harness.skipper.get_current_time(handle))
        await harness.decide_open_mystery_orders(handle)
    # What the last decisions set off may still be running: count once the workflow waits.
    await wait_for_idle(handle)

    runs = await run_ids(harness.client, first.id, first.first_execution_run_id or "")
    lengths = await history_lengths(harness.client, first.id, runs)
    print(f"runs: {len(runs)}, events per run: {lengths}, {time.monotonic() - started:.1f} s")
    assert len(runs) >= 2, "the workflow continued as new"
    assert max(lengths) < MAX_EVENTS_PER_RUN + 1_000
    applied = harness.rec.statuses[statuses_before:]
    assert applied == model.statuses, "each status change once, none lost, none doubled"
    assert {SellerStatus.warned, SellerStatus.limited, SellerStatus.active} <= set(applied)
    follow_ups = len(harness.opened(TaskKind.mystery_order)) - mystery_before
    assert follow_ups == model.mystery_orders > 0
