"""Evaluation runs: at most one runs at a time (the schedule's, or one started by ops)."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from sellerflow.db import table_of
from sellerflow.models import EvaluationRun

RUNS: sa.Table = table_of(EvaluationRun)
# An evaluation still 'running' after this long died without finishing (the schedule gives
# each run 6 hours): it no longer keeps the next one from starting.
STALE_AFTER = timedelta(hours=6)
RUNNING = sa.select(RUNS.c.id, RUNS.c.started_at).where(RUNS.c.status == "running")


def running_evaluation(conn: sa.Connection, now: datetime) -> str | None:
    """The evaluation running now, if any (one left by a run that died does not count)."""
    row = conn.execute(RUNNING).first()
    return str(row.id) if row is not None and row.started_at > now - STALE_AFTER else None
