"""Documents on file a seller renews (lifecycle rules 5): what the workflow follows, and where
each renewal stands, written for the portal and the staff pages."""

import uuid

import sqlalchemy as sa
from sqlmodel import col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sellerflow import audit
from sellerflow.db import parse_id, session_scope
from sellerflow.models import Document, DocumentRenewal, Seller
from sellerflow.payloads import (
    DocumentOnFile,
    DocumentsOnFile,
    DocumentsOnFileInput,
    RecordRenewalInput,
)
from sellerflow.policy.renewals import valid_until
from sellerflow.vocabulary import DocumentStatus, RenewalStatus

# What the new file becomes when its review ends.
_DOCUMENT_AFTER = {
    RenewalStatus.renewed: DocumentStatus.accepted,
    RenewalStatus.requested: DocumentStatus.refused,
    RenewalStatus.lapsed: DocumentStatus.refused,
}


class RenewalActivities:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @activity.defn
    def documents_on_file(self, inp: DocumentsOnFileInput) -> DocumentsOnFile:
        """The newest accepted document of each renewed kind, with until when it is valid."""
        rules = inp.policy.renewals
        with session_scope(self.engine) as session:
            seller = session.get(Seller, parse_id(inp.seller_id, "seller id"))
            if seller is None:
                raise ApplicationError(f"no seller {inp.seller_id}", type="InvalidInput")
            accepted = session.exec(
                select(Document)
                .where(
                    Document.application_id == seller.application_id,
                    col(Document.kind).in_(list(rules.documents)),
                    Document.status == DocumentStatus.accepted,
                )
                .order_by(col(Document.created_at))
            ).all()
        newest = {doc.kind: doc for doc in accepted}
        found = []
        for kind, doc in sorted(newest.items()):
            until = valid_until(rules, kind, issued_on=doc.issued_on, expires_on=doc.expires_on)
            if until is not None:
                found.append(DocumentOnFile(kind=kind, valid_until=until))
        return DocumentsOnFile(documents=found)

    @activity.defn
    def record_renewal(self, inp: RecordRenewalInput) -> None:
        """Upsert the renewal's row (one per seller, kind and round), and settle the new file
        when its review ended; a retry writes the same."""
        effect = inp.effect
        seller_id = parse_id(inp.seller_id, "seller id")
        document_id = uuid.UUID(effect.document_id) if effect.document_id else None
        with session_scope(self.engine) as session:
            row = session.exec(
                select(DocumentRenewal).where(
                    DocumentRenewal.seller_id == seller_id,
                    DocumentRenewal.kind == effect.kind,
                    DocumentRenewal.round == effect.round,
                )
            ).first() or DocumentRenewal(seller_id=seller_id, kind=effect.kind, round=effect.round)
            row.status, row.valid_until = effect.status, effect.valid_until
            row.document_id = document_id or row.document_id
            # The reviewer's reason stays shown until a new file is sent or accepted.
            if effect.note or effect.status in (RenewalStatus.under_review, RenewalStatus.renewed):
                row.note = effect.note or None
            row.updated_at = inp.at
            session.add(row)
            document = session.get(Document, document_id) if document_id else None
            after = _DOCUMENT_AFTER.get(effect.status)
            if document is not None and after is not None:
                document.status = after
                if after == DocumentStatus.refused:
                    document.error_code = "renewal_refused"
                    document.error_reason = (effect.note or "refused by the reviewer")[:500]
                session.add(document)
            audit.record(
                session,
                key=f"renewal:{seller_id}:{effect.kind}:{effect.round}:{effect.status.value}"
                f":{effect.document_id or ''}",
                actor=effect.actor,
                action=f"seller.renewal_{effect.status.value}",
                subject_type="seller",
                subject_id=str(seller_id),
                after=effect.kind,
                reason=effect.note or f"valid until {effect.valid_until.isoformat()}",
                at=inp.at,
            )
