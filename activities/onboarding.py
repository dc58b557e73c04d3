"""An application's moves: each one written in one database transaction."""

import sqlalchemy as sa
from temporalio import activity

from activities.applications import (
    ApplicationActivities,
    create_seller,
    enter_stage,
    record_verdicts,
)
from activities.notifications import store_notice
from activities.tasks import cancel_open, close_decided, insert_task
from sellerflow.config import Settings
from sellerflow.payloads import TransitionInput, TransitionResult
from sellerflow.policy.model import Policy


class OnboardingActivities:
    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings,
        policy: Policy,
        checks: ApplicationActivities,
    ) -> None:
        self.engine, self.settings, self.policy, self.checks = engine, settings, policy, checks

    @activity.defn
    def transition(self, inp: TransitionInput) -> TransitionResult:
        """Write a move whole or not at all: the inbox, the stage and the notice never disagree.

        The mail itself is sent afterwards by `deliver_notification`, from the outbox; the
        automated checks (`check`) run after the commit, in transactions of their own."""
        seller_id = None
        with self.engine.begin() as conn:
            if inp.close is not None:
                close_decided(conn, inp.close)
            if inp.verdicts is not None:
                record_verdicts(conn, inp.verdicts)
            if inp.cancel is not None:
                cancel_open(conn, inp.cancel)
            for stage in inp.stages:
                enter_stage(conn, stage)
            if inp.account is not None:
                seller_id = create_seller(conn, inp.account).seller_id
            if inp.open is not None:
                insert_task(conn, inp.open)
            for notice in inp.notices:
                store_notice(conn, self.settings, self.policy, notice)
        if inp.check is None:
            return TransitionResult(seller_id=seller_id)
        found = self.checks.verify_application(inp.check)
        return TransitionResult(seller_id=seller_id, problems=found.problems)
