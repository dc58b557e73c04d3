"""Presigned URLs used other than as handed out, against the real S3 (SeaweedFS): a download
link after its expiry or edited to render inline, the bucket without a signature, and an upload
form used again after its file was checked.

tests/api/test_uploads.py shows an expired upload form refused, and downloads as attachments.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.journey import PDF, create_application, declare_document, post_to_s3
from tests.serve import Site
from tests.support.waiting import eventually

KIND = "company_registration_extract"
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>" + b" " * 64


async def uploaded(live: Site) -> tuple[str, dict[str, str], dict[str, object]]:
    """An application with one checked PDF: (application id, its auth, the declaration)."""
    app_id, auth = await create_application(live.http, settings=live.settings)
    declared = await declare_document(live.http, app_id, auth, KIND)
    assert declared.status_code == 201, declared.text
    doc = declared.json()
    assert (await post_to_s3(doc["upload"], PDF, "application/pdf")).status_code == 204
    done = await live.http.post(
        f"/v1/applications/{app_id}/documents/{doc['document_id']}/complete", headers=auth
    )
    assert done.status_code == 200, done.text
    return app_id, auth, doc


async def download_url(live: Site, app_id: str, auth: dict[str, str], doc_id: str) -> str:
    redirect = await live.http.get(
        f"/v1/applications/{app_id}/documents/{doc_id}/download", headers=auth
    )
    assert redirect.status_code == 307, redirect.text
    return str(redirect.headers["location"])


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_a_checked_file_cannot_be_replaced_through_its_upload_form(live: Site) -> None:
    """The form is valid for minutes; used again after the check, it must not change the file
    that reviewers download, nor the checksum that was recorded for it."""
    app_id, auth, doc = await uploaded(live)
    again = await post_to_s3(doc["upload"], HTML, "application/pdf")  # type: ignore[arg-type]
    assert again.status_code in (204, 403), again.text
    async with httpx.AsyncClient() as browser:
        url = await download_url(live, app_id, auth, str(doc["document_id"]))
        served = await browser.get(url)
    assert served.status_code == 200, served.text
    assert served.content == PDF


async def test_a_download_link_is_refused_after_its_expiry(
    live: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live.settings, "download_expiry_seconds", 2)
    app_id, auth, doc = await uploaded(live)
    async with httpx.AsyncClient() as browser:
        url = await download_url(live, app_id, auth, str(doc["document_id"]))
        assert (await browser.get(url)).status_code == 200

        async def refused() -> httpx.Response | None:
            served = await browser.get(url)
            return served if served.status_code != 200 else None

        served = await eventually(
            refused, timeout=15, interval=0.25, why="the expired link was still served"
        )
    assert served.status_code == 403, served.text
    assert "<Code>AccessDenied</Code>" in served.text
    assert served.content != PDF


async def test_a_download_link_cannot_be_edited_or_done_without(live: Site) -> None:
    """Its signature covers the key and the forced download headers."""
    app_id, auth, doc = await uploaded(live)
    _, _, other = await uploaded(live)
    url = await download_url(live, app_id, auth, str(doc["document_id"]))
    other_key = str(other["upload"]["fields"]["key"]) + ".checked"  # type: ignore[index]
    parts = urlsplit(url)
    edited = {
        "inline": with_query(url, **{"response-content-disposition": "inline"}),
        "as HTML": with_query(url, **{"response-content-type": "text/html"}),
        "another key": urlunsplit(parts._replace(path=f"/{live.settings.s3_bucket}/{other_key}")),
        "unsigned": urlunsplit(parts._replace(query="")),
    }
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(url)).status_code == 200
        for name, changed in edited.items():
            served = await browser.get(changed)
            assert served.status_code == 403, (name, served.status_code, served.text)
            assert PDF not in served.content, name
