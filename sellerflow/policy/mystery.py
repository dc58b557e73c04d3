"""The quality lab's checklist for a mystery order (pure): what a completion must report."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from sellerflow.policy import Refused


class MysteryChecklist(BaseModel):
    """What the lab checked on the device it bought; further keys (notes, photos) may follow."""

    model_config = ConfigDict(frozen=True, extra="allow")
    battery_health_percent: float = Field(ge=0, le=100, strict=True, allow_inf_nan=False)
    grade_matches_listing: StrictBool
    genuine_parts: StrictBool
    factory_reset_and_unlocked: StrictBool
    packaging_ok: StrictBool
    delivered_on_time: StrictBool


def check_mystery_checklist(checklist: Mapping[str, Any]) -> MysteryChecklist:
    """The checklist, validated; Refused (InvalidDecision) naming each missing or invalid item."""
    try:
        return MysteryChecklist.model_validate(dict(checklist))
    except ValidationError as err:
        problems = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in err.errors())
        raise Refused("InvalidDecision", f"mystery-order checklist: {problems}") from None


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "checklist"


# What each failed checklist item asks the seller to fix (the Quality Charter's commitments).
_TO_FIX = {
    "grade_matches_listing": "grade cosmetics as the marketplace grading guide says",
    "genuine_parts": "use genuine or certified-equivalent parts, and declare replaced ones",
    "factory_reset_and_unlocked": "wipe personal data and remove every account lock",
    "packaging_ok": "pack devices so that they arrive undamaged",
    "delivered_on_time": "ship within the promised handling time",
}
MIN_BATTERY_PERCENT = 80


def what_to_fix(checklist: Mapping[str, Any]) -> list[str]:
    """The findings of a lab's checklist as what the seller must fix, in the charter's words;
    an incomplete or invalid checklist (a history from before the checklist) gives none."""
    try:
        checked = MysteryChecklist.model_validate(dict(checklist))
    except ValidationError:
        return []
    fixes = []
    if checked.battery_health_percent < MIN_BATTERY_PERCENT:
        fixes.append(
            f"ship batteries with at least {MIN_BATTERY_PERCENT} % of their design capacity "
            f"(this one had {checked.battery_health_percent:g} %)"
        )
    fixes += [text for item, text in _TO_FIX.items() if getattr(checked, item) is False]
    return fixes
