"""Benchmark of a policy what-if against the daily evaluation, on the same data in one process.

Loads the synthetic marketplace of bench/dataset.py, then, in a fresh child process, runs one
full evaluation exactly as SellerEvaluationWorkflow does (bench.evaluation.evaluate: means,
chunks that write scorecards, rank) and one what-if of a stricter version (late-shipment
warning at 5 %, refund window of 45 days, cancellation limit at 2 %) against the default one,
as PolicySimulationWorkflow's activity runs it. Prints one JSON line per database with both
times and their ratio (the target: the what-if takes at most twice the evaluation's time).

    python -m bench.what_if --db postgres [--sellers 100000] [--orders 2000000]
"""

import argparse
import json
import time
from functools import partial
from typing import Any

import sqlalchemy as sa

from bench import evaluation
from bench.dataset import AS_OF, load_postgres, load_sqlite
from bench.evaluation import evaluate, peak_rss_mb, postgres_database, sqlite_database
from sellerflow.db import make_engine
from sellerflow.policy.model import Policy, load_policy
from sellerflow.simulation import simulate

# Not bench.evaluation's database: the two benchmarks may run at the same time.
BENCH_DATABASE = "sellerflow_bench_what_if"


def stricter(policy: Policy) -> Policy:
    rules: dict[str, Any] = policy.model_dump(mode="json")
    rules["version"] = "bench-stricter"
    rules["kpis"]["late_shipment_rate"]["warn"] = 0.05
    rules["kpis"]["refund_rate"]["window_days"] = 45
    rules["kpis"]["seller_cancellation_rate"]["limit"] = 0.02
    return Policy.model_validate(rules)


def what_if(engine: sa.Engine, current: Policy, proposed: Policy) -> dict[str, Any]:
    started = time.perf_counter()
    with engine.connect() as conn:
        result = simulate(conn, current, proposed, AS_OF, chunk_size=proposed.evaluation.chunk_size)
    return {
        "simulation_seconds": round(time.perf_counter() - started, 2),
        "simulated_sellers": result["sellers"],
        "simulated_changes": result["changed"],
        "standings": result["standings"],
    }


def run_child(url: str) -> dict[str, Any]:
    """The child's side: warm the cache with one scan, then evaluate and simulate."""
    engine = make_engine(url)
    policy = load_policy("default")
    with engine.connect() as conn:
        orders = conn.execute(sa.text("SELECT count(*) FROM order_event")).scalar_one()
    evaluation = evaluate(engine, policy)
    simulation = what_if(engine, policy, stricter(policy))
    engine.dispose()
    ratio = simulation["simulation_seconds"] / max(evaluation["evaluation_seconds"], 0.01)
    return {
        "orders": orders,
        **simulation,
        "evaluation_seconds": evaluation["evaluation_seconds"],
        "evaluation": evaluation,
        "simulation_over_evaluation": round(ratio, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


DATABASES: evaluation.Databases = {
    "postgres": (partial(postgres_database, BENCH_DATABASE), load_postgres),
    "sqlite": (sqlite_database, load_sqlite),
}


def bench(db: str, sellers: int, orders: int) -> dict[str, Any]:
    return evaluation.bench(db, sellers, orders, ("bench.what_if", "--run-url"), DATABASES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="postgres")
    parser.add_argument("--sellers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=2_000_000)
    parser.add_argument("--run-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_url:
        print(json.dumps(run_child(args.run_url)))
        return
    for db in ["postgres", "sqlite"] if args.db == "both" else [args.db]:
        print(json.dumps(bench(db, args.sellers, args.orders)), flush=True)


if __name__ == "__main__":
    main()
