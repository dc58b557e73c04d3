"""Uploads cannot be abused: the real S3 server enforces the presigned policy, the API checks
what was stored, and a refused file changes nothing an applicant or reviewer relies on."""

import asyncio
import hashlib
import os
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import Session

from sellerflow.models import Document
from sellerflow.storage import ObjectStore
from tests.conftest import Stack
from tests.journey import (
    PDF,
    complete_application,
    create_application,
    declare_document,
    post_to_s3,
)
from tests.support.waiting import eventually

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 512
KIND = "company_registration_extract"


async def requirements_of(stack: Stack, app_id: str, auth: dict[str, str]) -> Any:
    """The requirements once the workflow has set the applicant's deadline."""

    async def with_deadline() -> Any:
        response = await stack.http.get(f"/v1/applications/{app_id}", headers=auth)
        assert response.status_code == 200, response.text
        return response.json() if response.json()["deadline"] is not None else None

    shown = await eventually(with_deadline, timeout=10, why="the workflow never set the deadline")
    return shown["requirements"]


async def declared(stack: Stack, app_id: str, auth: dict[str, str], **changes: Any) -> Any:
    response = await declare_document(stack.http, app_id, auth, KIND, **changes)
    assert response.status_code == 201, response.text
    return response.json()


def stored_key(stack: Stack, document_id: str) -> str:
    with Session(stack.engine) as session:
        doc = session.get(Document, uuid.UUID(document_id))
        assert doc is not None
        return doc.object_key


def mark_pending(stack: Stack, document_id: str) -> None:
    """What completing did while S3 was down: uploaded, its file not checked yet."""
    with Session(stack.engine) as session:
        doc = session.get(Document, uuid.UUID(document_id))
        assert doc is not None
        doc.status = "uploaded"
        session.add(doc)
        session.commit()


def is_stored(stack: Stack, document_id: str) -> bool:
    store = ObjectStore(stack.settings)
    return store.inspect(stored_key(stack, document_id), 1 << 30) is not None


async def complete(stack: Stack, app_id: str, auth: dict[str, str], doc_id: str) -> httpx.Response:
    url = f"/v1/applications/{app_id}/documents/{doc_id}/complete"
    return await stack.http.post(url, headers=auth)


async def test_a_file_larger_than_declared_is_refused_by_s3(stack: Stack) -> None:
    app_id, auth = await create_application(stack.http)
    before = await requirements_of(stack, app_id, auth)
    doc = await declared(stack, app_id, auth, size_bytes=len(PDF))
    sent = await post_to_s3(doc["upload"], PDF + b"0" * 1024, "application/pdf")
    assert sent.status_code == 400, sent.text
    assert "<Code>EntityTooLarge</Code>" in sent.text
    assert not is_stored(stack, doc["document_id"])
    assert (await complete(stack, app_id, auth, doc["document_id"])).status_code == 409
    assert await requirements_of(stack, app_id, auth) == before


@pytest.mark.parametrize("size", [10 * 1024 * 1024 + 1, 1 << 40])
async def test_a_declared_size_over_the_policy_limit_is_refused(stack: Stack, size: int) -> None:
    app_id, auth = await create_application(stack.http)
    response = await declare_document(stack.http, app_id, auth, KIND, size_bytes=size)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("document_too_large")


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", "application/pdf; x=1"])
async def test_a_content_type_outside_the_policy_is_refused(
    stack: Stack, content_type: str
) -> None:
    app_id, auth = await create_application(stack.http)
    before = await requirements_of(stack, app_id, auth)
    response = await declare_document(stack.http, app_id, auth, KIND, content_type=content_type)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("type_not_supported")
    assert await requirements_of(stack, app_id, auth) == before


async def test_s3_refuses_another_content_type_than_the_declared_one(stack: Stack) -> None:
    app_id, auth = await create_application(stack.http)
    doc = await declared(stack, app_id, auth)
    form = {**doc["upload"], "fields": {**doc["upload"]["fields"], "Content-Type": "text/html"}}
    sent = await post_to_s3(form, PDF, "text/html", "page.html")
    assert sent.status_code == 403, sent.text
    assert "Policy Condition failed" in sent.text
    assert not is_stored(stack, doc["document_id"])


@pytest.mark.parametrize("data", [PNG, os.urandom(4096), b"<html><script>x()</script>"])
async def test_bytes_that_are_not_a_pdf_are_refused_and_deleted(stack: Stack, data: bytes) -> None:
    app_id, auth = await create_application(stack.http)
    before = await requirements_of(stack, app_id, auth)
    doc = await declared(stack, app_id, auth, size_bytes=len(data))
    sent = await post_to_s3(doc["upload"], data, "application/pdf")
    assert sent.status_code in (200, 201, 204), sent.text
    refused = await complete(stack, app_id, auth, doc["document_id"])
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("document_corrupt")
    assert not is_stored(stack, doc["document_id"])
    assert await requirements_of(stack, app_id, auth) == before
    again = await complete(stack, app_id, auth, doc["document_id"])
    assert again.json()["status"] == "refused"


async def test_a_refused_replacement_does_not_hide_the_uploaded_file(stack: Stack) -> None:
    app_id, auth = await create_application(stack.http)
    good = await declared(stack, app_id, auth)
    await post_to_s3(good["upload"], PDF, "application/pdf")
    assert (await complete(stack, app_id, auth, good["document_id"])).status_code == 200
    before = await requirements_of(stack, app_id, auth)
    bad = await declared(stack, app_id, auth, size_bytes=len(PNG))
    await post_to_s3(bad["upload"], PNG, "application/pdf")
    assert (await complete(stack, app_id, auth, bad["document_id"])).status_code == 422
    after = await requirements_of(stack, app_id, auth)
    assert after == before
    assert next(r for r in after if r["code"] == KIND)["status"] == "pending_verification"


