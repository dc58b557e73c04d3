"""Cross-site request forgery: every form the pages accept (each POST route of `api.pages`) is
refused without the session's CSRF token: none, empty, made up, sent as JSON, or the valid
token of another session (what a forging site can get: its own). The refusals change nothing;
with the session's own token the same form gets past the check.

tests/pages/test_applicant_pages.py shows it for the start form; this covers every form.
"""

import re
import uuid

import httpx
from fastapi.routing import iter_route_contexts

from api.pages.session import SESSION_COOKIE, csrf_for, new_visitor
from tests.api.test_access import asgi_app, insert_task
from tests.attacks.world import APPLICANT_FORMS, party, snapshot
from tests.conftest import Stack
from tests.journey import APPLICATION, staff_token
from tests.support.builders import seller_bearer_token

REFUSAL = "did not come from this site"
FORMS: dict[str, dict[str, str]] = {
    "/login": {"username": "ops1", "password": "dev-password", "next": "/ops"},
    "/logout": {},
    "/apply": {
        **{name: str(value) for name, value in APPLICATION.items()},
        "product_categories": "smartphones",
    },
    **APPLICANT_FORMS,
    "/apply/{application_id}/submit": {},
    # Anyone with the mailed link may confirm (the token is the proof), but only from the page.
    "/apply/{application_id}/confirm-email": {"token": "not-a-token"},
    "/staff/tasks/{task_id}/claim": {},
    "/staff/tasks/{task_id}/release": {},
    "/staff/tasks/{task_id}/complete": {"decision": "approve"},
    "/staff/sellers/{seller_id}/actions": {"action": "suspend", "reason": "forged"},
    "/staff/sellers/{seller_id}/offboarding-requests/{request_id}/{decision}": {},
    "/seller/login": {"email": "seller@example.com", "password": "forged password"},
    "/seller/activate": {"token": "not-a-token", "password": "x" * 12, "confirm": "x" * 12},
    "/seller/activation": {"email": "seller@example.com"},
    "/seller/appeals": {"root_cause": "a", "actions": "b", "prevention": "c"},
    "/seller/evidence": {"name": "recall letter", "content_type": "application/pdf"},
    "/seller/renewals/{kind}": {"content_type": "application/pdf", "issued_on": "2026-12-01"},
    "/ops/policies/{version}/approve": {},
    "/ops/policies/{version}/rollout": {"effective_at": "2027-01-31T12:00"},
    "/ops/policies/{version}/propose": {"rules": "{}"},
    "/ops/policies/{version}/simulations": {"as_of": ""},
}


PRE_SESSION = ("/login", "/apply", "/seller/login", "/seller/activate", "/seller/activation")
# The page that shows each of those forms.
FORM_PAGES = {
    "/login": "/login",
    "/apply": "/apply",
    "/seller/login": "/seller",
    "/seller/activate": "/seller/activate?token=x",
    "/seller/activation": "/seller/activation",
}


def form_routes(stack: Stack) -> list[str]:
    found = []
    for route in iter_route_contexts(asgi_app(stack).routes):
        module = getattr(route.endpoint, "__module__", "")
        if module.startswith("api.pages") and "POST" in (route.methods or set()):
            found.append(route.path or "")
    return found


async def post(
    http: httpx.AsyncClient,
    path: str,
    cookie: str | None,
    form: dict[str, str],
    json: object = None,
) -> httpx.Response:
    http.cookies.clear()
    if cookie is not None:
        http.cookies.set(SESSION_COOKIE, cookie)
    try:
        if json is not None:
            return await http.post(path, json=json)
        return await http.post(path, data=form)
    finally:
        http.cookies.clear()


async def test_every_form_refuses_a_missing_wrong_or_borrowed_csrf_token(stack: Stack) -> None:
    secret = stack.settings.sellerflow_secret_key
    victim = await party(stack, "Victim Ltd")
    staff = (await staff_token(stack.http, "onboarding1"))["Authorization"].removeprefix("Bearer ")
    params = {
        "kind": "company_registration_extract",
        **victim.ids,
        "task_id": insert_task(stack, victim.ids["application_id"]),
        "request_id": str(uuid.uuid4()),
        "decision": "confirm",
        "version": stack.policy.version,
    }
    seller = seller_bearer_token(
        secret, uuid.UUID(victim.ids["seller_id"]), uuid.UUID(victim.ids["account_id"])
    )
    visitor = new_visitor(stack.settings).token
    attacker = new_visitor(stack.settings)

    def cookie_for(template: str) -> str:
        """The session cookie the victim's browser sends with this form."""
        if template in PRE_SESSION:
            return visitor
        if template.startswith("/seller/"):
            return seller
        return victim.token if template.startswith("/apply/") else staff

    routes = form_routes(stack)
    assert set(routes) == set(FORMS), "a form without a case here: add it to FORMS"
    before = snapshot(stack.engine)
    accepted: list[str] = []
    for template in routes:
        path, cookie, form = template.format(**params), cookie_for(template), FORMS[template]
        attempts = {
            "no token": await post(stack.http, path, cookie, form),
            "empty token": await post(stack.http, path, cookie, {**form, "csrf_token": ""}),
            "made-up token": await post(
                stack.http, path, cookie, {**form, "csrf_token": uuid.uuid4().hex * 2}
            ),
            "another session's token": await post(
                stack.http, path, cookie, {**form, "csrf_token": attacker.csrf}
            ),
            "token as JSON": await post(
                stack.http,
                path,
                cookie,
                form,
                json={**form, "csrf_token": csrf_for(secret, cookie)},
            ),
        }
        for name, response in attempts.items():
            if response.status_code != 403 or REFUSAL not in response.text:
                accepted.append(f"POST {template} with {name}: {response.status_code}")
    # A forging site without the victim's cookie: a token from a page it fetched itself just
    # now, and no cookie (so the victim's request starts a session of its own).
    for template, form_page in FORM_PAGES.items():
        page = await stack.http.get(form_page)
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
        assert token is not None, template
        response = await post(
            stack.http, template, None, {**FORMS[template], "csrf_token": token[1]}
        )
        if response.status_code != 403 or REFUSAL not in response.text:
            accepted.append(f"POST {template} without a cookie: {response.status_code}")
    assert not accepted, "\n".join(accepted)
    assert snapshot(stack.engine) == before, "a refused form changed a record"

    # With the session's own token, each form gets past the check (its outcome is its own).
    for template in routes:
        cookie = cookie_for(template)
        form = {**FORMS[template], "csrf_token": csrf_for(secret, cookie)}
        response = await post(stack.http, template.format(**params), cookie, form)
        assert response.status_code < 500, (template, response.status_code)
        assert REFUSAL not in response.text, template
