"""Every figure of the benchmarks' JSON lines with its target and whether it was met.

    python -m bench.summary .data/bench/*.jsonl    # what `make bench` ran, one line a figure

Reads the JSON lines the benchmarks printed, one file per benchmark named after it (other lines
are skipped), and prints, for each
figure that has a target (issue 20 and the earlier ones), `figure = value  target  met`.
A figure without a target (bench.memory's KB per workflow) is printed with `target: none set`.
"""

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# (figure, operator, key of the target or the target itself) per kind of line, the kind named
# by a key only that benchmark prints.
RATIOS: dict[str, list[tuple[str, str, str | float]]] = {
    "target_ratio_to_step_by_step": [
        ("ratio", ">=", "target_ratio"),
        ("ratio_to_step_by_step", ">=", "target_ratio_to_step_by_step"),
    ],
    "target_p99_ratio": [("p99_ratio", "<=", "target_p99_ratio")],
    "simulation_over_evaluation": [("simulation_over_evaluation", "<=", 2.0)],
}


def figures(line: dict[str, Any]) -> Iterator[tuple[str, Any, str, bool | None]]:
    """(name, value, target, met) of each figure with a target in one JSON line."""
    where = " ".join(str(line[k]) for k in ("bench", "db", "route", "sellers") if k in line)
    if "ratio_to_floor" in line:  # bench.evaluation
        value = line["evaluation_seconds"] if line["db"] == "sqlite" else line["ratio_to_floor"]
        name = "evaluation_seconds" if line["db"] == "sqlite" else "ratio_to_floor"
        yield f"evaluation {where} {name}", value, line["target"], line["met"]
        if line.get("sellers", 0) >= 1_000_000:
            seconds, rss = line["evaluation_seconds"], line["peak_rss_mb"]
            yield f"evaluation {where} evaluation_seconds", seconds, "< 60", seconds < 60
            yield f"evaluation {where} peak_rss_mb", rss, "< 1024", rss < 1024
        return
    if "target_p99_ms" in line:  # bench.ops_stats, bench.inbox
        target = f"p99_ms <= {line['target_p99_ms']}"
        yield f"{where} p99_ms".strip(), line["p99_ms"], target, line["met"]
        return
    if "ratio_to_reference" in line:  # bench.memory --with-reference
        target = f"<= {line['target_ratio']}"
        yield f"{where} kb_per_workflow", line["kb_per_workflow"], "none set", None
        yield f"{where} ratio_to_reference", line["ratio_to_reference"], target, line["met"]
        return
    for marker, checks in RATIOS.items():
        if marker in line:
            for name, operator, target in checks:
                bound = line[target] if isinstance(target, str) else target
                value = line[name]
                met = value >= bound if operator == ">=" else value <= bound
                yield f"{where} {name}".strip(), value, f"{operator} {bound}", met
            return
    if "kb_per_workflow" in line:  # bench.memory
        yield f"{where} kb_per_workflow", line["kb_per_workflow"], "none set", None


def summarise(bench: str, lines: Iterator[str]) -> Iterator[str]:
    for text in lines:
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if not isinstance(line, dict):
            continue
        for name, value, target, met in figures(line):
            verdict = "" if met is None else f"  met: {'yes' if met else 'NO'}"
            yield f"{bench}: {name} = {value}  target: {target}{verdict}"


def main() -> None:
    for name in sys.argv[1:]:
        path = Path(name)
        for row in summarise(path.stem, iter(path.read_text().splitlines())):
            print(row)


if __name__ == "__main__":
    main()
