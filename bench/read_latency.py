"""Read latency: `GET /v1/applications/{id}` against a bare FastAPI endpoint with the same JSON.

One application is taken through a full journey (so its answer carries requirements, two
decisions and a seller id); the real API (`api.main:app`) and `bench.bare_api:app` (answering
that same body from a constant) each run under uvicorn in a subprocess, started the same way.
One HTTP client with keep-alive in this process sends the requests one at a time, alternating
real and bare, with the applicant's bearer token on both; the first `--warm-up` of each are not
counted.

    python -m bench.read_latency [--requests 2000] [--warm-up 200]

Prints one JSON line: p50/p99 of each and the p99 ratio (target <= 2).
"""

import argparse
import asyncio
import json
import time
from typing import Any

import httpx

from bench.seeding import seed_applications
from bench.stack import (
    ActivityWatch,
    bench_stack,
    percentiles_ms,
    real_worker,
    run_cancellable,
    settings_env,
    uvicorn_app,
)
from bench.throughput import real_journey
from sellerflow.security import issue_token


def timed_gets(
    urls: dict[str, str], path: str, headers: dict[str, str], count: int, warm_up: int
) -> dict[str, list[float]]:
    """`count + warm_up` GETs of each URL, alternating; the durations after the warm-up."""
    durations: dict[str, list[float]] = {name: [] for name in urls}
    with httpx.Client(headers=headers, timeout=30) as http:
        for number in range(count + warm_up):
            for name, url in urls.items():
                started = time.perf_counter()
                response = http.get(url + path)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"{name} answered {response.status_code}")
                if number >= warm_up:
                    durations[name].append(elapsed)
    return durations


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    async with bench_stack(smtp=False) as stack:
        [app_id] = seed_applications(stack.engine, stack.policy, 1)
        async with real_worker(stack):
            await real_journey(stack, ActivityWatch(), [], app_id)
        token = issue_token(
            stack.settings.sellerflow_secret_key, str(app_id), kind="applicant", minutes=60
        )
        headers = {"Authorization": f"Bearer {token}"}
        path = f"/v1/applications/{app_id}"
        env = settings_env(stack.settings)
        async with uvicorn_app("api.main:app", env, stack.logs / "api.log") as real_url:
            body = httpx.get(real_url + path, headers=headers).raise_for_status().json()
            body_file = stack.logs / "body.json"
            body_file.write_text(json.dumps(body))
            bare_env = {**env, "BENCH_BODY_FILE": str(body_file)}
            async with uvicorn_app("bench.bare_api:app", bare_env, stack.logs / "bare.log") as bare:
                durations = await asyncio.to_thread(
                    timed_gets,
                    {"real": real_url, "bare": bare},
                    path,
                    headers,
                    args.requests,
                    args.warm_up,
                )
                if httpx.get(bare + path).json() != body:
                    raise RuntimeError("the bare endpoint does not answer the same JSON")
    real, bare_p = percentiles_ms(durations["real"]), percentiles_ms(durations["bare"])
    return {
        "bench": "read_latency",
        "requests": args.requests,
        "body_bytes": len(json.dumps(body)),
        "real": real,
        "bare": bare_p,
        "p99_ratio": round(real["p99_ms"] / bare_p["p99_ms"], 2),
        "p50_ratio": round(real["p50_ms"] / bare_p["p50_ms"], 2),
        "target_p99_ratio": 2.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warm-up", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(run_cancellable(measure(args))), flush=True)


if __name__ == "__main__":
    main()
