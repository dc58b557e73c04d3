"""`GET /v1/applications/{id}` reads in one statement with JSON aggregates written per database:
the answer must be what the models say, on SQLite and on PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from sellerflow.models import Application, ApplicationCheck, Document, Signature, Task
from sellerflow.policy.model import load_policy
from sellerflow.queries.requirements import requirement_list
from sellerflow.vocabulary import CheckCode, CheckStatus
from tests.api.conftest import Api
from tests.journey import create_application, staff_token
from tests.support.builders import seller_row

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def document(app_id: uuid.UUID, kind: str, status: str, minutes: int, **fields: object) -> Document:
    return Document(
        application_id=app_id,
        kind=kind,
        filename=f"{kind}.pdf",
        content_type="application/pdf",
        declared_size=1000,
        object_key=f"applications/{app_id}/documents/{uuid.uuid4()}",
        status=status,
        created_at=T0 + timedelta(minutes=minutes),
        **fields,
    )


def fill(session: Session, app_id: uuid.UUID) -> None:
    """Documents in every state the newest-of-each-kind rule distinguishes, agreements signed in
    two versions, two decisions out of order, and a seller in its trial."""
    sha = "ab" * 32
    session.add_all(
        [
            # Inserted newest first: the order must come from the timestamps.
            document(app_id, "company_registration_extract", "awaiting_upload", 9),
            document(app_id, "company_registration_extract", "accepted", 1, sha256=sha),
            document(app_id, "vat_registration", "refused", 5),  # refused at upload: ignored
            document(app_id, "vat_registration", "uploaded", 2, sha256=sha),
            document(
                app_id,
                "bank_account_proof",
                "refused",
                3,
                sha256=sha,
                error_code="illegible",
                error_reason='scan "too dark"',
            ),
        ]
    )
    for minutes, version in ((7, "2"), (4, "1")):
        session.add(
            Signature(
                application_id=app_id,
                kind="terms",
                version=version,
                sha256=sha,
                signer_name="A",
                signer_title="B",
                archive_key=f"applications/{app_id}/agreements/{uuid.uuid4()}.json",
                signed_at=T0 + timedelta(minutes=minutes),
            )
        )
    for minutes, kind, decision, reasons in (
        (30, "ssm_signoff", "approve", []),
        (20, "onboarding_review", "approve", ["docs_ok", "ünïcode"]),
    ):
        session.add(
            Task(
                id=uuid.uuid4(),
                kind=kind,
                workflow_id=f"onboarding-{app_id}",
                application_id=app_id,
                role="onboarding",
                status="completed",
                due_at=T0 + timedelta(days=2),
                decision=decision,
                completed_by="someone",
                completed_at=T0 + timedelta(minutes=minutes),
                reason_codes=reasons,
                comment="fine" if reasons else None,
            )
        )
    for code, status, evidence in (
        (CheckCode.company_registry, CheckStatus.needs_review, {"registered_name": "Ünïcode AG"}),
        (CheckCode.vat_number, CheckStatus.passed, {}),
    ):
        session.add(
            ApplicationCheck(
                application_id=app_id,
                code=code,
                status=status,
                detail=f"{code.value} detail",
                source="a source",
                evidence=evidence,
                checked_at=T0,
            )
        )
    seller = seller_row(app_id, trial_ends_at=T0 + timedelta(days=90))
    session.add(seller)
    app = session.get(Application, app_id)
    assert app is not None
    app.seller_id = seller.id
    session.add(app)
    session.commit()


async def test_the_one_statement_read_says_what_the_models_say(api_on_either_database: Api) -> None:
    http = api_on_either_database.http
    app_id, auth = await create_application(http, confirm_email=False)
    with Session(api_on_either_database.engine) as session:
        fill(session, uuid.UUID(app_id))
    applicant = await http.get(f"/v1/applications/{app_id}", headers=auth)
    staff = await http.get(f"/v1/applications/{app_id}", headers=await staff_token(http, "ops1"))
    assert applicant.status_code == staff.status_code == 200, applicant.text
    body = staff.json()
    told = applicant.json()
    # The applicant is told the same, but not who decided nor the reviewers' comments on an
    # approval (tests/attacks/test_disclosure.py).
    assert {**told, "decisions": None} == {**body, "decisions": None, "checks": None}
    assert [(d["actor"], d["comment"]) for d in told["decisions"]] == [(None, None)] * 2
    # The checks are the staff's: in the reviewer's order, with their evidence.
    assert told["checks"] is None
    assert [(c["code"], c["status"], c["evidence"]) for c in body["checks"]] == [
        ("vat_number", "passed", {}),
        ("company_registry", "needs_review", {"registered_name": "Ünïcode AG"}),
    ]
    assert datetime.fromisoformat(body["checks"][0]["checked_at"]) == T0

    policy = load_policy(api_on_either_database.settings.sellerflow_policy)
    with Session(api_on_either_database.engine) as session:
        app = session.get(Application, uuid.UUID(app_id))
        assert app is not None
        expected = [r.model_dump(mode="json") for r in requirement_list(session, policy, app)]
        tasks = session.exec(
            select(Task).where(Task.application_id == app.id).order_by(col(Task.completed_at))
        ).all()
    assert body["requirements"] == expected
    by_code = {r["code"]: r for r in body["requirements"]}
    assert by_code["company_registration_extract"]["status"] != "currently_due"  # the accepted file
    assert by_code["bank_account_proof"]["errors"]  # the refused file's reason is shown
    assert by_code["insurance_certificate"]["deadline"] is not None  # due by the trial's end
    assert body["seller_id"] == str(app.seller_id)
    assert [(d["task_id"], d["kind"], d["reason_codes"]) for d in body["decisions"]] == [
        (str(t.id), t.kind, t.reason_codes) for t in tasks
    ]
    assert [datetime.fromisoformat(d["decided_at"]) for d in body["decisions"]] == [
        T0 + timedelta(minutes=20),
        T0 + timedelta(minutes=30),
    ]
    assert body["decisions"][0]["comment"] == "fine"
    assert body["decisions"][1]["comment"] is None


async def test_an_application_without_rows_of_its_own_reads_empty_lists(
    api_on_either_database: Api,
) -> None:
    http = api_on_either_database.http
    app_id, auth = await create_application(http, confirm_email=False)
    body = (await http.get(f"/v1/applications/{app_id}", headers=auth)).json()
    assert body["decisions"] == []
    assert body["seller_id"] is None
    staff = await http.get(f"/v1/applications/{app_id}", headers=await staff_token(http, "ops1"))
    assert staff.json()["checks"] == []
    assert {r["status"] for r in body["requirements"] if r["type"] == "document"} == {
        "currently_due",
        "eventually_due",
    }
    other = await http.get(f"/v1/applications/{uuid.uuid4()}", headers=auth)
    assert other.status_code == 404
    missing = await http.get(
        f"/v1/applications/{uuid.uuid4()}", headers=await staff_token(http, "ops1")
    )
    assert missing.status_code == 404
