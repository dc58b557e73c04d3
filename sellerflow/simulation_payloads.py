"""Input of the what-if workflow and its activities (ids only: the rules are read from the
database by the activity)."""

from pydantic import BaseModel, ConfigDict


class SimulatePolicyInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    simulation_id: str


class FailSimulationInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    simulation_id: str
    error: str
