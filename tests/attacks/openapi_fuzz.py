"""Schemathesis over a live API, in a process of its own: `python -m tests.attacks.openapi_fuzz
JOB OUTCOME` reads a job and writes the outcome, both JSON files.

Its own process because schemathesis patches Hypothesis for the whole process when it first
generates (the falsifying examples of every later property test would print empty), and calls
synchronously while the test's event loop must keep running the worker.

Job: {"url": base URL, "callers": {name: {"auth": headers, "ids": path ids, "modes": [...]}}}.
Outcome: {name: {"statuses": {operation: [status, ...]}, "failures": [report, ...]}}.
"""

import json
import sys
from collections import defaultdict
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import CheckFunction, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Generated requests per operation, for each caller: valid ones, then invalid ones.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 3}
CONFORMANCE: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CHECKS = {
    GenerationMode.POSITIVE: CONFORMANCE,
    GenerationMode.NEGATIVE: [*CONFORMANCE, negative_data_rejection],
}


class Outcome:
    def __init__(self) -> None:
        self.statuses: dict[str, list[int]] = defaultdict(list)
        self.failures: list[str] = []


def fuzz(
    operation: Any,
    mode: GenerationMode,
    url: str,
    auth: dict[str, str],
    ids: dict[str, str],
    outcome: Outcome,
) -> None:
    """Bounded generated calls of one operation; its first failure goes to `outcome`.

    Valid requests name the prepared objects in their path half of the time, generated ids
    the other half. The examples are derandomized: CI sends the same requests every time.
    """
    names = {parameter.name for parameter in operation.path_parameters}
    real = {name: value for name, value in ids.items() if name in names}
    strategy = operation.as_strategy(generation_mode=mode)
    if real and mode == GenerationMode.POSITIVE:
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=real) | strategy

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def calls(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=url, headers=auth, timeout=30)
        outcome.statuses[operation.label].append(response.status_code)
        case.validate_response(response, checks=CHECKS[mode])

    try:
        calls()
    except Unsatisfiable:
        # Nothing to make invalid: no parameters, or only strings that take any value.
        if mode == GenerationMode.POSITIVE:
            outcome.failures.append(f"{operation.label}: no valid request can be made")
    except (FailureGroup, Exception) as err:  # the checks' failures, or a transport error
        outcome.failures.append(f"{operation.label} ({mode.value} data): {err}")


def fuzz_as(url: str, caller: dict[str, Any]) -> Outcome:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    outcome = Outcome()
    loaded = list(schema.get_all_operations())
    outcome.failures += [
        f"unreadable operation: {r.err()}" for r in loaded if not isinstance(r, Ok)
    ]
    # Withdrawing the application ends most of what its applicant can do: it goes last.
    operations = sorted(
        (result.ok() for result in loaded if isinstance(result, Ok)),
        key=lambda operation: operation.path.endswith("/withdraw"),
    )
    for operation in operations:
        for mode in caller["modes"]:
            fuzz(operation, GenerationMode(mode), url, caller["auth"], caller["ids"], outcome)
    return outcome


def main(job_file: str, outcome_file: str) -> None:
    with open(job_file) as f:
        job = json.load(f)
    results = {}
    for name, caller in job["callers"].items():
        outcome = fuzz_as(job["url"], caller)
        results[name] = {"statuses": outcome.statuses, "failures": outcome.failures}
    with open(outcome_file, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
