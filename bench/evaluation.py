"""Benchmark of the daily seller evaluation on PostgreSQL and SQLite.

Loads a synthetic marketplace (see bench/dataset.py), then runs one full evaluation exactly as
SellerEvaluationWorkflow does, in a fresh child process per database so its peak RSS is the
evaluation's own. Prints one JSON line per database.

    python -m bench.evaluation --db both [--sellers 100000] [--orders 2000000]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.dataset import AS_OF, load_postgres, load_sqlite
from sellerflow.config import PROJECT_ROOT
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.policy.model import Policy, load_policy
from sellerflow.scoring import category_means, rank, score_chunk

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "sellerflow_bench"


def evaluate(engine: sa.Engine, policy: Policy) -> dict[str, Any]:
    """One evaluation as the workflow runs it: means, chunks in their own transactions, rank."""
    started = time.perf_counter()
    with engine.begin() as conn:
        means = category_means(conn, policy, AS_OF)
    means_done = time.perf_counter()
    after: uuid.UUID | None = None
    scored = changes = chunks = 0
    while True:
        with engine.begin() as conn:
            after, count, changed = score_chunk(
                conn, policy, AS_OF, after, policy.evaluation.chunk_size, means
            )
        if after is None:
            break
        chunks += 1
        scored += count
        changes += len(changed)
    scored_done = time.perf_counter()
    with engine.begin() as conn:
        ranked = rank(conn)
    finished = time.perf_counter()
    return {
        "evaluation_seconds": round(finished - started, 2),
        "category_means_seconds": round(means_done - started, 2),
        "score_chunks_seconds": round(scored_done - means_done, 2),
        "rank_seconds": round(finished - scored_done, 2),
        "chunks": chunks,
        "chunk_size": policy.evaluation.chunk_size,
        "sellers_scored": scored,
        "standing_changes": changes,
        "sellers_ranked": ranked,
    }


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def run_child(url: str) -> dict[str, Any]:
    """The child's side: evaluate once and report timings and the process's peak RSS."""
    engine = make_engine(url)
    policy = load_policy("default")
    with engine.connect() as conn:  # connect and import everything before measuring
        orders = conn.execute(sa.text("SELECT count(*) FROM order_event")).scalar_one()
    before = peak_rss_mb()
    result = evaluate(engine, policy)
    engine.dispose()
    return {**result, "orders": orders, "peak_rss_mb_before": before, "peak_rss_mb": peak_rss_mb()}


def measure_in_child(
    db: str, url: str, sellers: int, child: tuple[str, str] = ("bench.evaluation", "--evaluate-url")
) -> dict[str, Any]:
    """Run `python -m <module> <flag> url` (`child`) and read its last JSON line."""
    module, flag = child
    command = [sys.executable, "-m", module, flag, url]
    output = subprocess.run(
        command, cwd=PROJECT_ROOT, check=True, capture_output=True, text=True
    ).stdout
    return {"db": db, "sellers": sellers, **json.loads(output.strip().splitlines()[-1])}


@contextmanager
def postgres_database(name: str = BENCH_DATABASE) -> Iterator[str]:
    """An empty PostgreSQL database `name`, dropped afterwards."""
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="sellerflow-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


Databases = dict[
    str,
    tuple[
        Callable[[], AbstractContextManager[str]],
        Callable[[sa.Engine, int, int], object],
    ],
]
DATABASES: Databases = {
    "postgres": (postgres_database, load_postgres),
    "sqlite": (sqlite_database, load_sqlite),
}


def bench(
    db: str,
    sellers: int,
    orders: int,
    child: tuple[str, str] = ("bench.evaluation", "--evaluate-url"),
    databases: Databases | None = None,
) -> dict[str, Any]:
    """A fresh database loaded with the marketplace, measured by `child` in its own process."""
    database, load = (databases or DATABASES)[db]
    with database() as url:
        upgrade_schema(url)
        engine = make_engine(url)
        started = time.perf_counter()
        load(engine, sellers, orders)
        engine.dispose()
        load_seconds = round(time.perf_counter() - started, 1)
        return {**measure_in_child(db, url, sellers, child), "load_seconds": load_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--sellers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=2_000_000)
    parser.add_argument("--evaluate-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evaluate_url:
        print(json.dumps(run_child(args.evaluate_url)))
        return
    for db in ["postgres", "sqlite"] if args.db == "both" else [args.db]:
        print(json.dumps(bench(db, args.sellers, args.orders)), flush=True)


if __name__ == "__main__":
    main()
