"""Seller records: status changes with their reason records, and trial snapshots."""

import sqlalchemy as sa
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sellerflow import audit, outbox, statements
from sellerflow.db import parse_id, session_scope
from sellerflow.models import Application, Seller, SellerAction, utcnow
from sellerflow.outbox import mail_time
from sellerflow.payloads import (
    ApplySellerStatusInput,
    RecordPolicySwitchInput,
    RecordRefusalInput,
    RecordStandingInput,
    TrialSnapshot,
    TrialSnapshotInput,
)
from sellerflow.policy.disclosure import public_summary
from sellerflow.policy.notices import of_status_change, statement_text
from sellerflow.policy.requirements import document_date_error
from sellerflow.policy.seller_state import notice_template
from sellerflow.queries.documents import latest_documents
from sellerflow.scoring import seller_scorecard
from sellerflow.tables import SELLERS
from sellerflow.vocabulary import DocumentStatus

_RECORD_STANDING = (
    sa.update(SELLERS)
    .where(SELLERS.c.id == sa.bindparam("seller"))
    .values(applied_standing=sa.bindparam("applied"))
)


class SellerActivities:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @activity.defn
    def apply_status(self, inp: ApplySellerStatusInput) -> None:
        effect = inp.effect
        with session_scope(self.engine) as session:
            if session.exec(
                select(SellerAction.id).where(SellerAction.idempotency_key == inp.key)
            ).first():
                return
            seller = session.get(Seller, parse_id(inp.seller_id, "seller id"))
            if seller is None:
                raise ApplicationError(f"no seller {inp.seller_id}", type="InvalidInput")
            app = session.get(Application, seller.application_id)
            assert app is not None
            seller.status = effect.status
            seller.listing_cap = effect.capabilities.listing_cap
            seller.daily_order_cap = effect.capabilities.daily_order_cap
            seller.payouts_deferred = effect.capabilities.payouts_deferred
            seller.updated_at = utcnow()
            session.add(
                SellerAction(
                    seller_id=seller.id,
                    idempotency_key=inp.key,
                    from_status=inp.from_status,
                    to_status=effect.status,
                    action=effect.action.value if effect.action else None,
                    actor=effect.actor,
                    reason=effect.reason.model_dump(mode="json"),
                    notice_ends_at=effect.notice_ends_at,
                    created_at=inp.at,
                    policy_version=seller.policy_version,
                )
            )
            audit.record(
                session,
                key=f"seller-status:{inp.key}",
                actor=effect.actor,
                action=f"seller.{effect.action.value if effect.action else 'status'}",
                subject_type="seller",
                subject_id=str(seller.id),
                before=inp.from_status.value,
                after=effect.status.value,
                reason=effect.reason.summary,
                at=inp.at,
            )
            template = notice_template(effect, inp.from_status)
            notice = of_status_change(effect, inp.at)
            if notice is not None:
                statements.record(
                    session.connection(), seller.id, f"seller-notice:{inp.key}", notice
                )
            outbox.enqueue(
                session,
                key=f"seller-notice:{inp.key}",
                template=template,
                recipient=app.contact_email,
                context={
                    "recipient_name": app.contact_name,
                    "legal_name": app.legal_name,
                    "reason": public_summary(effect.reason.summary),
                    "status": effect.status.value,
                    "improve_by": mail_time(effect.improve_by),
                    "notice_ends_at": mail_time(effect.notice_ends_at),
                    "statement": statement_text(notice) if notice is not None else "",
                },
                application_id=app.id,
                seller_id=seller.id,
            )

    @activity.defn
    def record_refusal(self, inp: RecordRefusalInput) -> None:
        """A message refused when the workflow came to apply it, with the reason, in the audit."""
        with self.engine.begin() as conn:
            audit.record(
                conn,
                key=f"seller-refused:{inp.seller_id}:{inp.key}",
                actor=inp.actor,
                action="seller.message_refused",
                subject_type="seller",
                subject_id=inp.seller_id,
                after=inp.code,
                reason=f"{inp.message}: {inp.detail}",
                at=inp.at,
            )

    @activity.defn
    def record_policy_switch(self, inp: RecordPolicySwitchInput) -> None:
        """The version the seller's workflow now runs under, and the switch in its audit."""
        seller_id = parse_id(inp.seller_id, "seller id")
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(SELLERS)
                .where(SELLERS.c.id == seller_id)
                .values(policy_version=inp.to_version)
            )
            audit.record(
                conn,
                key=f"seller-policy:{inp.seller_id}:{inp.to_version}",
                actor="system",
                action="seller.policy_switched",
                subject_type="seller",
                subject_id=inp.seller_id,
                before=inp.from_version,
                after=inp.to_version,
                reason=f"policy version {inp.to_version} in force ({inp.event_id})",
                at=inp.at,
            )

    @activity.defn
    def record_standing(self, inp: RecordStandingInput) -> None:
        """The standing the seller workflow acts on: what the next evaluation compares with."""
        seller_id = parse_id(inp.seller_id, "seller id")
        with self.engine.begin() as conn:
            conn.execute(_RECORD_STANDING, {"seller": seller_id, "applied": inp.standing.value})

    @activity.defn
    def trial_snapshot(self, inp: TrialSnapshotInput) -> TrialSnapshot:
        seller_id = parse_id(inp.seller_id, "seller id")
        with session_scope(self.engine) as session:
            seller = session.get(Seller, seller_id)
            if seller is None:
                raise ApplicationError(f"no seller {inp.seller_id}", type="InvalidInput")
            entries = seller_scorecard(
                session.connection(), inp.policy, seller_id, inp.as_of, in_trial=True
            )
            docs = latest_documents(session, seller.application_id)
        # Reviewed and still valid: an upload nobody looked at, or an expired one, is not enough.
        today = inp.as_of.date()
        satisfied = all(
            kind in docs
            and docs[kind].status == DocumentStatus.accepted.value
            and document_date_error(
                inp.policy,
                kind,
                issued_on=docs[kind].issued_on,
                expires_on=docs[kind].expires_on,
                today=today,
            )
            is None
            for kind in inp.policy.requirements.eventually_due
        )
        return TrialSnapshot(entries=entries, eventually_due_satisfied=satisfied)
