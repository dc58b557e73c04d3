"""Request and response bodies of the policy routes (versions, diffs, simulations)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas import Strict
from sellerflow.vocabulary import PolicyStatus


class PolicyCreate(Strict):
    rules: dict[str, Any] = Field(description="the policy file as JSON, with a new `version`")


class RunningPublic(BaseModel):
    """Running workflows under a version: onboardings in flight and sellers monitored."""

    onboarding: int
    sellers: int
    total: int


class PolicyVersionSummary(BaseModel):
    version: str
    status: PolicyStatus
    effective_at: datetime | None
    proposed_by: str
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime
    running_workflows: RunningPublic


class PolicyVersionPublic(PolicyVersionSummary):
    rules: dict[str, Any]


class FieldChangePublic(BaseModel):
    path: str = Field(examples=["kpis.late_shipment_rate.warn"])
    kind: str = Field(examples=["changed"], description="added, removed or changed")
    before: Any = None
    after: Any = None


class PolicyDiffPublic(BaseModel):
    from_version: str
    to_version: str
    changes: list[FieldChangePublic]
