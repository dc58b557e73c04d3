"""A policy rollout's writes: the sellers told, the version put in force, the evaluation
schedule moved to it, the pages of sellers to switch and how far the switch got."""

import uuid

import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from sellerflow.db import insert_all_once, table_of
from sellerflow.models import Notification, PolicyRollout, PolicyVersion, utcnow
from sellerflow.outbox import mail_time, notification_row
from sellerflow.payloads import EvaluationInput
from sellerflow.policy.model import Policy
from sellerflow.policy.rollout import change_lines
from sellerflow.rollout_payloads import (
    ActivateVersionInput,
    AnnounceRolloutInput,
    EvaluationScheduleInput,
    FinishRolloutInput,
    RolloutProgressInput,
    SellersToSwitch,
    SellersToSwitchInput,
)
from sellerflow.simulation import chunk_scorecards
from sellerflow.tables import APPLICATIONS, SELLERS
from sellerflow.vocabulary import PolicyStatus, RolloutState, SellerStatus

EVALUATION_SCHEDULE_ID = "seller-evaluation"
NOTIFICATIONS = table_of(Notification)
VERSIONS = table_of(PolicyVersion)
ROLLOUTS = table_of(PolicyRollout)
TEMPLATE = "policy_change"


def evaluation_spec(policy: Policy) -> ScheduleSpec:
    """When the daily evaluation runs under `policy`: at its cron."""
    return ScheduleSpec(cron_expressions=[policy.evaluation.cron])


def notice_key(version: str, seller_id: uuid.UUID) -> str:
    return f"policy-change:{version}:{seller_id}"


