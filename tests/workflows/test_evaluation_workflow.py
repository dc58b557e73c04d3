"""The evaluation workflow: chunk after chunk, one signal per changed seller (closed seller
workflows are skipped), continue-as-new when its history grows, totals carried across runs."""

import uuid

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import UnsandboxedWorkflowRunner

import workflows.evaluation as evaluation
from activities.evaluation import EvaluationActivities
from sellerflow.payloads import (
    BeginEvaluationInput,
    BeginEvaluationResult,
    CategoryMeansInput,
    EvaluationInput,
    FinishEvaluationInput,
    RankSellersInput,
    ScoreChunkInput,
    ScoreChunkResult,
    StandingChange,
    StandingChangedInput,
)
from sellerflow.policy.model import load_policy
from sellerflow.vocabulary import Standing
from tests.support.fakes import fake_of, fakes_in
from tests.support.workers import worker_on_new_queue
from workflows.evaluation import SellerEvaluationWorkflow


@workflow.defn(name="SellerWorkflow")
class SellerStub:
    """Stands in for a seller workflow: counts the standing changes it receives."""

    def __init__(self) -> None:
        self.received: list[str] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def standing_changed(self, inp: StandingChangedInput) -> None:
        self.received.append(inp.event_id)

    @workflow.query
    def events(self) -> list[str]:
        return self.received


class ChunkedEvaluation:
    """The evaluation's activities: `chunks` of seller ids, each seller's standing changed."""

    def __init__(self, chunks: list[list[str]], finished: list[FinishEvaluationInput]) -> None:
        self.chunks, self.finished = chunks, finished

    @fake_of(EvaluationActivities.begin_evaluation)
    def begin_evaluation(self, inp: BeginEvaluationInput) -> BeginEvaluationResult:
        return BeginEvaluationResult(running=None)

    @fake_of(EvaluationActivities.category_means)
    def category_means(self, inp: CategoryMeansInput) -> dict[str, dict[str, float]]:
        return {}

    @fake_of(EvaluationActivities.score_sellers)
    def score_sellers(self, inp: ScoreChunkInput) -> ScoreChunkResult:
        index = 0 if inp.after_seller_id is None else int(inp.after_seller_id.split(":")[1])
        ids = self.chunks[index]
        return ScoreChunkResult(
            last_seller_id=f"chunk:{index + 1}" if ids else None,
            scored=2 * len(ids),  # half of the scored sellers changed standing
            changes=[StandingChange(seller_id=i, standing=Standing.warn, reasons=[]) for i in ids],
        )

    @fake_of(EvaluationActivities.rank_sellers)
    def rank_sellers(self, inp: RankSellersInput) -> int:
        return 0

    @fake_of(EvaluationActivities.finish_evaluation)
    def finish_evaluation(self, inp: FinishEvaluationInput) -> None:
        self.finished.append(inp)


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation, "MAX_EVENTS_PER_RUN", 25)


async def test_chunks_signals_and_continue_as_new(
    temporal_client: Client, small_runs: None
) -> None:
    live = [str(uuid.uuid4()) for _ in range(6)]
    closed = str(uuid.uuid4())  # no workflow runs for this seller
    chunks = [live[0:2], [*live[2:4], closed], live[4:6], []]
    finished: list[FinishEvaluationInput] = []

    async with worker_on_new_queue(
        temporal_client,
        "evaluation",
        workflows=[SellerEvaluationWorkflow, SellerStub],
        activities=fakes_in(ChunkedEvaluation(chunks, finished)),
        workflow_runner=UnsandboxedWorkflowRunner(),
    ) as task_queue:
        sellers = [
            await temporal_client.start_workflow(
                SellerStub.run, id=f"seller-{i}", task_queue=task_queue
            )
            for i in live
        ]
        evaluation_id = f"evaluation-{uuid.uuid4()}"
        handle = await temporal_client.start_workflow(
            SellerEvaluationWorkflow.run,
            EvaluationInput(policy=load_policy("default"), evaluation_id=evaluation_id),
            id=evaluation_id,
            task_queue=task_queue,
        )
        result = await handle.result()
        received = [await s.query(SellerStub.events) for s in sellers]
        runs = [w async for w in temporal_client.list_workflows(f"WorkflowId = '{evaluation_id}'")]
        for seller in sellers:
            await seller.terminate()

    assert (result.sellers_scored, result.standing_changes) == (14, 7)
    assert received == [[f"{evaluation_id}:{i}"] for i in live]
    assert len(runs) >= 2, "the evaluation continued as new"
    assert WorkflowExecutionStatus.CONTINUED_AS_NEW in {r.status for r in runs}
    assert [(f.sellers_scored, f.standing_changes) for f in finished] == [(14, 7)]
