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
