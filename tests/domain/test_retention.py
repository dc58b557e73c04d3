"""Retention as policy data: `python -m sellerflow.cli.retention` lists (--dry-run) and erases
the files and personal data of applications that ended without a seller more than the policy's
period ago; the audit log keeps hashes of what was erased, and its chain holds."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow.audit import verify
from sellerflow.cli.retention import main
from sellerflow.config import Settings
from sellerflow.db import make_engine, session_scope, upgrade_schema
from sellerflow.models import (
    Application,
    ApplicationCheck,
    AuditLog,
    Document,
    Notification,
    Signature,
)
from sellerflow.policy.model import Policy
from sellerflow.storage import ObjectStore
from sellerflow.vocabulary import CheckCode, CheckStatus, Stage
from tests.support.builders import application_row

NOW = datetime.now(UTC)


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def applicant(
    engine: sa.Engine, store: ObjectStore, policy: Policy, stage: Stage, ended: int
) -> str:
    """An application that entered `stage` `ended` days ago, with a checked document (and the
    stray upload under its first key), a signature's evidence and a message; its e-mail."""
    email = f"person-{uuid.uuid4().hex[:8]}@private.example"
    app = application_row(
        policy.version,
        contact_email=email,
        stage=stage,
        stage_entered_at=days_ago(ended),
        iban="DE89 3704 0044 0532 0130 00",
        company_address="Hauptstraße 5, 10115 Berlin",
        legal_representative="Jane Doe",
        phone="+49 30 1234567",
    )
    doc_id = uuid.uuid4()
    upload_key = f"applications/{app.id}/documents/{doc_id}"
    doc = Document(
        id=doc_id,
        application_id=app.id,
        kind="legal_representative_id",
        filename="passport-jane-doe.pdf",
        content_type="application/pdf",
        declared_size=10,
        object_key=f"{upload_key}.checked",
        status="uploaded",
    )
    signature = Signature(
        application_id=app.id,
        kind="terms",
        version="1",
        sha256="0" * 64,
        signer_name="Jane Doe",
        signer_title="CEO",
        ip="203.0.113.9",
        user_agent="Firefox",
        archive_key=f"applications/{app.id}/agreements/terms",
    )
    message = Notification(
        idempotency_key=f"received:{app.id}",
        template="application_received",
        recipient=email,
        subject="We received your application",
        body_text=f"Hello Jane Doe, {email}",
        body_html=f"<p>Hello Jane Doe, {email}</p>",
        application_id=app.id,
    )
    check = ApplicationCheck(
        application_id=app.id,
        code=CheckCode.company_registry,
        status=CheckStatus.needs_review,
        detail="registered officer Jane Doe differs",
        source="register",
        evidence={"legal_representative": "Jane Doe"},
        checked_at=days_ago(ended),
    )
    with session_scope(engine) as session:
        session.add(app)
        session.flush()
        session.add_all([doc, signature, message, check])
    for key in (upload_key, doc.object_key, signature.archive_key):
        store.put(key, b"%PDF-1.7 personal", "application/pdf")
    return email


@pytest.fixture
def settings(tmp_path: Path, s3_endpoint: str) -> Settings:
    url = f"sqlite:///{tmp_path / 'sellerflow.db'}"
    upgrade_schema(url)
    return Settings(database_url=url, s3_endpoint_url=s3_endpoint, sellerflow_policy="default")


def app_by_email(session: Session, email: str) -> Application | None:
    return session.exec(select(Application).where(Application.contact_email == email)).first()


