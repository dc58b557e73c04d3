"""Retention: the personal data and files of applications that ended without a seller (rejected,
withdrawn, expired) are erased once the policy's `retention.closed_applications` has passed.

Erased: every S3 object under the application's prefix (document files, signature evidence),
the contact person's name, e-mail address and phone, the payout IBAN, the company's
address and its legal representative, the automated checks' details
and evidence (what a register or a sanctions list answered), the signers' names, titles,
addresses and user agents, the documents' file names, and the outbox messages' recipients and
texts. Kept: the company's identifiers (legal name, registration and VAT numbers: the
company's, not a person's, and what the duplicate checks compare), the checks' codes and
results, stages, dates and checksums. The audit log, a hash chain that cannot be edited, gets
one entry per erasure holding the SHA-256 of each erased value, not the values.
"""

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow import audit
from sellerflow.errors import Conflict
from sellerflow.models import (
    AppealEvidence,
    Application,
    ApplicationCheck,
    Document,
    Notification,
    Seller,
    SellerAccount,
    Signature,
)
from sellerflow.policy.model import Policy
from sellerflow.policy.retention import ERASABLE_STAGES, erasure_cutoff
from sellerflow.storage import ObjectStore, parse_upload_key
from sellerflow.vocabulary import SellerStatus

PERSONAL_FIELDS = (
    "contact_name",
    "contact_email",
    "iban",
    "company_address",
    "legal_representative",
    "phone",
)
SIGNER_FIELDS = ("signer_name", "signer_title", "ip", "user_agent")


@dataclass(frozen=True)
class Erasable:
    """An application due for erasure and what of it would be erased."""

    application_id: uuid.UUID
    stage: str
    ended_at: datetime
    documents: list[str]  # "kind: object key"
    signatures: list[str]  # "kind: archive key"
    messages: int
    # A departed seller whose erasure ops asked for (`request_seller_erasure`), and who asked.
    seller_id: uuid.UUID | None = None
    requested_by: str | None = None

    @property
    def why(self) -> str:
        """Why it is erased now, in the words of the audit entry and the command's list."""
        since = self.ended_at.isoformat()
        if self.seller_id is not None:
            asked = f"erasure asked by {self.requested_by} on {since}"
            return f"seller {self.seller_id} offboarded, {asked}"
        return f"{self.stage} since {since}"

    @property
    def prefix(self) -> str:
        return f"applications/{self.application_id}/"


def due_for_erasure(
    session: Session, policy: Policy, now: datetime, limit: int | None = None
) -> list[Erasable]:
    """The applications past their retention period and not erased yet, oldest end first (at
    most `limit`: the next run takes the rest)."""
    closed = sa.and_(
        col(Application.stage).in_([stage.value for stage in ERASABLE_STAGES]),
        col(Application.stage_entered_at) < erasure_cutoff(policy, now),
    )
    departed = col(Application.id).in_(
        select(Seller.application_id).where(
            Seller.status == SellerStatus.offboarded, col(Seller.erasure_requested_at).is_not(None)
        )
    )
    apps = session.exec(
        select(Application)
        .where(sa.or_(closed, departed), col(Application.personal_data_erased_at).is_(None))
        .order_by(col(Application.stage_entered_at))
        .limit(limit)
    ).all()
    return [_erasable(session, app) for app in apps]


def stray_uploads(session: Session, keys: list[str]) -> list[str]:
    """The upload keys among `keys` that hold a file nobody will read: the form stays valid for
    minutes after the check moved the file to `<key>.checked`, and what it uploads then is
    never checked. A key is stray when its row no longer exists, or when the row's file is
    stored elsewhere now; a file awaiting its check (or checked before `.checked` keys existed)
    is under its row's `object_key`, and stays."""
    by_table: dict[str, dict[uuid.UUID, str]] = {"documents": {}, "appeals": {}}
    for key in keys:
        if (found := parse_upload_key(key)) is not None:
            folder, object_id = found
            by_table[folder][object_id] = key
    stray: list[str] = []
    for model, ids in ((Document, by_table["documents"]), (AppealEvidence, by_table["appeals"])):
        listed = list(ids)
        for start in range(0, len(listed), 500):
            chunk = listed[start : start + 500]
            stored = dict(
                session.exec(
                    select(model.id, model.object_key).where(col(model.id).in_(chunk))
                ).all()
            )
            stray += [ids[i] for i in chunk if stored.get(i) != ids[i]]
    return sorted(stray)


def stray_pages(session: Session, store: ObjectStore) -> Iterator[list[str]]:
    """The stray uploads of the whole bucket, a listing page (up to 1,000 keys) at a time."""
    for page in store.pages_under("applications/"):
        yield stray_uploads(session, page)


