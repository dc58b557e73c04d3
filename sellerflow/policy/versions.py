"""Policy versions as data: the problems of proposed rules, and the diff of two versions.

Pure functions over the policy file as JSON (what `Policy.model_validate` reads)."""

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from sellerflow.policy.model import Policy
from sellerflow.vocabulary import KPI

# Rates are fractions; a review rating is on the 1-5 scale.
_RANGES: dict[KPI, tuple[float, float]] = dict.fromkeys(KPI, (0.0, 1.0))
_RANGES[KPI.review_rating] = (1.0, 5.0)


@dataclass(frozen=True)
class Problem:
    """One invalid field: its path in the rules (`kpis.late_shipment_rate.warn`) and why."""

    path: str
    msg: str


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]")


def _message(error: Any) -> str:
    loc = error["loc"]
    if loc[:1] == ("kpis",) and "[key]" in loc:
        return f"unknown KPI {loc[1]!r}; known: {', '.join(k.value for k in KPI)}"
    if error["type"] == "missing":
        return "required"
    return str(error["msg"])


def _kpi_problems(kpis: Any) -> list[Problem]:
    """Windows, samples and weights that cannot be, and thresholds in the wrong order."""
    if not isinstance(kpis, dict):
        return []
    problems = []
    for name, rule in kpis.items():
        if name not in KPI.__members__ or not isinstance(rule, dict):
            continue
        at = f"kpis.{name}"
        numbers = {k: v for k, v in rule.items() if isinstance(v, int | float)}
        if numbers.get("window_days", 1) < 1:
            problems.append(Problem(f"{at}.window_days", "a window is at least 1 day"))
        for field in ("min_sample", "weight"):
            if numbers.get(field, 0) < 0:
                problems.append(Problem(f"{at}.{field}", "must not be negative"))
        low, high = _RANGES[KPI(name)]
        for field in ("warn", "limit"):
            if field in numbers and not low <= numbers[field] <= high:
                problems.append(Problem(f"{at}.{field}", f"must lie in [{low:g}, {high:g}]"))
        warn, limit = numbers.get("warn"), numbers.get("limit")
        higher = rule.get("higher_is_better")
        if warn is None or limit is None or not isinstance(higher, bool):
            continue
        if (higher and warn < limit) or (not higher and warn > limit):
            side = "below" if higher else "beyond"
            problems.append(Problem(f"{at}.warn", f"the warning threshold lies {side} the limit"))
    return problems


def rule_problems(rules: Any) -> list[Problem]:
    """Every invalid field of proposed rules; none when they make a policy."""
    if not isinstance(rules, dict):
        return [Problem("", "the rules are an object, as the policy file is")]
    problems = []
    try:
        Policy.model_validate(rules)
    except ValidationError as err:
        problems = [Problem(_path(e["loc"]), _message(e)) for e in err.errors()]
    seen = {p.path for p in problems}
    return problems + [p for p in _kpi_problems(rules.get("kpis")) if p.path not in seen]


# --- diff ---------------------------------------------------------------------------------------

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FieldChange:
    """One leaf of the rules that differs: lists and empty objects are compared whole."""

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None


def leaves(rules: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Each leaf value of nested objects by its dotted path."""
    found: dict[str, Any] = {}
    for key, value in rules.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            found.update(leaves(value, f"{path}."))
        else:
            found[path] = value
    return found


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """What changes from `old` to `new`, field by field, in path order."""
    before, after = leaves(old), leaves(new)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            changes.append(FieldChange(path, "removed", before=before[path]))
        elif path not in before:
            changes.append(FieldChange(path, "added", after=after[path]))
        elif before[path] != after[path]:
            changes.append(FieldChange(path, "changed", before[path], after[path]))
    return changes


def apply_diff(rules: dict[str, Any], changes: list[FieldChange]) -> dict[str, Any]:
    """`rules` with `changes` made (removals first): `apply_diff(a, diff(a, b)) == b`."""
    result: dict[str, Any] = _copy(rules)
    for change in (c for c in changes if c.kind == "removed"):
        _remove(result, change.path.split("."))
    for change in (c for c in changes if c.kind != "removed"):
        *parents, last = change.path.split(".")
        node = result
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = change.after
    return result


def _copy(rules: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in rules.items()}


def _remove(node: dict[str, Any], keys: list[str]) -> None:
    """Delete a leaf, and the objects it leaves empty."""
    if len(keys) == 1:
        node.pop(keys[0], None)
        return
    child = node.get(keys[0])
    if isinstance(child, dict):
        _remove(child, keys[1:])
        if not child:
            del node[keys[0]]
