"""Broken object-level authorization: every route with an object id in its path, API and pages,
called by applicant A with application B's ids, and with the two mixed (A's application with
B's document, B's application with A's document). Each is refused, and nothing changes.

tests/api/test_access.py sends another applicant's token to every API route with the owner's
ids; here the ids are mixed within one request, the pages are included, and staff too get a 404
for a document asked for under another application.
"""

import itertools
import re
import uuid
from typing import Any
from urllib.parse import unquote

import httpx
from fastapi.routing import iter_route_contexts

from api.pages.session import FLASH_COOKIE, SESSION_COOKIE, csrf_for
from sellerflow.services.email_confirmation import confirmation_url, token_in
from tests.api.test_access import RULES, asgi_app
from tests.attacks.world import APPLICANT_FORMS, Party, party, snapshot
from tests.conftest import Stack
from tests.journey import staff_token

OWNED = ("application_id", "document_id", "seller_id", "appeal_id", "evidence_id")
# Staff objects (no applicant reaches a task or evaluation route at all: test_access.py), and
# the agreement kinds, which are public. A new kind of id must be placed in one or the other.
# An offboarding request is staff's, under a seller (`decision` is confirm or cancel).
# Policy versions and their what-ifs are ops'.
NOT_OWNED = {
    "task_id",
    "evaluation_id",
    "kind",
    "request_id",
    "decision",
    "version",
    "simulation_id",
}
API_BODIES: dict[str, Any] = {
    "/v1/applications/{application_id}/withdraw": {"reason": "not mine"},
    "/v1/applications/{application_id}/documents": {
        "kind": "proof_of_address",
        "filename": "x.pdf",
        "content_type": "application/pdf",
        "size_bytes": 100,
    },
    "/v1/applications/{application_id}/agreements": {
        "kind": "terms",
        "version": "1",
        "sha256": "0" * 64,
        "signer_name": "Mallory",
        "signer_title": "CEO",
    },
    "/v1/sellers/{seller_id}/appeals": {"root_cause": "a", "actions": "b", "prevention": "c"},
    "/v1/sellers/{seller_id}/actions": {"action": "suspend", "reason": "not mine"},
    "/v1/sellers/{seller_id}/evidence": {
        "filename": "x.pdf",
        "content_type": "application/pdf",
        "size_bytes": 100,
    },
    "/v1/sellers/{seller_id}/renewals/{kind}/documents": {
        "filename": "x.pdf",
        "content_type": "application/pdf",
        "size_bytes": 100,
    },
}

# The e-mail confirmation's credential is the token mailed for one application, not the
# session: A's own token does not confirm B's application (401), and the link's page (GET)
# only shows the form that posts it.
CONFIRMATION = {
    "/v1/applications/{application_id}/email-confirmation",
    "/apply/{application_id}/confirm-email",
}


def id_routes(stack: Stack) -> list[tuple[str, str, bool]]:
    """(method, path template, is a page) of every route with an owned object in its path."""
    found = []
    for route in iter_route_contexts(asgi_app(stack).routes):
        path = route.path or ""
        unknown = set(re.findall(r"{(\w+)}", path)) - set(OWNED) - NOT_OWNED
        assert not unknown, f"{path}: is {unknown} an applicant's object? add it above"
        if any(f"{{{name}}}" in path for name in OWNED):
            page = getattr(route.endpoint, "__module__", "").startswith("api.pages")
            found += [
                (method, path, page) for method in sorted(route.methods or []) if method != "HEAD"
            ]
    return found


def mixes(template: str, mine: Party, theirs: Party) -> list[tuple[str, dict[str, str]]]:
    """Every way to put at least one of B's ids in the path, the rest A's."""
    present = [name for name in OWNED if f"{{{name}}}" in template]
    found = []
    for count in range(1, len(present) + 1):
        for taken in itertools.combinations(present, count):
            ids = {**mine.ids, **{name: theirs.ids[name] for name in taken}}
            found.append(("B's " + " and ".join(taken), ids))
    return found


