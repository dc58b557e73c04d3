"""Benchmark of the hot staff reads: the ops figures (`GET /v1/ops/stats`), the seller ranking
(`GET /v1/sellers`) and the staff seller pages (`/staff/sellers`, `/staff/sellers/{id}`), on
PostgreSQL or SQLite.

Seeds applications with their stage changes (journeys of varying length, the changes-requested
loop included, `submitted` and `verifying` entered at the same moment as the workflow enters
them) and sellers (statuses as `bench.dataset` spreads them, most scored), set-based: `COPY` on
PostgreSQL, `executemany` in batches of 50,000 on SQLite, with the triggers that keep the ops
read models off, then fills those as migration 0017 does (`ops_read_models.rebuild`). Each
scored seller has its scorecard and `--history-days` of daily evaluations (the sellers whose card
is read: the full `HISTORY_DAYS`, and three reason records). Then sends the requests through the
ASGI app in this process with httpx (no Temporal needed: the card's timeline, read from Temporal,
is left out) and prints one JSON line per route with its p99, the target and whether it is met.

    python -m bench.ops_stats --db postgres|sqlite|both [--applications 100000]
        [--stage-changes 1000000] [--sellers 100000] [--requests 200] [--stats-requests 50]
"""

import argparse
import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import httpx
import sqlalchemy as sa

import api.pages.sellers
from api.main import build_state, create_app
from api.pages.session import SESSION_COOKIE
from bench.dataset import (
    AS_OF,
    SELLER_COLUMNS,
    Dataset,
    copy_into_postgres,
    hourly_timestamps,
    insert_into_sqlite,
)
from bench.evaluation import sqlite_database
from bench.seeding import APPLICATION
from bench.stack import percentiles_ms, postgres_schema
from sellerflow import ops_read_models
from sellerflow.cli.devstack import seed_dev_users
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.models import RANKING_INDEXES
from sellerflow.scoring import HISTORY_DAYS
from sellerflow.security import issue_token
from sellerflow.vocabulary import KPI, Stage

APPLICATION_COLUMNS = (
    "id",
    "legal_name",
    "seller_category",
    "country",
    "registration_number",
    "vat_number",
    "contact_name",
    "contact_email",
    "product_categories",
    "stage",
    "stage_entered_at",
    "policy_version",
    "created_at",
    "updated_at",
)
STAGE_CHANGE_COLUMNS = ("id", "application_id", "stage", "entered_at", "idempotency_key")
# Kept by triggers on the stage changes: off while they are copied in, then filled set-based
# as migration 0017 fills them (`ops_read_models.rebuild`).
READ_MODELS = ("stage_duration", "stage_duration_bucket", "stage_reach")
SCORED_SELLER_COLUMNS = (*SELLER_COLUMNS, "score")
KPI_NAMES = [kpi.value for kpi in KPI]

# A journey's stages in the order the workflow enters them; a review asking for changes sends
# the application round the loop again.
JOURNEY = [Stage.draft, Stage.submitted, Stage.verifying, Stage.onboarding_review]
CHANGES_LOOP = [Stage.changes_requested, Stage.submitted, Stage.verifying, Stage.onboarding_review]
APPROVAL = [Stage.ssm_signoff, Stage.account_setup, Stage.approved]
# Entered by the same move as the stage before them: the same moment.
SAME_MOMENT = {Stage.verifying}

# (query) of the seller ranking as the staff pages send it.
SELLER_QUERIES: list[dict[str, str]] = [
    {},
    {"status": "active"},
    {"category": "recycler"},
    {"status": "trial", "category": "retailer"},
    {"status": "warned"},
    {"offset": "5000"},
    {"status": "active", "offset": "20000", "limit": "200"},
    {"category": "manufacturer", "offset": "1000"},
    {"ssm": "ssm1"},
    {"standing": "warn"},
    {"at_risk": "true"},
    {"status": "active", "at_risk": "true", "offset": "100"},
]
# Every route's target (issue 20): p99 under 50 ms.
TARGET_P99_MS = 50.0
# The sellers whose card the bench reads; they have the full history and reason records.
CARD_SELLERS = 100
# One seller in this many belongs to the SSM `ssm1` (the portfolio filter), the rest to others.
SSM_SHARE = 20