async def test_a_hostile_filename_is_sanitized_and_never_in_the_key(stack: Stack) -> None:
    app_id, auth = await create_application(stack.http)
    doc = await declared(stack, app_id, auth, filename='..\\../../etc/pass\x00wd\r\n"x".pdf')
    key = stored_key(stack, doc["document_id"])
    assert key == f"applications/{app_id}/documents/{doc['document_id']}"
    assert doc["upload"]["fields"]["key"] == key
    await post_to_s3(doc["upload"], PDF, "application/pdf")
    completed = await complete(stack, app_id, auth, doc["document_id"])
    assert completed.status_code == 200, completed.text
    assert completed.json()["filename"] == "passwd_x_.pdf"


async def test_an_expired_presigned_post_is_refused_by_s3(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "upload_expiry_seconds", 1)
    app_id, auth = await create_application(stack.http)
    before = await requirements_of(stack, app_id, auth)
    doc = await declared(stack, app_id, auth)
    await asyncio.sleep(2.5)
    sent = await post_to_s3(doc["upload"], PDF, "application/pdf")
    assert sent.status_code == 403, sent.text
    assert "Policy expired" in sent.text
    assert not is_stored(stack, doc["document_id"])
    assert await requirements_of(stack, app_id, auth) == before


@pytest.mark.parametrize("filename", ["invoice.html", "drawing.svg", "Prüfbericht März.pdf"])
async def test_a_download_is_always_an_attachment(stack: Stack, filename: str) -> None:
    app_id, auth = await create_application(stack.http)
    data = b"%PDF-1.7\n<html><svg onload=alert(1)><script>alert(2)</script></html>"
    doc = await declared(stack, app_id, auth, filename=filename, size_bytes=len(data))
    await post_to_s3(doc["upload"], data, "application/pdf", filename)
    assert (await complete(stack, app_id, auth, doc["document_id"])).status_code == 200
    url = f"/v1/applications/{app_id}/documents/{doc['document_id']}/download"
    redirect = await stack.http.get(url, headers=auth)
    assert redirect.status_code == 307, redirect.text
    async with httpx.AsyncClient() as browser:
        served = await browser.get(redirect.headers["location"])
    assert served.status_code == 200, served.text
    assert served.content == data
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["content-type"] == "application/octet-stream"
    assert "filename*=UTF-8''" + quote(filename, safe="") in served.headers["content-disposition"]


async def test_completing_again_checks_a_file_left_unchecked_while_s3_was_down(
    stack: Stack,
) -> None:
    app_id, auth = await create_application(stack.http)
    doc = await declared(stack, app_id, auth)
    await post_to_s3(doc["upload"], PDF, "application/pdf")
    mark_pending(stack, doc["document_id"])
    completed = await complete(stack, app_id, auth, doc["document_id"])
    assert completed.status_code == 200, completed.text
    assert completed.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert completed.json()["size_bytes"] == len(PDF)


async def test_a_file_never_uploaded_while_s3_was_down_is_due_again(stack: Stack) -> None:
    app_id, auth = await create_application(stack.http)
    before = await requirements_of(stack, app_id, auth)
    doc = await declared(stack, app_id, auth)
    mark_pending(stack, doc["document_id"])
    assert (await complete(stack, app_id, auth, doc["document_id"])).status_code == 409
    listed = await stack.http.get(f"/v1/applications/{app_id}/documents", headers=auth)
    assert listed.json()["data"][0]["status"] == "awaiting_upload"
    assert await requirements_of(stack, app_id, auth) == before


async def test_a_dated_document_declared_without_its_date_is_refused_naming_the_field(
    stack: Stack,
) -> None:
    """Refused at declaration, not after the applicant submitted."""
    app_id, auth = await create_application(stack.http)
    undated = await declare_document(stack.http, app_id, auth, KIND, issued_on=None)
    assert undated.status_code == 422, undated.text
    assert set(undated.json()) == {"error", "detail"}
    assert "issued_on" in undated.json()["detail"]
    expired = await declare_document(
        stack.http, app_id, auth, "legal_representative_id", expires_on="2020-01-01"
    )
    assert expired.status_code == 422, expired.text
    assert "expires_on" in expired.json()["detail"]
    uninsured = await declare_document(
        stack.http, app_id, auth, "insurance_certificate", expires_on=None
    )
    assert uninsured.status_code == 422, uninsured.text
    assert "expiry_date_missing" in uninsured.json()["detail"]


async def test_a_document_cannot_be_completed_once_the_application_is_submitted(
    stack: Stack,
) -> None:
    """A file completed after submission would be approved along with what the reviewer saw."""
    app_id, auth = await create_application(stack.http)
    late = await declared(stack, app_id, auth)
    await complete_application(stack.http, stack.policy, app_id, auth)
    await requirements_of(stack, app_id, auth)
    submitted = await stack.http.post(f"/v1/applications/{app_id}/submit", headers=auth)
    assert submitted.status_code == 200, submitted.text
    stored = await post_to_s3(late["upload"], PDF, "application/pdf")
    assert stored.status_code in (200, 201, 204), stored.text
    refused = await complete(stack, app_id, auth, late["document_id"])
    assert refused.status_code == 409, refused.text
    assert "submitted" in refused.json()["detail"] or "stage" in refused.json()["detail"]
    with Session(stack.engine) as session:
        doc = session.get(Document, uuid.UUID(late["document_id"]))
        assert doc is not None
        assert doc.status == "awaiting_upload"
