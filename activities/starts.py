"""Onboarding workflows whose start was lost: the application row is stored, the start timed out
(the API answered 202) and nothing ran. The sweeper starts them; a start that did happen is
found, not repeated."""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from temporalio import activity

from sellerflow.config import Settings
from sellerflow.db import table_of
from sellerflow.models import PolicyVersion, UTCDateTime
from sellerflow.onboarding_start import start_onboarding
from sellerflow.payloads import StartLostOnboardingsInput
from sellerflow.policy.model import Policy
from sellerflow.tables import APPLICATIONS
from sellerflow.vocabulary import Stage

VERSIONS = table_of(PolicyVersion)

# A draft whose workflow never ran its first activity (which sets the applicant's deadline),
# with the rules of the version it was created under (the worker's own, or one stored).
_NEVER_RAN = (
    sa.select(
        APPLICATIONS.c.id,
        APPLICATIONS.c.seller_category,
        APPLICATIONS.c.country,
        APPLICATIONS.c.policy_version,
        VERSIONS.c.rules,
    )
    .select_from(
        sa.outerjoin(APPLICATIONS, VERSIONS, VERSIONS.c.version == APPLICATIONS.c.policy_version)
    )
    .where(
        APPLICATIONS.c.stage == Stage.draft.value,
        APPLICATIONS.c.deadline_at.is_(None),
        APPLICATIONS.c.created_at < sa.bindparam("cutoff", type_=UTCDateTime()),
        sa.or_(
            APPLICATIONS.c.policy_version == sa.bindparam("version"),
            VERSIONS.c.version.is_not(None),
        ),
    )
    .order_by(APPLICATIONS.c.created_at)
    .limit(sa.bindparam("limit"))
)


class OnboardingStarts:
    def __init__(self, engine: sa.Engine, settings: Settings, policy: Policy) -> None:
        self.engine, self.settings, self.policy = engine, settings, policy

    def _never_ran(self, cutoff: datetime, limit: int) -> Sequence[sa.Row[Any, Any, Any, Any, Any]]:
        with self.engine.connect() as conn:
            params = {"cutoff": cutoff, "version": self.policy.version, "limit": limit}
            return conn.execute(_NEVER_RAN, params).all()

    def _policy_of(self, version: str, rules: dict[str, Any] | None) -> Policy:
        if version == self.policy.version or rules is None:
            return self.policy
        return Policy.model_validate(rules)

    @activity.defn
    async def start_lost_onboardings(self, inp: StartLostOnboardingsInput) -> int:
        """Start the workflow of each draft that never ran one; the number started or found."""
        rows = await asyncio.to_thread(self._never_ran, inp.at - inp.older_than, inp.limit)
        client = activity.client()
        for row in rows:
            await start_onboarding(
                client,
                application_id=row.id,
                seller_category=row.seller_category,
                country=row.country,
                policy=self._policy_of(row.policy_version, row.rules),
                task_queue=self.settings.temporal_task_queue,
            )
        if rows:
            activity.logger.info("started lost onboarding workflows", extra={"count": len(rows)})
        return len(rows)
