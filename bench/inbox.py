"""Benchmark of the staff inbox (`GET /v1/tasks`) on SQLite and PostgreSQL.

Fills a database with open tasks spread over roles, kinds, assignees and due dates, then sends
typical inbox requests through the ASGI app with httpx (no Temporal needed) and prints one
JSON line per database with the latency percentiles.

    python -m bench.inbox --db both [--tasks 10000] [--closed 0] [--requests 200] [--inbox-index]

`--inbox-index` adds the composite index the inbox query wants, (status, role, due_at), that no
migration creates yet, to compare.
"""

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from api.main import build_state, create_app
from bench.evaluation import sqlite_database
from bench.seeding import APPLICATION, with_defaults
from bench.stack import postgres_schema
from sellerflow.cli.devstack import seed_dev_users
from sellerflow.config import Settings
from sellerflow.db import make_engine, table_of, upgrade_schema
from sellerflow.models import Application, Task
from sellerflow.security import issue_token
from sellerflow.vocabulary import TASK_ROLES, TaskKind, TaskStatus

USERS = {"onboarding": ["onboarding1", "onboarding2"], "ssm": ["ssm1", "ssm2"], "lab": ["lab1"]}
# (user, query) pairs as the inbox pages send them.
REQUESTS: list[tuple[str, dict[str, str]]] = [
    ("onboarding1", {}),
    ("onboarding1", {"assignee": "me"}),
    ("onboarding2", {"assignee": "none", "kind": "onboarding_review"}),
    ("ssm1", {"role": "ssm", "overdue": "true"}),
    ("ssm2", {"kind": "appeal_review", "offset": "50"}),
    ("lab1", {"assignee": "none"}),
    ("ops1", {}),
    ("ops1", {"overdue": "true", "limit": "200"}),
]


# The inbox's p99 at 10,000 open tasks when the target was set (issue 20): it is to stay there.
TARGET_P99_MS = 45.0

DATABASES = {"sqlite": sqlite_database, "postgres": postgres_schema}


def task_rows(count: int, status: TaskStatus, rng: random.Random) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        kind = rng.choice(list(TaskKind))
        role = rng.choice(sorted(TASK_ROLES[kind])).value
        assignee = rng.choice([None, None, *USERS.get(role, ["ops1"])])
        rows.append(
            {
                "id": uuid.uuid4(),
                "kind": kind.value,
                "workflow_id": f"onboarding-{uuid.uuid4()}",
                "application_id": uuid.uuid4(),
                "role": role,
                "assignee": assignee,
                "status": status.value,
                "priority": rng.choice([0, 0, 0, 1]),
                "escalated": False,
                "note": "",
                "created_at": now - timedelta(days=rng.uniform(0, 30)),
                "due_at": now + timedelta(hours=rng.uniform(-72, 24 * 14)),
                "reason_codes": [],
                "document_verdicts": [],
                "checklist": {},
            }
        )
    return rows


INBOX_INDEX = "CREATE INDEX ix_task_inbox ON task (status, role, due_at)"


def fill(engine: sa.Engine, open_tasks: int, closed_tasks: int, inbox_index: bool) -> None:
    rng = random.Random(7)
    table = table_of(Task)
    rows = task_rows(open_tasks, TaskStatus.open, rng)
    rows += task_rows(closed_tasks, TaskStatus.completed, rng)
    # Each task's application (the foreign key of task.application_id), as the API writes it.
    apps = table_of(Application)
    applications = [
        with_defaults(apps, {**APPLICATION, "id": row["application_id"], "policy_version": "v1"})
        for row in rows
    ]
    with engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(apps.insert(), applications[start : start + 2000])
            conn.execute(table.insert(), rows[start : start + 2000])
        if inbox_index:
            conn.execute(sa.text(INBOX_INDEX))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE task"))


def percentile(values: list[float], q: int) -> float:
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


async def measure(settings: Settings, requests: int) -> list[float]:
    app = create_app(settings)
    app.state.sellerflow = state = build_state(settings)
    tokens = {
        user: issue_token(settings.sellerflow_secret_key, user, kind="staff", minutes=60)
        for user, _ in REQUESTS
    }
    timings = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        for number in range(requests + 20):
            user, params = REQUESTS[number % len(REQUESTS)]
            headers = {"Authorization": f"Bearer {tokens[user]}"}
            started = time.perf_counter()
            response = await http.get("/v1/tasks", params=params, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.text
            if number >= 20:  # the first requests warm caches and connections
                timings.append(elapsed)
    await state.close()
    return timings


def bench(
    db: str, open_tasks: int, closed_tasks: int, requests: int, inbox_index: bool
) -> dict[str, Any]:
    with DATABASES[db]() as url:
        settings = Settings(database_url=url, temporal_address="127.0.0.1:1")
        upgrade_schema(url)
        seed_dev_users(settings)
        engine = make_engine(url)
        fill(engine, open_tasks, closed_tasks, inbox_index)
        engine.dispose()
        timings = asyncio.run(measure(settings, requests))
    return {
        "db": db,
        "open_tasks": open_tasks,
        "closed_tasks": closed_tasks,
        "inbox_index": inbox_index,
        "requests": len(timings),
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "p99_ms": percentile(timings, 99),
        "max_ms": round(max(timings), 1),
        "target_p99_ms": TARGET_P99_MS,
        "met": percentile(timings, 99) <= TARGET_P99_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--tasks", type=int, default=10_000, help="open tasks")
    parser.add_argument("--closed", type=int, default=0, help="completed tasks besides")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--inbox-index", action="store_true", help="add (status, role, due_at)")
    args = parser.parse_args()
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        result = bench(db, args.tasks, args.closed, args.requests, args.inbox_index)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