def journey(length: int, rng: random.Random) -> list[Stage]:
    """`length` stages of one application, as the workflow enters them."""
    stages = JOURNEY[:length]
    while len(stages) + len(APPROVAL) < length:
        stages += CHANGES_LOOP[: length - len(stages)]
    stages += APPROVAL[: length - len(stages)]
    if len(stages) >= 5 and rng.random() < 0.1:
        stages[-1] = Stage.rejected
    return stages


def journey_lengths(applications: int, stage_changes: int, rng: random.Random) -> list[int]:
    """At least one change per application, `stage_changes` in all."""
    mean = stage_changes / applications
    lengths = [rng.randint(1, max(1, round(2 * mean - 1))) for _ in range(applications)]
    while (gap := stage_changes - sum(lengths)) != 0:
        i = rng.randrange(applications)
        if gap > 0 or lengths[i] > 1:
            lengths[i] += 1 if gap > 0 else -1
    return lengths


def stamp(hours: float, suffix: str) -> str:
    """AS_OF minus `hours`, to the microsecond, as the database reads a timestamp."""
    return (AS_OF - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S.%f") + suffix


def application_rows(
    applications: int, stage_changes: int, suffix: str
) -> tuple[list[tuple[Any, ...]], Iterator[tuple[Any, ...]]]:
    """The application rows, and a generator of their stage changes."""
    rng = random.Random(20261206)
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in range(applications)]
    lengths = journey_lengths(applications, stage_changes, rng)
    plans = [journey(length, rng) for length in lengths]
    started = [rng.uniform(24, 24 * 180) for _ in range(applications)]
    apps, changes = [], []
    for app_id, stages, hours_ago in zip(ids, plans, started, strict=True):
        moments = []
        for stage in stages:
            if moments and stage not in SAME_MOMENT:
                hours_ago = max(0.0, hours_ago - rng.expovariate(1 / 30))
            moments.append(stamp(hours_ago, suffix))
        changes.append((app_id, stages, moments))
        fields = {**APPLICATION, "product_categories": json.dumps(["smartphones"])}
        apps.append(
            (
                app_id,
                *(fields[c] for c in APPLICATION_COLUMNS[1:9]),
                stages[-1].value,
                moments[-1],
                "bench",
                moments[0],
                moments[-1],
            )
        )

    def stage_change_rows() -> Iterator[tuple[Any, ...]]:
        number = 0
        for app_id, stages, moments in changes:
            for stage, moment in zip(stages, moments, strict=True):
                number += 1
                row_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
                yield (row_id, app_id, stage.value, moment, f"bench-{number}")

    return apps, stage_change_rows()


SCORECARD_COLUMNS = (
    "seller_id",
    "kpi",
    "window_days",
    "numerator",
    "denominator",
    "value",
    "warn",
    '"limit"',  # a reserved word
    "status",
    "evaluated_at",
)
SELLER_DAY_COLUMNS = ("seller_id", "day", "standing", "score", "kpis", "samples")
SELLER_ACTION_COLUMNS = (
    "id",
    "seller_id",
    "idempotency_key",
    "from_status",
    "to_status",
    "actor",
    "reason",
    "created_at",
)


def seller_rows(sellers: int, suffix: str) -> list[tuple[Any, ...]]:
    """`bench.dataset`'s sellers, nine in ten of them scored, one in SSM_SHARE in ssm1's
    portfolio (the others spread over ssm2..ssm20)."""
    rng = random.Random(20261207)
    data = Dataset(sellers, 0, timestamps=hourly_timestamps(suffix))
    return [
        (
            *row,
            round(rng.uniform(0, 100), 2) if rng.random() < 0.9 else None,
            f"ssm{1 + number % SSM_SHARE}",
        )
        for number, row in enumerate(data.seller_rows())
    ]


