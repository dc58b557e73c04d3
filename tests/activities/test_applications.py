"""The automated checks: a register that cannot answer is recorded `unavailable` and asked
again by the sweeper's re-check, an S3 that cannot answer is retried, neither is taken as a
refusal; a file completed while S3 was down is checked as its upload would have been."""

import hashlib
import time
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.applications import ApplicationActivities
from sellerflow.cli.devstack import free_port
from sellerflow.config import Settings
from sellerflow.db import session_scope
from sellerflow.models import Application, Document
from sellerflow.payloads import VerifyApplicationInput, VerifyApplicationResult
from sellerflow.policy.model import Policy
from sellerflow.registries import RegistryAnswer, RegistryRecord
from sellerflow.services.checks import checks_of
from sellerflow.storage import ObjectStore
from tests.journey import PDF
from tests.support.builders import application_row
from workflows.common import ACTIVITY_OPTIONS

KIND = "company_registration_extract"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class FixedRegistry:
    source = "a fixed answer"

    def __init__(self, answer: RegistryAnswer) -> None:
        self.answer = answer

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryRecord:
        return RegistryRecord(self.answer)


def verify(
    engine: sa.Engine,
    policy: Policy,
    answer: RegistryAnswer,
    store: ObjectStore | None = None,
    app: Application | None = None,
) -> VerifyApplicationResult:
    app = app or new_application(engine, policy)
    activities = ApplicationActivities(engine, FixedRegistry(answer), store)
    inp = VerifyApplicationInput(application_id=str(app.id), policy=policy, as_of=datetime.now(UTC))
    return ActivityEnvironment().run(activities.verify_application, inp)


def new_application(engine: sa.Engine, policy: Policy) -> Application:
    with session_scope(engine) as session:
        app = application_row(policy.version)
        session.add(app)
    return app


def pending_document(engine: sa.Engine, app: Application) -> Document:
    """A document completed while S3 was down: uploaded, with no size or checksum yet."""
    doc_id = uuid.uuid4()
    doc = Document(
        id=doc_id,
        application_id=app.id,
        kind=KIND,
        filename="extract.pdf",
        content_type="application/pdf",
        declared_size=len(PDF),
        object_key=f"applications/{app.id}/documents/{doc_id}",
        status="uploaded",
        issued_on=datetime.now(UTC).date(),
    )
    with session_scope(engine) as session:
        session.add(doc)
    return doc


def reloaded(engine: sa.Engine, doc: Document) -> Document:
    with session_scope(engine) as session:
        found = session.get(Document, doc.id)
        assert found is not None
        return found


@pytest.fixture
def store(s3_endpoint: str) -> ObjectStore:
    return ObjectStore(Settings(s3_endpoint_url=s3_endpoint))


def test_an_unavailable_registry_is_recorded_and_does_not_stop_the_applicant(
    engine: sa.Engine, policy: Policy
) -> None:
    app = new_application(engine, policy)
    result = verify(engine, policy, RegistryAnswer.unavailable, app=app)
    assert "registry_mismatch" not in {p.error_code for p in result.problems}, "not theirs to fix"
    with session_scope(engine) as session:
        check = next(c for c in checks_of(session, app.id) if c.code == "company_registry")
        assert (check.status, check.attempts) == ("unavailable", 1)
        assert check.next_attempt_at is not None
        assert check.next_attempt_at > check.checked_at, "asked again later, not passed"


def test_a_registry_that_does_not_know_the_company_is_a_refusal(
    engine: sa.Engine, policy: Policy
) -> None:
    result = verify(engine, policy, RegistryAnswer.not_found)
    codes = {(p.code, p.error_code) for p in result.problems}
    assert ("company_registration_extract", "registry_mismatch") in codes


def test_a_file_completed_while_s3_was_down_is_checked_before_the_documents_are_judged(
    engine: sa.Engine, policy: Policy, store: ObjectStore
) -> None:
    app = new_application(engine, policy)
    doc = pending_document(engine, app)
    store.put(doc.object_key, PDF, doc.content_type)
    result = verify(engine, policy, RegistryAnswer.found, store, app)
    checked = reloaded(engine, doc)
    assert (checked.status, checked.stored_size) == ("verified", len(PDF))
    assert checked.sha256 == hashlib.sha256(PDF).hexdigest()
    assert checked.uploaded_at is not None
    assert KIND not in {p.code for p in result.problems}


