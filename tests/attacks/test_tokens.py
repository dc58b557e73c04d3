"""Bearer tokens that must open nothing: unsigned (`alg: none`), signed with another algorithm,
tampered with after signing, truncated, of a disabled user, or of another kind (the pages'
anonymous visitor token), on every route that needs a token and as the pages' session cookie.
And a role claimed in a token is not a role held: the database says.

tests/api/test_access.py already sends an expired token and tokens signed with a wrong key to
every route; this file sends these others to every route that needs a token, and to the pages.
"""

import base64
import json
from typing import Any

import jwt
from sqlmodel import Session, select

from sellerflow.models import StaffUser
from sellerflow.security import issue_token
from sellerflow.users import ensure_user
from tests.api.test_access import EVERYONE, RULES, asgi_app, build_world, call, endpoints
from tests.conftest import Stack
from tests.journey import bearer


def encode(part: dict[str, Any]) -> str:
    raw = json.dumps(part, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(secret: str, token: str) -> dict[str, Any]:
    found: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"])
    return found


def bad_tokens(secret: str, owner_app: str, other_app: str) -> dict[str, str]:
    """Each a way to claim ops1's powers, or another application, without the key's consent."""
    ops = issue_token(secret, "ops1", kind="staff", minutes=5, roles=["ops"])
    onboarding = issue_token(secret, "onboarding1", kind="staff", minutes=5, roles=["onboarding"])
    other = issue_token(secret, other_app, kind="applicant", minutes=5)
    ops_claims = claims(secret, ops)
    header, _, signature = onboarding.split(".")
    other_header, _, other_signature = other.split(".")
    owner_claims = {**claims(secret, other), "sub": owner_app}
    return {
        "alg none": f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(ops_claims)}.",
        "alg None": f"{encode({'alg': 'None'})}.{encode(ops_claims)}.",
        "alg HS384": jwt.encode(ops_claims, secret, algorithm="HS384"),
        "staff payload swapped": f"{header}.{encode(ops_claims)}.{signature}",
        "applicant payload swapped": f"{other_header}.{encode(owner_claims)}.{other_signature}",
        "signature cut": ops.rsplit(".", 1)[0] + ".",
        "signature shortened": ops[:-4],
        "two parts": ops.rsplit(".", 1)[0],
        "not a token": "ops1",
        "visitor kind": issue_token(secret, "visitor", kind="visitor", minutes=5),
        "kind missing": jwt.encode({"sub": "ops1", "exp": ops_claims["exp"]}, secret, "HS256"),
        "applicant kind, staff name": issue_token(secret, "ops1", kind="applicant", minutes=5),
        "staff kind, application id": issue_token(secret, owner_app, kind="staff", minutes=5),
        "disabled user": issue_token(secret, "disabled1", kind="staff", minutes=5, roles=["ops"]),
    }


def add_tricky_users(stack: Stack) -> None:
    """A disabled ops user, and staff users named like the pages' visitor and an applicant id."""
    ensure_user(stack.engine, "disabled1", ["ops"], "disabled-password")
    ensure_user(stack.engine, "visitor", ["ops"], "visitor-password")
    with Session(stack.engine) as session:
        user = session.exec(select(StaffUser).where(StaffUser.username == "disabled1")).one()
        user.disabled = True
        session.add(user)
        session.commit()


PAGES = {"/staff": 303, "/ops": 303, "/ops/outbox": 303, "/apply/{application_id}": 404}


async def test_no_forged_misused_or_overclaiming_token_opens_anything(stack: Stack) -> None:
    add_tricky_users(stack)
    world = await build_world(stack)
    secret = stack.settings.sellerflow_secret_key
    other_app = claims(secret, world.callers["other_applicant"]["Authorization"][7:])["sub"]
    tokens = bad_tokens(secret, world.params["application_id"], other_app)
    # Says ops, for a user who holds onboarding only (say, whose role was taken away since).
    overclaiming = issue_token(secret, "onboarding1", kind="staff", minutes=5, roles=["ops"])
    opened: list[str] = []
    for method, template in endpoints(asgi_app(stack)):
        rule = RULES[(method, template)]
        path = template.format(**world.params)
        if "onboarding" not in rule.allowed:
            response = await call(stack.http, method, path, rule, bearer(overclaiming))
            if response.status_code != 403:
                opened.append(f"{method} {template} with ops claimed: {response.status_code}")
        if rule.allowed == EVERYONE:
            continue
        for name, token in tokens.items():
            response = await call(stack.http, method, path, rule, bearer(token))
            if response.status_code != 401 or response.json()["error"] != "Unauthorized":
                opened.append(f"{method} {template} with {name}: {response.status_code}")
    # As the pages' session cookie, each is an anonymous visitor.
    for page, answer in PAGES.items():
        for name, token in tokens.items():
            stack.http.cookies.set("sellerflow_session", token)
            response = await stack.http.get(page.format(**world.params))
            stack.http.cookies.clear()
            if response.status_code != answer or (
                answer == 303 and not response.headers["location"].startswith("/login?next=")
            ):
                opened.append(f"page {page} with {name}: {response.status_code}")
    assert not opened, "\n".join(opened)