def card_rows(
    sellers: list[tuple[Any, ...]], history_days: int, suffix: str
) -> list[tuple[str, tuple[str, ...], Iterator[tuple[Any, ...]]]]:
    """Each scored seller's scorecard and daily evaluations; the first CARD_SELLERS also get
    the full HISTORY_DAYS and three reason records."""
    rng = random.Random(20261208)
    evaluated = stamp(2, suffix)
    scored = [row for row in sellers if row[-2] is not None]

    def scorecards() -> Iterator[tuple[Any, ...]]:
        for row in scored:
            for kpi in KPI_NAMES:
                value = round(rng.uniform(0, 0.05), 4)
                denominator = rng.randint(10, 200)
                status = "good" if value < 0.02 else "warn"
                numerator = round(value * denominator, 2)
                yield (
                    row[0],
                    kpi,
                    90,
                    numerator,
                    denominator,
                    value,
                    0.02,
                    0.04,
                    status,
                    evaluated,
                )

    def days() -> Iterator[tuple[Any, ...]]:
        kpis = json.dumps({kpi.value: 0.01 for kpi in KPI})
        samples = json.dumps({kpi.value: 50 for kpi in KPI})
        for number, row in enumerate(scored):
            count = HISTORY_DAYS if number < CARD_SELLERS else history_days
            for back in range(count):
                day = (AS_OF - timedelta(days=back)).date().isoformat()
                yield (row[0], day, row[7], row[-2], kpis, samples)

    def actions() -> Iterator[tuple[Any, ...]]:
        for row in scored[:CARD_SELLERS]:
            for number, (before, after) in enumerate(
                [("trial", "active"), ("active", "warned"), ("warned", "active")]
            ):
                yield (
                    uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                    row[0],
                    f"bench-action-{row[0]}-{number}",
                    before,
                    after,
                    "system",
                    json.dumps({"code": "bench"}),
                    stamp(24 * (30 - 10 * number), suffix),
                )

    return [
        ("scorecard", SCORECARD_COLUMNS, scorecards()),
        ("seller_day", SELLER_DAY_COLUMNS, days()),
        ("seller_action", SELLER_ACTION_COLUMNS, actions()),
    ]


def card_seller_ids(args: argparse.Namespace) -> list[str]:
    """The sellers whose card is read (the same rows as `card_rows` gives the full history)."""
    return [row[0] for row in seller_rows(args.sellers, "") if row[-2] is not None][:CARD_SELLERS]


def tables(args: argparse.Namespace, suffix: str) -> list[tuple[str, tuple[str, ...], Any]]:
    apps, changes = application_rows(args.applications, args.stage_changes, suffix)
    sellers = seller_rows(args.sellers, suffix)
    return [
        ("application", APPLICATION_COLUMNS, iter(apps)),
        ("stage_change", STAGE_CHANGE_COLUMNS, changes),
        ("seller", (*SCORED_SELLER_COLUMNS, "ssm_username"), iter(sellers)),
        *card_rows(sellers, args.history_days, suffix),
    ]


