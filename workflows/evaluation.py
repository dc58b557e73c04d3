"""Scores every seller in bulk and signals only the sellers whose standing changed."""

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.evaluation import EvaluationActivities
    from sellerflow.payloads import (
        BeginEvaluationInput,
        CategoryMeansInput,
        EvaluationInput,
        EvaluationProgress,
        EvaluationResult,
        FinishEvaluationInput,
        RankSellersInput,
        ScoreChunkInput,
        StandingChange,
        StandingChangedInput,
    )
    from workflows.common import (
        ACTIVITY_OPTIONS,
        EVALUATION_ONCE_PATCH,
        patched,
        signal_sellers,
    )
    from workflows.seller import SellerWorkflow

# Scoring a chunk takes minutes; it heartbeats, and retries as the business activities do.
CHUNK_OPTIONS = replace(
    ACTIVITY_OPTIONS,
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(minutes=1),
)

# Each signalled seller costs two history events; move to a fresh run well before the limits.
MAX_EVENTS_PER_RUN = 10_000


@workflow.defn
class SellerEvaluationWorkflow:
    @workflow.run
    async def run(self, inp: EvaluationInput) -> EvaluationResult:
        evaluation_id = inp.evaluation_id or workflow.info().workflow_id
        if inp.progress is None and patched(EVALUATION_ONCE_PATCH):
            claim = await ACTIVITY_OPTIONS.execute(
                EvaluationActivities.begin_evaluation,
                BeginEvaluationInput(evaluation_id=evaluation_id, at=workflow.now()),
            )
            if claim.running is not None:
                workflow.logger.info("evaluation %s is running: skipped", claim.running)
                return EvaluationResult(
                    evaluation_id=evaluation_id,
                    sellers_scored=0,
                    standing_changes=0,
                    skipped_for=claim.running,
                )
        progress = inp.progress or await self._start(inp)
        while True:
            chunk = await CHUNK_OPTIONS.execute(
                EvaluationActivities.score_sellers,
                ScoreChunkInput(
                    evaluation_id=progress.evaluation_id,
                    policy=inp.policy,
                    as_of=progress.as_of,
                    after_seller_id=progress.after_seller_id or None,
                    limit=inp.policy.evaluation.chunk_size,
                    category_means=progress.category_means,
                ),
            )
            await self._signal_changes(progress.evaluation_id, chunk.changes)
            progress = progress.model_copy(
                update={
                    "after_seller_id": chunk.last_seller_id or "",
                    "scored": progress.scored + chunk.scored,
                    "changed": progress.changed + len(chunk.changes),
                }
            )
            if chunk.last_seller_id is None:
                break
            info = workflow.info()
            if info.is_continue_as_new_suggested() or (
                info.get_current_history_length() > MAX_EVENTS_PER_RUN
            ):
                workflow.continue_as_new(inp.model_copy(update={"progress": progress}))
        return await self._finish(inp, progress)

    async def _start(self, inp: EvaluationInput) -> EvaluationProgress:
        evaluation_id = inp.evaluation_id or workflow.info().workflow_id
        as_of = workflow.now()
        means = await CHUNK_OPTIONS.execute(
            EvaluationActivities.category_means,
            CategoryMeansInput(evaluation_id=evaluation_id, policy=inp.policy, as_of=as_of),
        )
        return EvaluationProgress(
            evaluation_id=evaluation_id,
            as_of=as_of,
            category_means=means,
            after_seller_id="",
            scored=0,
            changed=0,
        )

    async def _signal_changes(self, evaluation_id: str, changes: list[StandingChange]) -> None:
        """One signal per changed seller, all of a chunk sent together (one workflow task)."""
        await signal_sellers(
            SellerWorkflow.standing_changed,
            [
                (
                    change.seller_id,
                    StandingChangedInput(
                        event_id=f"{evaluation_id}:{change.seller_id}",
                        standing=change.standing,
                        reasons=change.reasons,
                    ),
                )
                for change in changes
            ],
            "not signalled",
        )

    async def _finish(self, inp: EvaluationInput, progress: EvaluationProgress) -> EvaluationResult:
        await CHUNK_OPTIONS.execute(
            EvaluationActivities.rank_sellers,
            RankSellersInput(evaluation_id=progress.evaluation_id, policy=inp.policy),
        )
        await ACTIVITY_OPTIONS.execute(
            EvaluationActivities.finish_evaluation,
            FinishEvaluationInput(
                evaluation_id=progress.evaluation_id,
                sellers_scored=progress.scored,
                standing_changes=progress.changed,
                at=workflow.now(),
            ),
        )
        return EvaluationResult(
            evaluation_id=progress.evaluation_id,
            sellers_scored=progress.scored,
            standing_changes=progress.changed,
        )