@pytest.mark.parametrize(
    ("data", "max_bytes", "error_code"),
    [(PNG, None, "document_corrupt"), (PDF, 100, "document_too_large")],
)
def test_a_bad_file_completed_while_s3_was_down_is_refused_and_deleted(
    engine: sa.Engine,
    policy: Policy,
    store: ObjectStore,
    data: bytes,
    max_bytes: int | None,
    error_code: str,
) -> None:
    if max_bytes is not None:
        rules = policy.documents.model_copy(update={"max_bytes": max_bytes})
        policy = policy.model_copy(update={"documents": rules})
    app = new_application(engine, policy)
    doc = pending_document(engine, app)
    store.put(doc.object_key, data, doc.content_type)
    result = verify(engine, policy, RegistryAnswer.found, store, app)
    refused = reloaded(engine, doc)
    assert (refused.status, refused.error_code, refused.sha256) == ("refused", error_code, None)
    assert store.inspect(doc.object_key, 1 << 30) is None, "the refused file is deleted"
    problem = next(p for p in result.problems if p.code == KIND)
    assert (problem.error_code, problem.reason) == (error_code, refused.error_reason)


def test_an_unreachable_s3_is_a_retryable_error_that_fails_fast(
    engine: sa.Engine, policy: Policy
) -> None:
    app = new_application(engine, policy)
    doc = pending_document(engine, app)
    nowhere = ObjectStore(Settings(s3_endpoint_url=f"http://127.0.0.1:{free_port()}"))
    started = time.monotonic()
    with pytest.raises(ApplicationError) as raised:
        verify(engine, policy, RegistryAnswer.found, nowhere, app)
    assert time.monotonic() - started < 5, "one attempt must not hang on a dead S3"
    assert raised.value.type == "StoreUnavailable"
    assert "S3 unavailable" in raised.value.message
    assert not raised.value.non_retryable
    assert raised.value.type not in ACTIVITY_OPTIONS.retry_policy.non_retryable_error_types
    unchanged = reloaded(engine, doc)
    assert (unchanged.status, unchanged.sha256) == ("uploaded", None)


def checks_recorded(engine: sa.Engine, app: Application) -> dict[str, tuple[str, int]]:
    with session_scope(engine) as session:
        return {c.code.value: (c.status.value, c.attempts) for c in checks_of(session, app.id)}


def test_the_verification_records_each_check_as_the_reviewer_reads_it(
    engine: sa.Engine, policy: Policy
) -> None:
    app = new_application(engine, policy)
    verify(engine, policy, RegistryAnswer.found, app=app)
    assert checks_recorded(engine, app) == {
        "vat_number": ("passed", 1),
        "company_registry": ("passed", 1),
        "sanctions": ("unavailable", 1),  # no list loaded: not screened, and shown so
        "duplicates": ("passed", 1),
    }


def test_a_mistyped_iban_is_a_failed_check_and_a_change_asked_of_the_applicant(
    engine: sa.Engine, policy: Policy
) -> None:
    app = application_row(policy.version, iban="DE89 3704 0044 0532 0130 01")
    with session_scope(engine) as session:
        session.add(app)
    result = verify(engine, policy, RegistryAnswer.not_found, app=app)
    assert ("iban", "iban_invalid") in {(p.code, p.error_code) for p in result.problems}
    assert checks_recorded(engine, app) == {
        "vat_number": ("passed", 1),
        "iban": ("failed", 1),
        "company_registry": ("failed", 1),
        "sanctions": ("unavailable", 1),
        "duplicates": ("passed", 1),
    }

    # Corrected and submitted again: the newest result replaces the old one.
    with session_scope(engine) as session:
        found = session.get(Application, app.id)
        assert found is not None
        found.iban = "DE89 3704 0044 0532 0130 00"
    result = verify(engine, policy, RegistryAnswer.found, app=app)
    assert "iban" not in {p.code for p in result.problems}
    assert checks_recorded(engine, app)["iban"] == ("passed", 1)