async def as_applicant(
    stack: Stack, method: str, path: str, template: str, page: bool, me: Party, csrf: str
) -> httpx.Response:
    http = stack.http
    mine = confirmation_url(stack.settings, uuid.UUID(me.ids["application_id"]))
    token = token_in(mine, me.ids["application_id"]) if template in CONFIRMATION else None
    if not page:
        body = {"token": token} if token else API_BODIES.get(template)
        return await http.request(method, path, headers=me.auth, json=body)
    http.cookies.set(SESSION_COOKIE, me.token)
    try:
        if method == "GET":
            return await http.get(path, params={"token": token} if token else None)
        form = {**APPLICANT_FORMS.get(template, {}), **({"token": token} if token else {})}
        return await http.post(path, data={**form, "csrf_token": csrf})
    finally:
        http.cookies.clear()


def refused(response: httpx.Response, method: str, template: str, page: bool, me: Party) -> bool:
    """Whether an applicant was refused a route about someone else's objects."""
    if template in CONFIRMATION:
        return response.status_code == (200 if page and method == "GET" else 401)
    if not page:
        return response.status_code == (404 if RULES[(method, template)].scoped else 403)
    if template.startswith("/seller/"):  # a seller page: to the seller's sign-in, saying why
        flash = unquote(response.cookies.get(FLASH_COOKIE) or "")
        return response.headers.get("location") == "/seller" and flash.startswith("error:")
    if not template.startswith("/apply/"):  # a staff page: to the login form
        return response.status_code == 303 and response.headers["location"].startswith("/login")
    if response.status_code == 303:  # an action refused: back to A's own page, saying why
        flash = unquote(response.cookies.get(FLASH_COOKIE) or "")
        home = f"/apply/{me.ids['application_id']}"
        return response.headers["location"] == home and flash.startswith("error:")
    return response.status_code == 404


async def staff_mixes(stack: Stack, a: Party, b: Party) -> list[str]:
    """Staff may see every application, but not a document under another one's id."""
    ops = await staff_token(stack.http, "ops1")
    cookie = ops["Authorization"].removeprefix("Bearer ")
    wrong = []
    for owner, other in ((a, b), (b, a)):
        app_id, doc_id = owner.ids["application_id"], other.ids["document_id"]
        api = await stack.http.get(
            f"/v1/applications/{app_id}/documents/{doc_id}/download", headers=ops
        )
        stack.http.cookies.set(SESSION_COOKIE, cookie)
        page = await stack.http.get(f"/staff/applications/{app_id}/documents/{doc_id}")
        stack.http.cookies.clear()
        # The same document under its own application is served (a redirect to S3).
        own_app = other.ids["application_id"]
        own = await stack.http.get(
            f"/v1/applications/{own_app}/documents/{doc_id}/download", headers=ops
        )
        if (api.status_code, page.status_code, own.status_code) != (404, 404, 307):
            wrong.append(f"ops, {doc_id} under {app_id}: {api}, {page}, own: {own}")
    return wrong


async def test_no_route_serves_or_changes_another_applicants_objects(stack: Stack) -> None:
    a, b = await party(stack, "Applicant A Ltd"), await party(stack, "Applicant B Ltd")
    csrf = csrf_for(stack.settings.sellerflow_secret_key, a.token)
    routes = id_routes(stack)
    assert len(routes) >= 20, routes
    before = snapshot(stack.engine)
    wrong: list[str] = []
    for method, template, page in routes:
        for mix, ids in mixes(template, a, b):
            path = template.format(**ids)
            response = await as_applicant(stack, method, path, template, page, a, csrf)
            if not refused(response, method, template, page, a):
                wrong.append(f"{method} {template} with {mix}: {response.status_code}")
    wrong += await staff_mixes(stack, a, b)
    assert not wrong, "\n".join(wrong)
    assert snapshot(stack.engine) == before, "a refused call changed a record"
