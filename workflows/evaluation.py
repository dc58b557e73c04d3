"""Scores every seller in bulk and signals only the sellers whose standing changed."""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.evaluation import EvaluationActivities
    from sellerflow.payloads import (
        CategoryMeansInput,
        EvaluationInput,
        EvaluationResult,
        FinishEvaluationInput,
        RankSellersInput,
        ScoreChunkInput,
        StandingChangedInput,
    )
    from workflows.common import ACTIVITY_OPTIONS
    from workflows.seller import SellerWorkflow

CHUNK_OPTIONS = {
    **ACTIVITY_OPTIONS,
    "start_to_close_timeout": timedelta(minutes=10),
    "heartbeat_timeout": timedelta(minutes=1),
}


@workflow.defn
class SellerEvaluationWorkflow:
    @workflow.run
    async def run(self, inp: EvaluationInput) -> EvaluationResult:
        evaluation_id = inp.evaluation_id or workflow.info().workflow_id
        as_of = workflow.now()
        after: str | None = None
        scored = changed = 0
        means = await workflow.execute_activity_method(
            EvaluationActivities.category_means,
            CategoryMeansInput(evaluation_id=evaluation_id, policy=inp.policy, as_of=as_of),
            **CHUNK_OPTIONS,
        )
        while True:
            chunk = await workflow.execute_activity_method(
                EvaluationActivities.score_sellers,
                ScoreChunkInput(
                    evaluation_id=evaluation_id,
                    policy=inp.policy,
                    as_of=as_of,
                    after_seller_id=after,
                    limit=inp.policy.evaluation.chunk_size,
                    category_means=means,
                ),
                **CHUNK_OPTIONS,
            )
            scored += chunk.scored
            for change in chunk.changes:
                changed += 1
                handle = workflow.get_external_workflow_handle(f"seller-{change.seller_id}")
                try:
                    await handle.signal(
                        SellerWorkflow.standing_changed,
                        StandingChangedInput(
                            event_id=f"{evaluation_id}:{change.seller_id}",
                            standing=change.standing,
                            reasons=change.reasons,
                        ),
                    )
                except ApplicationError as err:
                    # A seller whose workflow is closed (offboarded) has nothing to react.
                    workflow.logger.info("seller %s not signalled: %s", change.seller_id, err)
            if chunk.last_seller_id is None:
                break
            after = chunk.last_seller_id
        await workflow.execute_activity_method(
            EvaluationActivities.rank_sellers,
            RankSellersInput(evaluation_id=evaluation_id, policy=inp.policy),
            **CHUNK_OPTIONS,
        )
        await workflow.execute_activity_method(
            EvaluationActivities.finish_evaluation,
            FinishEvaluationInput(
                evaluation_id=evaluation_id,
                sellers_scored=scored,
                standing_changes=changed,
                at=workflow.now(),
            ),
            **ACTIVITY_OPTIONS,
        )
        return EvaluationResult(
            evaluation_id=evaluation_id, sellers_scored=scored, standing_changes=changed
        )
