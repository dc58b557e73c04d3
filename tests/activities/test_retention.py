"""Retention as a daily Temporal Schedule: the workflow's one activity erases the applications
past their retention period and removes stray uploads (a file sent to a form's key after its
check, which nobody reads); a file still awaiting its check stays."""

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.retention import RetentionActivities
from sellerflow.config import Settings
from sellerflow.db import make_engine, session_scope, upgrade_schema
from sellerflow.models import AppealEvidence, Application, Document
from sellerflow.payloads import RetentionInput
from sellerflow.policy.model import Policy
from sellerflow.services.documents import file_check_pending
from sellerflow.services.retention import stray_uploads
from sellerflow.storage import ObjectStore, upload_key
from sellerflow.temporal import connect
from sellerflow.vocabulary import Stage
from tests.domain.test_retention import app_by_email, applicant
from tests.support.builders import application_row, seller_row
from tests.support.waiting import eventually
from worker import RETENTION_EVERY, RETENTION_SCHEDULE_ID, ensure_retention_schedule
from workflows.retention import RetentionWorkflow


def settings_for(tmp_path: Path, s3_endpoint: str, temporal_address: str) -> Settings:
    url = f"sqlite:///{tmp_path / 'sellerflow.db'}"
    upgrade_schema(url)
    return Settings(
        database_url=url,
        s3_endpoint_url=s3_endpoint,
        temporal_address=temporal_address,
        temporal_task_queue=f"retention-{uuid.uuid4()}",
    )


def upload_document(application_id: uuid.UUID, **fields: object) -> Document:
    """A document of the application whose file is (still) at its upload key."""
    doc = Document(
        application_id=application_id,
        kind="proof_of_address",
        filename="a.pdf",
        content_type="application/pdf",
        declared_size=10,
        object_key="",
        **fields,
    )
    doc.object_key = upload_key(application_id, "documents", doc.id)
    return doc


def test_only_uploads_after_their_check_are_stray(
    tmp_path: Path, s3_endpoint: str, temporal_address: str, policy: Policy
) -> None:
    settings = settings_for(tmp_path, s3_endpoint, temporal_address)
    engine, store = make_engine(settings.database_url), ObjectStore(settings)
    app = application_row(policy.version, stage=Stage.approved)
    seller = seller_row(app)
    prefix = f"applications/{app.id}"
    waiting = upload_document(app.id)
    checked = AppealEvidence(
        seller_id=seller.id,
        filename="recall.pdf",
        content_type="application/pdf",
        declared_size=10,
        object_key="",
        status="uploaded",
    )
    upload_key = f"{prefix}/appeals/{checked.id}"
    checked.object_key = f"{upload_key}.checked"
    with session_scope(engine) as session:
        session.add(app)
        session.flush()
        session.add(seller)
        session.flush()
        session.add_all([waiting, checked])
    gone = f"{prefix}/documents/{uuid.uuid4()}"  # its row no longer exists
    for key in (waiting.object_key, upload_key, checked.object_key, gone):
        store.put(key, b"%PDF-1.7", "application/pdf")
    with Session(engine) as session:
        keys = store.keys_under(f"{prefix}/")
        assert stray_uploads(session, keys) == sorted([upload_key, gone])
    engine.dispose()


async def test_the_daily_schedule_erases_and_removes_stray_uploads(
    tmp_path: Path, s3_endpoint: str, temporal_address: str, policy: Policy
) -> None:
    settings = settings_for(tmp_path, s3_endpoint, temporal_address)
    engine, store = make_engine(settings.database_url), ObjectStore(settings)
    rejected = applicant(engine, store, policy, Stage.rejected, ended=200)
    approved = applicant(engine, store, policy, Stage.approved, ended=400)
    with Session(engine) as session:
        erased, kept = app_by_email(session, rejected), app_by_email(session, approved)
        assert erased is not None
        assert kept is not None
    client = await connect(settings)
    await ensure_retention_schedule(client, settings)
    await ensure_retention_schedule(client, settings)  # idempotent: a restarted worker
    schedule = client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    try:
        described = await schedule.describe()
        assert [i.every for i in described.schedule.spec.intervals] == [RETENTION_EVERY]
        with ThreadPoolExecutor(max_workers=2) as executor:
            async with Worker(
                client,
                task_queue=settings.temporal_task_queue,
                workflows=[RetentionWorkflow],
                activities=[RetentionActivities(engine, policy, store).erase_due],
                activity_executor=executor,
            ):
                await schedule.trigger()

                def done() -> bool:
                    with Session(engine) as session:
                        row = session.get(Application, erased.id)
                        return row is not None and row.personal_data_erased_at is not None

                await eventually(done, timeout=30, why="the schedule erased nothing")
                await eventually(
                    lambda: len(store.keys_under(f"applications/{kept.id}/")) == 2,
                    timeout=30,
                    why="the kept application's stray upload is still there",
                )
    finally:
        await schedule.delete()
    assert store.keys_under(f"applications/{erased.id}/") == []
    assert all(
        key.endswith(".checked") or "/agreements/" in key
        for key in store.keys_under(f"applications/{kept.id}/")
    )
    engine.dispose()


def test_a_file_still_its_documents_own_is_never_stray(
    tmp_path: Path, s3_endpoint: str, temporal_address: str, policy: Policy
) -> None:
    """A document completed while S3 was down (its file not yet checked, still at the upload
    key), and one checked before `.checked` keys existed: the upload key is the file itself.
    (Found by review: the first rule took every completed document's upload key.)"""
    settings = settings_for(tmp_path, s3_endpoint, temporal_address)
    engine = make_engine(settings.database_url)
    app = application_row(policy.version)

    pending = upload_document(app.id, status="uploaded")
    legacy = upload_document(app.id, status="uploaded", sha256="0" * 64, stored_size=10)
    with session_scope(engine) as session:
        session.add(app)
        session.flush()
        session.add_all([pending, legacy])
    assert file_check_pending(pending)
    with Session(engine) as session:
        assert stray_uploads(session, [pending.object_key, legacy.object_key]) == []
    engine.dispose()


class ManyStrays:
    """A bucket of `n` upload keys of rows that no longer exist, listed a page at a time."""

    def __init__(self, n: int) -> None:
        self.keys = [f"applications/{uuid.uuid4()}/documents/{uuid.uuid4()}" for _ in range(n)]
        self.deleted: list[int] = []

    def pages_under(self, prefix: str) -> Iterator[list[str]]:
        for start in range(0, len(self.keys), 1000):
            yield self.keys[start : start + 1000]

    def delete_many(self, keys: list[str]) -> None:
        self.deleted.append(len(keys))


def test_the_bucket_is_walked_a_page_at_a_time_with_a_heartbeat_each(
    tmp_path: Path, s3_endpoint: str, temporal_address: str, policy: Policy
) -> None:
    """Deletes go 1,000 keys a request, and the activity heartbeats between pages (its
    heartbeat timeout is 2 minutes; a bucket of a million keys takes longer than that)."""
    settings = settings_for(tmp_path, s3_endpoint, temporal_address)
    engine = make_engine(settings.database_url)
    store = ManyStrays(5000)
    beats: list[object] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)
    retention = RetentionActivities(engine, policy, store)  # type: ignore[arg-type]
    result = env.run(retention.erase_due, RetentionInput(at=datetime.now(UTC)))
    assert result.stray_uploads_removed == 5000
    assert store.deleted == [1000] * 5
    assert len(beats) >= 6  # one at the start, one per page
    engine.dispose()
