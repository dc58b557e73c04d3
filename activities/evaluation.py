"""The bulk seller evaluation: chunks of set-based SQL, with heartbeats."""

import uuid

import sqlalchemy as sa
from temporalio import activity

from sellerflow.db import insert_once, session_scope, table_of
from sellerflow.evaluation_runs import RUNNING, RUNS, STALE_AFTER
from sellerflow.models import EvaluationRun, utcnow
from sellerflow.payloads import (
    BeginEvaluationInput,
    BeginEvaluationResult,
    CategoryMeansInput,
    FinishEvaluationInput,
    RankSellersInput,
    ScoreChunkInput,
    ScoreChunkResult,
    StandingChange,
)
from sellerflow.scoring import category_means, rank, score_chunk


class EvaluationActivities:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @activity.defn
    def begin_evaluation(self, inp: BeginEvaluationInput) -> BeginEvaluationResult:
        """Claim the one running slot (a unique index on running rows); a retry keeps it."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(RUNS)
                .where(RUNS.c.status == "running", RUNS.c.started_at <= inp.at - STALE_AFTER)
                .values(status="abandoned")
            )
            other = conn.execute(RUNNING.where(RUNS.c.id != inp.evaluation_id)).first()
            status = "skipped" if other is not None else "running"
            inserted = insert_once(
                conn,
                RUNS,
                "id",
                {"id": inp.evaluation_id, "status": status, "started_at": inp.at},
            )
            if not inserted:
                mine = conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == inp.evaluation_id))
                status = mine.scalar_one()
        if status == "running":
            return BeginEvaluationResult()
        return BeginEvaluationResult(running=other.id if other is not None else "another")

    @activity.defn
    def score_sellers(self, inp: ScoreChunkInput) -> ScoreChunkResult:
        """Score up to `limit` sellers after `after_seller_id` in one transaction."""
        after = uuid.UUID(inp.after_seller_id) if inp.after_seller_id else None
        activity.heartbeat(inp.after_seller_id)
        with self.engine.begin() as conn:
            last, scored, changes = score_chunk(
                conn, inp.policy, inp.as_of, after, inp.limit, inp.category_means
            )
        return ScoreChunkResult(
            last_seller_id=str(last) if last else None,
            scored=scored,
            changes=[
                StandingChange(seller_id=str(sid), standing=standing, reasons=reasons)
                for sid, standing, reasons in changes
            ],
        )

    @activity.defn
    def category_means(self, inp: CategoryMeansInput) -> dict[str, dict[str, float]]:
        """Record the run and compute each category's KPI means (one grouped scan)."""
        with self.engine.begin() as conn:
            table = table_of(EvaluationRun)
            known = conn.execute(sa.select(table.c.id).where(table.c.id == inp.evaluation_id))
            if not known.first():
                conn.execute(
                    sa.insert(table).values(
                        id=inp.evaluation_id, status="running", started_at=utcnow()
                    )
                )
            return category_means(conn, inp.policy, inp.as_of)

    @activity.defn
    def rank_sellers(self, inp: RankSellersInput) -> int:
        with self.engine.begin() as conn:
            return rank(conn)

    @activity.defn
    def finish_evaluation(self, inp: FinishEvaluationInput) -> None:
        with session_scope(self.engine) as session:
            run = session.get(EvaluationRun, inp.evaluation_id) or EvaluationRun(
                id=inp.evaluation_id
            )
            run.finished_at, run.status = inp.at, "completed"
            run.sellers_scored, run.standing_changes = inp.sellers_scored, inp.standing_changes
            session.add(run)
