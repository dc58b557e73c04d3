"""Request and response bodies of the policy routes (versions, diffs, simulations)."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import ScorecardPublic, Strict
from sellerflow.vocabulary import KpiStatus, PolicyStatus, RolloutState, SimulationStatus


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


class SimulationCreate(Strict):
    as_of: datetime | None = Field(
        default=None, description="evaluate the order events up to this time (default: now)"
    )


class SimulationStarted(BaseModel):
    id: uuid.UUID
    status: SimulationStatus


class StandingCounts(BaseModel):
    good: int = 0
    warn: int = 0
    limit: int = 0


class Standings(BaseModel):
    current: StandingCounts
    proposed: StandingCounts


class CategoryStandings(Standings):
    changed: int


class KpiChange(ScorecardPublic):
    """A KPI of the proposed scorecard whose status differs from the current one's (None: the
    KPI is not on the current scorecard)."""

    current_status: KpiStatus | None


class StandingChangePublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    seller_id: uuid.UUID
    legal_name: str
    category: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    kpis: list[KpiChange]


class SimulationPublic(BaseModel):
    """`standings.current` under the version in force (`baseline`), `proposed` under `version`."""

    id: uuid.UUID
    version: str
    baseline: str
    status: SimulationStatus
    as_of: datetime
    requested_by: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    sellers: int | None = None
    changed: int | None = None
    changes_truncated: bool = False
    standings: Standings | None = None
    changes: list[StandingChangePublic] = []
    by_category: dict[str, CategoryStandings] = {}


class RolloutCreate(Strict):
    effective_at: datetime = Field(
        description="when the version takes effect: at least the change notice from now"
    )


class RolloutPublic(BaseModel):
    """A version's rollout: the sellers told, and how far the switch at `effective_at` got."""

    version: str
    replaces: str
    effective_at: datetime
    requested_by: str
    state: RolloutState
    sellers_notified: int
    sellers_switched: int
    created_at: datetime
    finished_at: datetime | None
