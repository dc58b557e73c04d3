"""Least privilege among staff: each role reads what its work needs. The quality lab sees a
seller and its mystery orders, never the application behind it (identity documents, bank
proofs, the applicant's personal data); onboarding and SSM read the applications of their
queue; ops read everything."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import Session

from api.pages.session import SESSION_COOKIE
from sellerflow.models import Task
from tests.conftest import Stack
from tests.journey import APPLICATION, create_application, staff_token, upload
from tests.support.builders import seller_row


def insert_task(stack: Stack, kind: str, role: str, **subject: uuid.UUID) -> uuid.UUID:
    task_id = uuid.uuid4()
    with Session(stack.engine) as session:
        session.add(
            Task(
                id=task_id,
                kind=kind,
                workflow_id=f"test-{task_id}",
                role=role,
                due_at=datetime.now(UTC) + timedelta(days=2),
                **subject,
            )
        )
        session.commit()
    return task_id


def insert_seller(stack: Stack, app_id: str) -> uuid.UUID:
    seller_id = uuid.uuid4()
    with Session(stack.engine) as session:
        session.add(seller_row(app_id, id=seller_id))
        session.commit()
    return seller_id


async def page_as(http: httpx.AsyncClient, auth: dict[str, str], path: str) -> httpx.Response:
    http.cookies.set(SESSION_COOKIE, auth["Authorization"].removeprefix("Bearer "))
    try:
        return await http.get(path)
    finally:
        http.cookies.clear()


async def test_the_lab_sees_the_seller_but_not_the_application(stack: Stack) -> None:
    app_id, owner = await create_application(stack.http)
    uploaded = await upload(stack.http, app_id, owner, "legal_representative_id")
    assert uploaded.status_code == 200, uploaded.text
    doc_id = uploaded.json()["document_id"]
    seller_id = insert_seller(stack, app_id)
    mystery = insert_task(stack, "mystery_order", "lab", seller_id=seller_id)
    lab = await staff_token(stack.http, "lab1")

    app = f"/v1/applications/{app_id}"
    for path in (
        app,
        f"{app}/documents",
        f"{app}/documents/{doc_id}/download",
        f"{app}/history",
        "/v1/applications",
        # The seller's history begins with the onboarding of its application.
        f"/v1/sellers/{seller_id}/history",
    ):
        response = await stack.http.get(path, headers=lab)
        assert response.status_code == 403, f"{path}: {response.status_code}"
        assert response.json()["error"] == "Forbidden"
    staff_download = await page_as(
        stack.http, lab, f"/staff/applications/{app_id}/documents/{doc_id}"
    )
    assert staff_download.status_code == 403

    seller = await stack.http.get(f"/v1/sellers/{seller_id}", headers=lab)
    assert seller.status_code == 200, seller.text
    assert not {"contact_name", "contact_email", "registration_number"} & set(seller.json())

    task_page = await page_as(stack.http, lab, f"/staff/tasks/{mystery}")
    assert task_page.status_code == 200, task_page.text
    assert APPLICATION["legal_name"] in task_page.text  # whose order it is
    for personal in ("contact_email", "contact_name", "registration_number"):
        assert str(APPLICATION[personal]) not in task_page.text, personal
    assert doc_id not in task_page.text


async def test_reviewers_read_the_applications_of_their_queue(stack: Stack) -> None:
    queued, _ = await create_application(stack.http, legal_name="Queued Ltd")
    elsewhere, _ = await create_application(stack.http, legal_name="Elsewhere Ltd")
    insert_task(stack, "onboarding_review", "onboarding", application_id=uuid.UUID(queued))
    onboarding = await staff_token(stack.http, "onboarding1")
    ssm = await staff_token(stack.http, "ssm1")
    ops = await staff_token(stack.http, "ops1")

    async def status(auth: dict[str, str], app_id: str) -> int:
        return (await stack.http.get(f"/v1/applications/{app_id}", headers=auth)).status_code

    assert await status(onboarding, queued) == 200
    # A draft without a task of theirs is in nobody's queue but the applicant's (and ops').
    assert await status(onboarding, elsewhere) == 403
    assert await status(ssm, queued) == 403
    assert await status(ops, elsewhere) == 200
    assert await status(onboarding, str(uuid.uuid4())) == 404

    listed = await stack.http.get("/v1/applications", headers=onboarding)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["data"]] == [queued]
    everything = await stack.http.get("/v1/applications", headers=ops)
    assert {queued, elsewhere} <= {a["id"] for a in everything.json()["data"]}
