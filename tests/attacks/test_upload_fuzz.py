"""The same checks fuzzed through the live API and the real S3: a declaration with any filename,
content type, kind and size is accepted (201) or refused (422), never a 5xx; stored bytes are
accepted only with the declared type's signature; and a download with any accepted filename is
an attachment of a neutral type."""

import asyncio
import json
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sellerflow.policy.model import Policy
from sellerflow.services.documents import safe_filename
from sellerflow.storage import MAGIC, magic_matches
from tests.attacks.test_file_checks import ANY_TEXT, MARKUP
from tests.journey import PDF, create_application
from tests.serve import Site

KIND = "bank_account_proof"  # undated: no issue or expiry date to declare
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def declare(http: httpx.Client, path: str, auth: dict[str, str], body: object) -> httpx.Response:
    # Encoded here, ASCII-only, so that lone surrogates travel as JSON escapes do.
    headers = {**auth, "content-type": "application/json"}
    response = http.post(f"{path}/documents", headers=headers, content=json.dumps(body))
    assert response.status_code in (201, 422), response.text
    assert response.headers["content-type"] == "application/json"
    return response


def fuzz_declarations(http: httpx.Client, path: str, auth: dict[str, str], policy: Policy) -> None:
    types = policy.documents.content_types
    tricky_types = ["text/html", "image/svg+xml", "application/pdf; x=1", "IMAGE/PNG", "*/*"]

    @FUZZ
    @given(
        filename=ANY_TEXT,
        content_type=st.sampled_from(types)
        | st.sampled_from(types).map(" {} ".format)
        | st.sampled_from(tricky_types)
        | st.text(max_size=120),
        # Mostly a valid kind and size, so that the filename and the type decide.
        kind=st.sampled_from([KIND, KIND, KIND, "waste_permit", "", "../" + KIND]),
        size=st.integers(min_value=-1, max_value=policy.documents.max_bytes + 1),
    )
    @example(filename="x.pdf", content_type="application/pdf", kind=KIND, size=1 << 70)
    @example(filename="x.pdf", content_type="application/pdf", kind=KIND, size=0)
    @example(filename=" \x00 ", content_type=" application/pdf ", kind=KIND, size=10)
    @example(filename="a\ud800.pdf", content_type="image/\udfff", kind=KIND, size=10)
    def declared(filename: str, content_type: str, kind: str, size: int) -> None:
        body = {"kind": kind, "filename": filename, "content_type": content_type}
        response = declare(http, path, auth, {**body, "size_bytes": size})
        if response.status_code == 422:
            assert set(response.json()) == {"error", "detail"}
            return
        assert content_type.strip() in types
        assert 0 < size <= policy.documents.max_bytes
        upload = response.json()["upload"]
        assert upload["fields"]["Content-Type"] == content_type.strip()
        assert upload["fields"]["key"].endswith(f"/documents/{response.json()['document_id']}")
        listed = http.get(f"{path}/documents", headers=auth).json()["data"]
        mine = next(d for d in listed if d["document_id"] == response.json()["document_id"])
        assert mine["filename"] == safe_filename(filename.strip())

    declared()


def fuzz_stored_bytes(http: httpx.Client, path: str, auth: dict[str, str], policy: Policy) -> None:
    signatures = [magic for magics in MAGIC.values() for magic in magics]

    @FUZZ
    @given(
        content_type=st.sampled_from(policy.documents.content_types),
        start=st.sampled_from([b"", *signatures, *MARKUP]),
        rest=st.binary(min_size=1, max_size=64),
    )
    def stored(content_type: str, start: bytes, rest: bytes) -> None:
        data = start + rest
        body = {"kind": KIND, "filename": "f", "content_type": content_type}
        declared = declare(http, path, auth, {**body, "size_bytes": len(data)})
        form = declared.json()["upload"]
        file = {"file": ("f", data, content_type)}
        assert http.post(form["url"], data=form["fields"], files=file).status_code == 204
        done = http.post(
            f"{path}/documents/{declared.json()['document_id']}/complete", headers=auth
        )
        if magic_matches(content_type, data):
            assert done.status_code == 200, done.text
        else:
            assert done.status_code == 422, done.text
            assert done.json()["detail"].startswith("document_corrupt")

    stored()


def fuzz_download_names(http: httpx.Client, path: str, auth: dict[str, str]) -> None:
    @settings(FUZZ, max_examples=15)
    @given(filename=ANY_TEXT.filter(lambda name: name.strip()))
    @example(filename='a"; filename="b.html\r\nContent-Type: text/html')
    @example(filename="Prüfbericht ✓ 数据.svg")
    def downloaded(filename: str) -> None:
        body = {"kind": KIND, "filename": filename, "content_type": "application/pdf"}
        declared = declare(http, path, auth, {**body, "size_bytes": len(PDF)})
        form, doc = declared.json()["upload"], declared.json()["document_id"]
        http.post(form["url"], data=form["fields"], files={"file": ("f", PDF, "application/pdf")})
        assert http.post(f"{path}/documents/{doc}/complete", headers=auth).status_code == 200
        redirect = http.get(f"{path}/documents/{doc}/download", headers=auth)
        assert redirect.status_code == 307, redirect.text
        served = httpx.get(redirect.headers["location"])
        assert served.status_code == 200, served.text
        assert served.content == PDF
        assert served.headers["content-type"] == "application/octet-stream"
        disposition = served.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="')
        encoded = disposition.partition("filename*=UTF-8''")[2]
        assert unquote(encoded) == safe_filename(filename.strip())

    downloaded()


@pytest.mark.e2e
async def test_fuzzed_uploads_are_accepted_or_refused_never_a_server_error(live: Site) -> None:
    app_id, auth = await create_application(live.http, settings=live.settings)
    path = f"/v1/applications/{app_id}"

    def fuzz() -> None:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            fuzz_declarations(http, path, auth, live.policy)
            fuzz_stored_bytes(http, path, auth, live.policy)
            fuzz_download_names(http, path, auth)

    # Synchronous calls, off the event loop where the worker runs.
    await asyncio.to_thread(fuzz)