# The read models are kept by triggers on the records: off while the records are copied in,
# then filled set-based as migration 0017 fills them (`ops_read_models.rebuild`).
def load_postgres(engine: sa.Engine, args: argparse.Namespace) -> None:
    with engine.begin() as conn:
        ops_read_models.drop_triggers(conn)
    copy_into_postgres(engine, tables(args, "+00"))
    with engine.begin() as conn:
        ops_read_models.rebuild(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ops_read_models.TABLES:
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


def load_sqlite(engine: sa.Engine, args: argparse.Namespace) -> None:
    with engine.begin() as conn:
        ops_read_models.drop_triggers(conn)
    insert_into_sqlite(engine, tables(args, ""))
    with engine.begin() as conn:
        ops_read_models.rebuild(conn)
        conn.exec_driver_sql("ANALYZE")


DATABASES = {
    "postgres": (postgres_schema, load_postgres),
    "sqlite": (sqlite_database, load_sqlite),
}


async def timed_gets(
    http: httpx.AsyncClient, path: str, queries: list[dict[str, str]], count: int, warm_up: int
) -> list[float]:
    """`count + warm_up` GETs of `path`, the queries in turn; the durations after the warm-up."""
    durations = []
    for number in range(count + warm_up):
        started = time.perf_counter()
        response = await http.get(path, params=queries[number % len(queries)])
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        if number >= warm_up:
            durations.append(elapsed)
    return durations


async def timed_cards(
    http: httpx.AsyncClient, seller_ids: list[str], count: int, warm_up: int
) -> list[float]:
    """`count + warm_up` GETs of staff seller cards, the sellers in turn."""
    durations = []
    for number in range(count + warm_up):
        started = time.perf_counter()
        response = await http.get(f"/staff/sellers/{seller_ids[number % len(seller_ids)]}")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        if number >= warm_up:
            durations.append(elapsed)
    return durations


async def no_timeline(*_: object) -> tuple[list[Any], int, str | None]:
    """The card's timeline is read from Temporal, which this bench does not start."""
    return [], 0, "not measured"


async def measure(
    settings: Settings, args: argparse.Namespace, seller_ids: list[str]
) -> dict[str, list[float]]:
    app = create_app(settings)
    app.state.sellerflow = state = build_state(settings)
    token = issue_token(settings.sellerflow_secret_key, "ops1", kind="staff", minutes=60)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with contextlib.AsyncExitStack() as stack:
            stack.enter_context(mock.patch.object(api.pages.sellers, "_timeline", no_timeline))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=transport, base_url="http://api", headers=headers, timeout=600
                )
            )
            pages = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=transport,
                    base_url="http://api",
                    cookies={SESSION_COOKIE: token},
                    timeout=600,
                )
            )
            return {
                "/v1/ops/stats": await timed_gets(
                    http, "/v1/ops/stats", [{}], args.stats_requests, args.warm_up
                ),
                "/v1/sellers": await timed_gets(
                    http, "/v1/sellers", SELLER_QUERIES, args.requests, args.warm_up
                ),
                "/staff/sellers": await timed_gets(
                    pages, "/staff/sellers", SELLER_QUERIES, args.requests, args.warm_up
                ),
                "/staff/sellers/{id}": await timed_cards(
                    pages, seller_ids, args.requests, args.warm_up
                ),
            }
    finally:
        await state.close()


def bench(db: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    database, load = DATABASES[db]
    with database() as url:
        settings = Settings(database_url=url, temporal_address="127.0.0.1:1")
        upgrade_schema(url)
        seed_dev_users(settings)
        engine = make_engine(url)
        started = time.perf_counter()
        load(engine, args)
        if args.without_ranking_indexes:  # the ranking as it was read before migration 0023
            with engine.begin() as conn:
                for index in RANKING_INDEXES:
                    conn.exec_driver_sql(f"DROP INDEX {index.name}")
        engine.dispose()
        load_seconds = round(time.perf_counter() - started, 1)
        timings = asyncio.run(measure(settings, args, card_seller_ids(args)))
    sizes = {
        "applications": args.applications,
        "stage_changes": args.stage_changes,
        "sellers": args.sellers,
        "ranking_indexes": not args.without_ranking_indexes,
    }
    return [
        {
            "db": db,
            "route": route,
            **sizes,
            "requests": len(seconds),
            **(figures := percentiles_ms(seconds)),
            "max_ms": round(max(seconds) * 1000, 2),
            "target_p99_ms": TARGET_P99_MS,
            "met": figures["p99_ms"] < TARGET_P99_MS,
            "load_seconds": load_seconds,
        }
        for route, seconds in timings.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--stage-changes", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="of each seller route")
    parser.add_argument(
        "--without-ranking-indexes",
        action="store_true",
        help="drop migration 0023's indexes after the load (the figures before it)",
    )
    parser.add_argument(
        "--history-days", type=int, default=14, help="daily evaluations of each scored seller"
    )
    parser.add_argument("--stats-requests", type=int, default=50, help="of GET /v1/ops/stats")
    parser.add_argument("--warm-up", type=int, default=3, help="requests of each, not counted")
    args = parser.parse_args()
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        for line in bench(db, args):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
