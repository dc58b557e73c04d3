"""A policy version's rollout: the sellers told at once, then at `effective_at` the version put
in force, the evaluation schedule moved to it and every running seller workflow switched, a
page of sellers at a time, its progress recorded so that a crash resumes where it was."""

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.rollout import RolloutActivities
    from sellerflow.payloads import PolicyChangedInput
    from sellerflow.policy.model import Policy
    from sellerflow.rollout_payloads import (
        ActivateVersionInput,
        AnnounceRolloutInput,
        EvaluationScheduleInput,
        FinishRolloutInput,
        RolloutInput,
        RolloutProgress,
        RolloutProgressInput,
        RolloutResult,
        SellersToSwitchInput,
    )
    from workflows.common import ACTIVITY_OPTIONS, signal_sellers
    from workflows.seller import SellerWorkflow

# Telling every seller scores them all, chunk by chunk: minutes, with heartbeats.
ANNOUNCE_OPTIONS = replace(
    ACTIVITY_OPTIONS,
    start_to_close_timeout=timedelta(hours=1),
    heartbeat_timeout=timedelta(minutes=2),
)
# Sellers signalled per page: each signal carries the rules, two events and a few KB of history.
PAGE_SIZE = 200
# Continue as new well before Temporal's limits (the signals' payloads stay in the history).
MAX_EVENTS_PER_RUN = 5_000
MAX_BYTES_PER_RUN = 10_000_000


def workflow_id(version: str) -> str:
    return f"policy-rollout-{version}"


@workflow.defn
class PolicyRolloutWorkflow:
    @workflow.run
    async def run(self, inp: RolloutInput) -> RolloutResult:
        progress = inp.progress or await self._announce_and_activate(inp)
        while True:
            page = await ACTIVITY_OPTIONS.execute(
                RolloutActivities.sellers_to_switch,
                SellersToSwitchInput(
                    version=inp.version, after_seller_id=progress.after_seller_id, limit=PAGE_SIZE
                ),
            )
            if not page.seller_ids:
                break
            await self._signal(inp.version, progress.policy, page.seller_ids)
            progress = progress.model_copy(
                update={
                    "after_seller_id": page.seller_ids[-1],
                    "switched": progress.switched + len(page.seller_ids),
                }
            )
            await ACTIVITY_OPTIONS.execute(
                RolloutActivities.record_progress,
                RolloutProgressInput(
                    version=inp.version,
                    after_seller_id=progress.after_seller_id,
                    switched=progress.switched,
                ),
            )
            if self._should_continue_as_new():
                workflow.continue_as_new(inp.model_copy(update={"progress": progress}))
        await ACTIVITY_OPTIONS.execute(
            RolloutActivities.finish_rollout,
            FinishRolloutInput(version=inp.version, switched=progress.switched, at=workflow.now()),
        )
        return RolloutResult(
            version=inp.version,
            sellers_notified=progress.notified,
            sellers_switched=progress.switched,
        )

    async def _announce_and_activate(self, inp: RolloutInput) -> RolloutProgress:
        notified = await ANNOUNCE_OPTIONS.execute(
            RolloutActivities.announce_rollout, AnnounceRolloutInput(version=inp.version)
        )
        await workflow.sleep(max(timedelta(0), inp.effective_at - workflow.now()))
        policy = await ACTIVITY_OPTIONS.execute(
            RolloutActivities.activate_version,
            ActivateVersionInput(version=inp.version, at=workflow.now()),
        )
        await ACTIVITY_OPTIONS.execute(
            RolloutActivities.update_evaluation_schedule, EvaluationScheduleInput(policy=policy)
        )
        return RolloutProgress(policy=policy, notified=notified)

    async def _signal(self, version: str, policy: Policy, seller_ids: list[str]) -> None:
        """One signal per seller of the page, all sent together (one workflow task)."""
        change = PolicyChangedInput(version=version, policy=policy, event_id=workflow_id(version))
        await signal_sellers(
            SellerWorkflow.policy_changed,
            [(seller_id, change) for seller_id in seller_ids],
            "not switched",
        )

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > MAX_EVENTS_PER_RUN
            or info.get_current_history_size() > MAX_BYTES_PER_RUN
        )
