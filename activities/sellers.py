"""Seller records: status changes with their reason records, and trial snapshots."""

import uuid

import sqlalchemy as sa
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sellerflow import audit, outbox
from sellerflow.db import session_scope
from sellerflow.models import Application, Seller, SellerAction, utcnow
from sellerflow.payloads import ApplySellerStatusInput, TrialSnapshot, TrialSnapshotInput
from sellerflow.records import latest_documents
from sellerflow.scoring import seller_scorecard
from sellerflow.vocabulary import DocumentStatus, SellerActionKind, SellerStatus

NOTICE_TEMPLATES = {
    SellerActionKind.warn: "warned",
    SellerActionKind.limit: "limited",
    SellerActionKind.suspend: "suspended",
    SellerActionKind.reinstate: "reinstated",
    SellerActionKind.offboard: "offboarded",
}

PROVIDED = {
    DocumentStatus.uploaded.value,
    DocumentStatus.verified.value,
    DocumentStatus.accepted.value,
}


def _fmt(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if hasattr(value, "strftime") else ""


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
            seller = session.get(Seller, uuid.UUID(inp.seller_id))
            if seller is None:
                raise ApplicationError(f"no seller {inp.seller_id}", type="InvalidInput")
            app = session.get(Application, seller.application_id)
            assert app is not None
            seller.status = effect.status.value
            seller.listing_cap = effect.capabilities.listing_cap
            seller.daily_order_cap = effect.capabilities.daily_order_cap
            seller.payouts_deferred = effect.capabilities.payouts_deferred
            seller.updated_at = utcnow()
            session.add(
                SellerAction(
                    seller_id=seller.id,
                    idempotency_key=inp.key,
                    from_status=inp.from_status.value,
                    to_status=effect.status.value,
                    action=effect.action.value if effect.action else None,
                    actor=effect.actor,
                    reason=effect.reason.model_dump(mode="json"),
                    notice_ends_at=effect.notice_ends_at,
                    created_at=inp.at,
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
            template = self._template(inp)
            outbox.enqueue(
                session,
                key=f"seller-notice:{inp.key}",
                template=template,
                recipient=app.contact_email,
                context={
                    "recipient_name": app.contact_name,
                    "legal_name": app.legal_name,
                    "reason": effect.reason.summary,
                    "status": effect.status.value,
                    "improve_by": "",
                    "notice_ends_at": _fmt(effect.notice_ends_at),
                },
                application_id=app.id,
                seller_id=seller.id,
            )

    @staticmethod
    def _template(inp: ApplySellerStatusInput) -> str:
        if inp.effect.action is not None:
            return NOTICE_TEMPLATES[inp.effect.action]
        if inp.from_status == SellerStatus.trial:
            return "trial_passed"
        return "recovered"

    @activity.defn
    def trial_snapshot(self, inp: TrialSnapshotInput) -> TrialSnapshot:
        seller_id = uuid.UUID(inp.seller_id)
        with session_scope(self.engine) as session:
            seller = session.get(Seller, seller_id)
            if seller is None:
                raise ApplicationError(f"no seller {inp.seller_id}", type="InvalidInput")
            entries = seller_scorecard(
                session.connection(), inp.policy, seller_id, inp.as_of, in_trial=True
            )
            docs = latest_documents(session, seller.application_id)
        provided = all(
            kind in docs and docs[kind].status in PROVIDED
            for kind in inp.policy.requirements.eventually_due
        )
        return TrialSnapshot(entries=entries, eventually_due_satisfied=provided)
