"""The what-if of a policy version: read-only scoring in chunks, its result stored once."""

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity

from sellerflow.models import PolicySimulation, PolicyVersion, utcnow
from sellerflow.policy.model import Policy
from sellerflow.simulation import simulate
from sellerflow.simulation_payloads import FailSimulationInput, SimulatePolicyInput
from sellerflow.vocabulary import SimulationStatus


class SimulationActivities:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _rules(self, session: Session, version: str) -> Policy:
        row = session.get(PolicyVersion, version)
        if row is None:
            raise LookupError(f"no policy version {version!r}")
        return Policy.model_validate(row.rules)

    @activity.defn
    def simulate_policy(self, inp: SimulatePolicyInput) -> None:
        """Evaluate the version and its baseline at `as_of`; a retry recomputes from scratch."""
        with Session(self.engine, expire_on_commit=False) as session:
            simulation = session.get(PolicySimulation, uuid.UUID(inp.simulation_id))
            if simulation is None or simulation.status != SimulationStatus.running:
                return
            current = self._rules(session, simulation.baseline)
            proposed = self._rules(session, simulation.version)
            as_of = simulation.as_of
        # One read-only transaction: every chunk sees the same order events.
        with self.engine.connect() as conn:
            result = simulate(
                conn,
                current,
                proposed,
                as_of,
                chunk_size=proposed.evaluation.chunk_size,
                progress=lambda after: activity.heartbeat(str(after)),
            )
        self._finish(inp.simulation_id, SimulationStatus.completed, result=result)

    @activity.defn
    def fail_simulation(self, inp: FailSimulationInput) -> None:
        self._finish(inp.simulation_id, SimulationStatus.failed, error=inp.error[:500])

    def _finish(
        self,
        simulation_id: str,
        status: SimulationStatus,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Settle a running what-if once: a retry after it was settled changes nothing."""
        with Session(self.engine) as session:
            simulation = session.get(PolicySimulation, uuid.UUID(simulation_id))
            if simulation is None or simulation.status != SimulationStatus.running:
                return
            simulation.status, simulation.finished_at = status, utcnow()
            if result is not None:
                simulation.result = result
            if error is not None:
                simulation.error = error
            session.add(simulation)
            session.commit()