class RolloutActivities:
    def __init__(self, engine: sa.Engine, client: Client | None = None) -> None:
        # The client is the worker's (`activity.client()`) unless a test gives one.
        self.engine, self.client = engine, client

    def _rules(self, session: Session, version: str) -> Policy:
        row = session.get(PolicyVersion, version)
        if row is None:
            raise ApplicationError(f"no policy version {version!r}", type="InvalidInput")
        return Policy.model_validate(row.rules)

    def _rollout(self, session: Session, version: str) -> PolicyRollout:
        rollout = session.get(PolicyRollout, version)
        if rollout is None:
            raise ApplicationError(f"no rollout of {version!r}", type="InvalidInput")
        return rollout

    @activity.defn
    def announce_rollout(self, inp: AnnounceRolloutInput) -> int:
        """Tell every seller not offboarded what changes for them and when: the what-if's
        scorecards under both versions, one chunk of sellers and one insert at a time. A retry
        stores nothing twice (one key per version and seller)."""
        with Session(self.engine, expire_on_commit=False) as session:
            rollout = self._rollout(session, inp.version)
            current = self._rules(session, rollout.replaces)
            proposed = self._rules(session, rollout.version)
        as_of, told = utcnow(), 0
        after: uuid.UUID | None = None
        context = {
            "version": rollout.version,
            "replaces": rollout.replaces,
            "effective_at": mail_time(rollout.effective_at),
        }
        while True:
            with self.engine.begin() as conn:
                sellers, cards = chunk_scorecards(
                    conn, current, proposed, as_of, after, proposed.evaluation.chunk_size
                )
                if not sellers:
                    break
                contacts = conn.execute(
                    sa.select(
                        SELLERS.c.id,
                        APPLICATIONS.c.id.label("application_id"),
                        APPLICATIONS.c.contact_email,
                        APPLICATIONS.c.contact_name,
                        APPLICATIONS.c.legal_name,
                    )
                    .join(APPLICATIONS, APPLICATIONS.c.id == SELLERS.c.application_id)
                    .where(SELLERS.c.id.in_([s.id for s in sellers]))
                )
                rows = [
                    notification_row(
                        key=notice_key(rollout.version, contact.id),
                        template=TEMPLATE,
                        recipient=contact.contact_email,
                        context={
                            **context,
                            "recipient_name": contact.contact_name,
                            "legal_name": contact.legal_name,
                            "lines": change_lines(
                                cards[contact.id]["current"], cards[contact.id]["proposed"]
                            ),
                        },
                        application_id=contact.application_id,
                        seller_id=contact.id,
                    )
                    for contact in contacts
                ]
                insert_all_once(conn, NOTIFICATIONS, "idempotency_key", rows)
            told += len(sellers)
            after = sellers[-1].id
            activity.heartbeat(str(after))
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(ROLLOUTS)
                .where(ROLLOUTS.c.version == inp.version)
                .values(sellers_notified=told)
            )
        return told

    @activity.defn
    def activate_version(self, inp: ActivateVersionInput) -> Policy:
        """In one transaction: the version active, the one it replaces retired, the rollout
        switching. A retry after it committed finds the version active and changes nothing."""
        with Session(self.engine, expire_on_commit=False) as session:
            rollout = self._rollout(session, inp.version)
            policy = self._rules(session, inp.version)
            if rollout.state != RolloutState.scheduled:
                return policy
            conn = session.connection()
            conn.execute(
                sa.update(VERSIONS)
                .where(
                    VERSIONS.c.status == PolicyStatus.active.value,
                    VERSIONS.c.version != inp.version,
                )
                .values(status=PolicyStatus.retired.value)
            )
            conn.execute(
                sa.update(VERSIONS)
                .where(VERSIONS.c.version == inp.version)
                .values(status=PolicyStatus.active.value, effective_at=inp.at)
            )
            conn.execute(
                sa.update(ROLLOUTS)
                .where(ROLLOUTS.c.version == inp.version)
                .values(state=RolloutState.switching.value)
            )
            session.commit()
        return policy

    @activity.defn
    async def update_evaluation_schedule(self, inp: EvaluationScheduleInput) -> bool:
        """The daily evaluation's schedule started with the new rules (and their cron); False
        when there is no schedule (a deployment whose worker never created it)."""
        client = self.client or activity.client()

        def update(described: ScheduleUpdateInput) -> ScheduleUpdate:
            schedule = described.description.schedule
            action = schedule.action
            if not isinstance(action, ScheduleActionStartWorkflow):
                raise ApplicationError("the evaluation schedule starts no workflow")
            action.args = [EvaluationInput(policy=inp.policy)]
            schedule.spec = evaluation_spec(inp.policy)
            return ScheduleUpdate(schedule=schedule)

        try:
            await client.get_schedule_handle(EVALUATION_SCHEDULE_ID).update(update)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            activity.logger.warning("no evaluation schedule to move to %s", inp.policy.version)
            return False
        return True

    @activity.defn
    def sellers_to_switch(self, inp: SellersToSwitchInput) -> SellersToSwitch:
        """The next page of sellers (not offboarded, in id order) running under another
        version than `version`."""
        query = (
            sa.select(SELLERS.c.id)
            .where(
                SELLERS.c.status != SellerStatus.offboarded.value,
                sa.or_(SELLERS.c.policy_version.is_(None), SELLERS.c.policy_version != inp.version),
            )
            .order_by(SELLERS.c.id)
            .limit(inp.limit)
        )
        if inp.after_seller_id:
            query = query.where(SELLERS.c.id > uuid.UUID(inp.after_seller_id))
        with self.engine.connect() as conn:
            return SellersToSwitch(seller_ids=[str(i) for i in conn.execute(query).scalars()])

    @activity.defn
    def record_progress(self, inp: RolloutProgressInput) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(ROLLOUTS)
                .where(ROLLOUTS.c.version == inp.version)
                .values(
                    after_seller_id=uuid.UUID(inp.after_seller_id),
                    sellers_switched=inp.switched,
                )
            )

    @activity.defn
    def finish_rollout(self, inp: FinishRolloutInput) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(ROLLOUTS)
                .where(ROLLOUTS.c.version == inp.version)
                .values(
                    state=RolloutState.completed.value,
                    sellers_switched=inp.switched,
                    finished_at=inp.at,
                )
            )