def _erasable(session: Session, app: Application) -> Erasable:
    docs = session.exec(select(Document).where(Document.application_id == app.id)).all()
    signed = session.exec(select(Signature).where(Signature.application_id == app.id)).all()
    messages = session.execute(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(col(Notification.application_id) == app.id)
    ).scalar_one()
    item = Erasable(
        application_id=app.id,
        stage=str(app.stage),
        ended_at=app.stage_entered_at,
        documents=[f"{d.kind}: {d.object_key}" for d in docs],
        signatures=[f"{s.kind}: {s.archive_key}" for s in signed],
        messages=messages,
    )
    seller = session.exec(select(Seller).where(Seller.application_id == app.id)).first()
    if seller is None or seller.erasure_requested_at is None:
        return item
    return replace(
        item,
        stage=SellerStatus.offboarded.value,
        ended_at=seller.erasure_requested_at,
        seller_id=seller.id,
        requested_by=seller.erasure_requested_by,
    )


def _digest(value: str | None) -> str | None:
    return hashlib.sha256(value.encode()).hexdigest() if value else None


def erase(session: Session, store: ObjectStore, item: Erasable, now: datetime) -> int:
    """Erase one application's files, then its personal data (one transaction, with its audit
    entry); the number of objects deleted. Repeatable: a run cut short is finished by the
    next, as the objects go first and the row is marked last."""
    keys = store.keys_under(item.prefix)
    for key in keys:
        store.delete(key)
    app = session.get(Application, item.application_id)
    assert app is not None
    hashes: dict[str, str | None] = {name: _digest(getattr(app, name)) for name in PERSONAL_FIELDS}
    for name in PERSONAL_FIELDS:
        setattr(app, name, "")
    for signature in session.exec(select(Signature).where(Signature.application_id == app.id)):
        for name in SIGNER_FIELDS:
            hashes[f"signature.{signature.kind}.{name}"] = _digest(getattr(signature, name))
        signature.signer_name = signature.signer_title = ""
        signature.ip = signature.user_agent = None
        session.add(signature)
    for check in session.exec(
        select(ApplicationCheck).where(ApplicationCheck.application_id == app.id)
    ):
        # What a source answered may name people (a register's officers, a sanctions entry).
        hashes[f"check.{check.code.value}.detail"] = _digest(check.detail)
        check.detail, check.evidence = "", {}
        session.add(check)
    for doc in session.exec(select(Document).where(Document.application_id == app.id)):
        hashes[f"document.{doc.id}.filename"] = _digest(doc.filename)
        doc.filename = ""
        session.add(doc)
    session.execute(
        sa.update(Notification)
        .where(col(Notification.application_id) == app.id)
        .values(recipient="", body_text="", body_html="", last_error=None)
    )
    if item.seller_id is not None:
        hashes.update(_erase_seller(session, item.seller_id))
    app.personal_data_erased_at = now
    session.add(app)
    audit.record(
        session,
        key=f"erase:{app.id}",
        actor="retention",
        action="personal_data_erased",
        subject_type="application",
        subject_id=str(app.id),
        before=json.dumps(hashes, sort_keys=True),
        reason=f"{item.why}; {len(keys)} objects deleted",
        at=now,
    )
    session.commit()
    return len(keys)


def _erase_seller(session: Session, seller_id: uuid.UUID) -> dict[str, str | None]:
    """A departed seller's own account and messages: the sign-in (e-mail address, password) is
    erased and can no longer be used, the evidence files' names and the seller's mails go; the
    hashes of what went, for the audit entry."""
    hashes: dict[str, str | None] = {}
    for account in session.exec(select(SellerAccount).where(SellerAccount.seller_id == seller_id)):
        hashes[f"seller_account.{account.id}.email"] = _digest(account.email)
        account.email = f"erased-{account.id}@erased.invalid"
        account.password_hash = account.link_nonce = None
        account.disabled, account.token_version = True, account.token_version + 1
        session.add(account)
    for evidence in session.exec(
        select(AppealEvidence).where(AppealEvidence.seller_id == seller_id)
    ):
        hashes[f"evidence.{evidence.id}.filename"] = _digest(evidence.filename)
        evidence.filename, evidence.status = "", "erased"  # its file went with the prefix
        session.add(evidence)
    session.execute(
        sa.update(Notification)
        .where(col(Notification.seller_id) == seller_id)
        .values(recipient="", body_text="", body_html="", last_error=None)
    )
    return hashes


def request_seller_erasure(
    session: Session, seller: Seller, requested_by: str, now: datetime
) -> Seller:
    """Ops ask to erase a departed seller's personal data and files: the next retention run
    does it. Asked again: the first request stands. 409 unless the seller is offboarded."""
    if seller.status != SellerStatus.offboarded:
        raise Conflict(
            f"only a seller who has left can be erased; this one is {seller.status.value}"
        )
    if seller.erasure_requested_at is None:
        seller.erasure_requested_at, seller.erasure_requested_by = now, requested_by
        audit.record(
            session,
            key=f"erasure-requested:{seller.id}",
            actor=requested_by,
            action="seller_erasure_requested",
            subject_type="seller",
            subject_id=str(seller.id),
            reason="the seller has left; erased by the next retention run",
            at=now,
        )
        session.add(seller)
        try:
            session.commit()
        except sa.exc.IntegrityError:  # asked at the same moment by someone else: theirs stands
            session.rollback()
            session.refresh(seller)
    return seller