def test_ended_applications_past_retention_are_listed_then_erased(
    settings: Settings, policy: Policy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert policy.retention.closed_applications == "180 days"
    engine = make_engine(settings.database_url)
    store = ObjectStore(settings)
    rejected = applicant(engine, store, policy, Stage.rejected, ended=200)
    expired = applicant(engine, store, policy, Stage.expired, ended=181)
    recent = applicant(engine, store, policy, Stage.withdrawn, ended=10)
    approved = applicant(engine, store, policy, Stage.approved, ended=400)
    with Session(engine) as session:
        ids = {
            e: app.id
            for e in (rejected, expired, recent, approved)
            if (app := app_by_email(session, e))
        }
    before = {e: store.keys_under(f"applications/{ids[e]}/") for e in ids}
    assert all(len(keys) == 3 for keys in before.values())

    assert main(["--dry-run"], settings) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("2 applications ended more than 180 days ago")
    # One per application, each a document's first key (the bucket is shared with other tests:
    # their strays may be listed too).
    for e in ids:
        (first,) = [k for k in before[e] if "/documents/" in k and not k.endswith(".checked")]
        assert first in listed
    assert "nothing was changed" in listed
    listed = listed.split("stray uploads")[0]
    assert str(ids[rejected]) in listed
    assert str(ids[expired]) in listed
    assert f"applications/{ids[rejected]}/documents/" in listed
    assert str(ids[recent]) not in listed
    assert str(ids[approved]) not in listed
    assert {e: store.keys_under(f"applications/{ids[e]}/") for e in ids} == before

    assert main([], settings) == 0
    done = capsys.readouterr().out
    assert "erased (3 objects deleted)" in done
    assert "stray uploads" in done
    for erased in (rejected, expired):
        assert store.keys_under(f"applications/{ids[erased]}/") == []
    for kept in (recent, approved):
        # The kept applications lose only their stray upload (sent after the file was checked).
        stray = [k for k in before[kept] if "/documents/" in k and not k.endswith(".checked")]
        assert len(stray) == 1
        assert store.keys_under(f"applications/{ids[kept]}/") == [
            k for k in before[kept] if k not in stray
        ]
    with Session(engine) as session:
        for erased in (rejected, expired):
            app = session.get(Application, ids[erased])
            assert app is not None
            assert (app.contact_email, app.contact_name, app.iban) == ("", "", "")
            assert (app.company_address, app.legal_representative, app.phone) == ("", "", "")
            assert app.personal_data_erased_at is not None
            (check,) = session.exec(
                select(ApplicationCheck).where(ApplicationCheck.application_id == app.id)
            ).all()
            # The result stays (what was checked, when, and how it came out), not what it named.
            assert (check.status, check.detail, check.evidence) == ("needs_review", "", {})
            assert app.legal_name == "Refurb Works GmbH", "the company's name is not personal"
        kept_app = app_by_email(session, recent)
        assert kept_app is not None
        assert kept_app.iban == "DE89 3704 0044 0532 0130 00"
        kept_check = session.exec(
            select(ApplicationCheck).where(ApplicationCheck.application_id == kept_app.id)
        ).one()
        assert kept_check.evidence == {"legal_representative": "Jane Doe"}
        assert app_by_email(session, approved) is not None
        rows = session.exec(
            select(Signature).where(col(Signature.application_id).in_([ids[rejected], ids[recent]]))
        ).all()
        assert {(s.application_id == ids[rejected], s.signer_name, s.ip) for s in rows} == {
            (True, "", None),
            (False, "Jane Doe", "203.0.113.9"),
        }
        doc = session.exec(select(Document).where(Document.application_id == ids[rejected])).one()
        assert doc.filename == ""
        note = session.exec(
            select(Notification).where(Notification.application_id == ids[rejected])
        ).one()
        assert (note.recipient, note.body_text, note.body_html) == ("", "", "")
        entry = session.exec(
            select(AuditLog).where(
                AuditLog.action == "personal_data_erased",
                AuditLog.subject_id == str(ids[rejected]),
            )
        ).one()
        assert entry.before is not None
        assert hashlib.sha256(rejected.encode()).hexdigest() in entry.before
        assert rejected not in entry.before
        assert "Jane Doe" not in entry.before
        assert verify(session).ok

    assert main(["--dry-run"], settings) == 0
    again = capsys.readouterr().out
    assert again.startswith("0 applications")
    assert not any(str(ids[e]) in again for e in ids)
    engine.dispose()
