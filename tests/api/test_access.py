"""Who may call what: every API route of the app against every kind of caller.

The table below is the "who" column of docs/http.md. A route the table does not know fails the
coverage test, so a new route cannot ship without deciding who may call it.
"""

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlmodel import Session

from sellerflow.models import (
    Appeal,
    AppealEvidence,
    DocumentRenewal,
    EvaluationRun,
    OffboardingRequest,
    PolicyRollout,
    PolicySimulation,
    Task,
)
from sellerflow.security import issue_token
from sellerflow.services import policies
from sellerflow.services.auth import REFRESH_KIND
from sellerflow.services.integrations import create_key
from sellerflow.services.seller_accounts import new_link, remember_link, token_in
from sellerflow.vocabulary import RolloutState
from tests.conftest import Stack
from tests.journey import (
    APPLICATION,
    DEV_PASSWORD,
    bearer,
    confirmation_token,
    create_application,
    upload,
)
from tests.support.builders import add_seller_with_account, seller_bearer_token

# An integration's API key counts as no token anywhere but on the routes it is for.
ANONYMOUS = ("nobody", "expired", "forged", "forged_owner", "integration")
STAFF = ("onboarding", "ssm", "lab", "ops")
# "seller" holds the account of the table's seller, "other_seller" that of another seller: a
# seller token reaches its own seller only (every application answers it 404).
SELLERS = ("seller", "other_seller")
EVERYONE = frozenset({*ANONYMOUS, "owner", "other_applicant", *SELLERS, *STAFF})
OWNER = frozenset({"owner"})
SELLER_SIDE = frozenset({"owner", "seller"})
SELLER_SIDE_OR_STAFF = frozenset({*SELLER_SIDE, *STAFF})
ALL_STAFF = frozenset(STAFF)
OPS = frozenset({"ops"})
# The application of the table is a draft with an onboarding review open: in the onboarding
# team's queue, in nobody else's (services.access); the lab never reads applications.
QUEUE = frozenset({"onboarding", "ops"})
OWNER_OR_QUEUE = frozenset({"owner", *QUEUE})


@dataclass(frozen=True)
class Rule:
    """Who may call a route; `scoped` routes hide another applicant's resource with 404."""

    allowed: frozenset[str]
    scoped: bool = False
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    # Its allowed calls revoke the caller's tokens (a sign-out): only its refusals are tried
    # here, the rest of the table needs the tokens (tests/attacks/test_token_revocation.py).
    revokes: bool = False

    def expected_denial(self, caller: str) -> int:
        if caller in ANONYMOUS:
            return 401
        if caller in ("other_applicant", *SELLERS) and self.scoped:
            return 404
        return 403


APPS = "/v1/applications"
APP = APPS + "/{application_id}"
DOC = APP + "/documents/{document_id}"
TASK = "/v1/tasks/{task_id}"
SELLER = "/v1/sellers/{seller_id}"
DECLARE = {
    "kind": "proof_of_address",
    "filename": "address.pdf",
    "content_type": "application/pdf",
    "size_bytes": 100,
    "issued_on": datetime.now(UTC).date().isoformat(),
}

CONFIRMATION = {"token": "the application's confirmation token"}
ACTIVATION = {"token": "a seller account's activation token", "password": DEV_PASSWORD * 2}
# A staff refresh token is the body's credential, whoever sends it (the world's is put in).
REFRESH = {"refresh_token": "a staff member's refresh token"}

RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): Rule(EVERYONE),
    ("GET", "/readyz"): Rule(EVERYONE),
    ("GET", "/metrics"): Rule(EVERYONE),
    ("GET", "/openapi.json"): Rule(EVERYONE),
    ("GET", "/docs"): Rule(EVERYONE),
    ("GET", "/docs/oauth2-redirect"): Rule(EVERYONE),
    ("GET", "/redoc"): Rule(EVERYONE),
    ("POST", "/v1/auth/token"): Rule(EVERYONE, form={"username": "lab1", "password": DEV_PASSWORD}),
    ("POST", "/v1/auth/logout"): Rule(frozenset({*ALL_STAFF, *SELLERS}), revokes=True),
    ("POST", "/v1/auth/refresh"): Rule(EVERYONE, json=REFRESH),
    # The mailed link is the credential, whoever sends it; the first call uses it, the others
    # get 410 (the world's link is put in).
    ("POST", "/v1/auth/activate"): Rule(EVERYONE, json=ACTIVATION),
    ("POST", "/v1/auth/activation"): Rule(EVERYONE, json={"email": "nobody@example.com"}),
    ("GET", "/v1/agreements/{kind}"): Rule(EVERYONE),
    ("POST", APPS): Rule(EVERYONE, json=APPLICATION),
    ("GET", APPS): Rule(frozenset({"onboarding", "ssm", "ops"})),
    ("GET", APP): Rule(OWNER_OR_QUEUE, scoped=True),
    ("POST", APP + "/submit"): Rule(OWNER, scoped=True),
    # The mailed token is the credential, whoever sends it (the world's token is put in).
    ("POST", APP + "/email-confirmation"): Rule(EVERYONE, json=CONFIRMATION),
    ("POST", APP + "/withdraw"): Rule(OWNER, scoped=True, json={"reason": "test"}),
    ("GET", APP + "/history"): Rule(QUEUE),
    ("GET", APP + "/documents"): Rule(OWNER_OR_QUEUE, scoped=True),
    ("POST", APP + "/documents"): Rule(OWNER, scoped=True, json=DECLARE),
    ("POST", DOC + "/complete"): Rule(OWNER, scoped=True),
    ("GET", DOC + "/download"): Rule(OWNER_OR_QUEUE, scoped=True),
    ("POST", APP + "/agreements"): Rule(
        OWNER,
        scoped=True,
        json={
            "kind": "terms",
            "version": "0",
            "sha256": "0" * 64,
            "signer_name": "Ada",
            "signer_title": "CEO",
        },
    ),
    ("GET", "/v1/tasks"): Rule(ALL_STAFF),
    # The task is an onboarding review: only the onboarding team works on it; ops may
    # release and reassign it but not decide it.
    ("GET", TASK): Rule(frozenset({"onboarding", "ops"})),
    ("POST", TASK + "/claim"): Rule(frozenset({"onboarding"})),
    ("POST", TASK + "/release"): Rule(frozenset({"onboarding", "ops"})),
    ("POST", TASK + "/assign"): Rule(OPS, json={"assignee": "onboarding2"}),
    ("POST", TASK + "/complete"): Rule(frozenset({"onboarding"}), json={"decision": "approve"}),
    ("GET", "/v1/sellers"): Rule(ALL_STAFF),
    ("GET", SELLER): Rule(SELLER_SIDE_OR_STAFF, scoped=True),
    ("GET", SELLER + "/history"): Rule(QUEUE),  # as its application's history
    ("POST", SELLER + "/appeals"): Rule(
        SELLER_SIDE, scoped=True, json={"root_cause": "a", "actions": "b", "prevention": "c"}
    ),
    ("GET", SELLER + "/appeals/{appeal_id}"): Rule(SELLER_SIDE_OR_STAFF, scoped=True),
    ("POST", SELLER + "/appeals/{appeal_id}/withdraw"): Rule(SELLER_SIDE, scoped=True),
    ("POST", SELLER + "/actions"): Rule(OPS, json={"action": "warn", "reason": "test"}),
    # The world's request was cancelled: allowed calls are answered 409.
    ("POST", SELLER + "/offboarding-requests/{request_id}/confirm"): Rule(OPS),
    ("POST", SELLER + "/offboarding-requests/{request_id}/cancel"): Rule(OPS),
    # The world's seller has not left: allowed calls are answered 409.
    ("POST", SELLER + "/erasure"): Rule(OPS),
    ("POST", SELLER + "/evidence"): Rule(
        SELLER_SIDE,
        scoped=True,
        json={"filename": "plan.pdf", "content_type": "application/pdf", "size_bytes": 100},
    ),
    # The world's evidence was never uploaded: allowed calls are answered 409.
    ("POST", SELLER + "/evidence/{evidence_id}/complete"): Rule(SELLER_SIDE, scoped=True),
    ("GET", SELLER + "/evidence/{evidence_id}/download"): Rule(
        frozenset({*SELLER_SIDE, "ssm", "ops"}), scoped=True
    ),
    ("GET", SELLER + "/renewals"): Rule(SELLER_SIDE_OR_STAFF, scoped=True),
    # The world's seller was asked to renew its extract, not `terms`: allowed calls get 409.
    ("POST", SELLER + "/renewals/{kind}/documents"): Rule(
        SELLER_SIDE,
        scoped=True,
        json={"filename": "x.pdf", "content_type": "application/pdf", "size_bytes": 100},
    ),
    # The world has no seller workflow: allowed calls are answered 409 (the file is refused).
    ("POST", SELLER + "/renewals/documents/{document_id}/complete"): Rule(SELLER_SIDE, scoped=True),
    ("POST", "/v1/order-events"): Rule(frozenset({"ops", "integration"}), json=[]),
    ("GET", "/v1/ops/stats"): Rule(OPS),
    ("GET", "/v1/ops/notifications"): Rule(OPS),
    ("GET", "/v1/ops/exports/applications/{application_id}"): Rule(OPS),
    ("POST", "/v1/ops/evaluations"): Rule(OPS),
    ("GET", "/v1/ops/evaluations/{evaluation_id}"): Rule(OPS),
    ("GET", "/v1/policies"): Rule(OPS),
    ("POST", "/v1/policies"): Rule(OPS, json={"rules": {}}),
    ("GET", "/v1/policies/{version}"): Rule(OPS),
    ("GET", "/v1/policies/{version}/diff"): Rule(OPS),
    # The built-in version is approved already: ops get 409, everyone else is refused.
    ("POST", "/v1/policies/{version}/approve"): Rule(OPS),
    ("POST", "/v1/policies/{version}/simulations"): Rule(OPS, json={}),
    # The built-in version is active already: ops get 409, everyone else is refused.
    ("POST", "/v1/policies/{version}/rollout"): Rule(
        OPS, json={"effective_at": (datetime.now(UTC) + timedelta(days=20)).isoformat()}
    ),
    ("GET", "/v1/policies/{version}/rollout"): Rule(OPS),
    ("GET", "/v1/policy-simulations/{simulation_id}"): Rule(OPS),
}


def endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every bearer-token route, through included routers.

    The HTML pages (`api.pages`) sign in with a session cookie and CSRF token instead; their
    own tests cover who may open them.
    """
    found = []
    for route in iter_route_contexts(app.routes):
        if getattr(route.endpoint, "__module__", "").startswith("api.pages"):
            continue
        for method in sorted(route.methods or []):
            if method != "HEAD":
                found.append((method, route.path or ""))
    return found


def test_every_route_has_a_rule(stack: Stack) -> None:
    found = endpoints(asgi_app(stack))
    missing = [e for e in found if e not in RULES]
    assert not missing, f"routes without an access rule in test_access.py: {missing}"
    assert len(found) == len(RULES), "rules for routes that no longer exist"


def asgi_app(stack: Stack) -> FastAPI:
    transport = stack.http._transport
    assert isinstance(transport, httpx.ASGITransport)
    assert isinstance(transport.app, FastAPI)
    return transport.app


@dataclass
class World:
    params: dict[str, str]
    callers: dict[str, dict[str, str]]


def staff_tokens(secret: str) -> dict[str, dict[str, str]]:
    tokens = {}
    for role in STAFF:
        user = f"{role}1"
        tokens[role] = bearer(issue_token(secret, user, kind="staff", minutes=5, roles=[role]))
    return tokens


def seller_token(stack: Stack, app_id: str) -> dict[str, str]:
    """The bearer header of the account of a new seller of the application."""
    with Session(stack.engine) as session:
        seller_id, account_id = add_seller_with_account(session, app_id, "other@example.com")
        session.commit()
    return bearer(seller_bearer_token(stack.settings.sellerflow_secret_key, seller_id, account_id))


def activation_token(stack: Stack, app_id: str) -> str:
    """The token of the activation link of a new seller's account."""
    with Session(stack.engine) as session:
        _, account_id = add_seller_with_account(session, app_id, "third@example.com")
        link = new_link(stack.settings, account_id)
        remember_link(session.connection(), link)
        session.commit()
    token = token_in(link.url)
    assert token is not None
    return token


def insert_records(stack: Stack, app_id: str) -> dict[str, str]:
    """A seller, an onboarding task and an evaluation run, without waiting for workflows."""
    evaluation_id = f"evaluation-{uuid.uuid4()}"
    with Session(stack.engine) as session:
        seller_id, account_id = add_seller_with_account(session, app_id, "seller@example.com")
        session.add(EvaluationRun(id=evaluation_id))
        appeal = Appeal(seller_id=seller_id, root_cause="a", actions="b", prevention="c")
        session.add(appeal)
        evidence = AppealEvidence(
            seller_id=seller_id,
            filename="plan.pdf",
            content_type="application/pdf",
            declared_size=100,
            object_key=f"applications/{app_id}/appeals/never-uploaded",
        )
        asked = OffboardingRequest(
            seller_id=seller_id, requested_by="ops2", reason="test", outcome="cancelled"
        )
        renewal = DocumentRenewal(
            seller_id=seller_id,
            kind="company_registration_extract",
            round=0,
            status="requested",
            valid_until=datetime.now(UTC) + timedelta(days=20),
            # Asked for before the world's document was uploaded: that file is its new one.
            created_at=datetime.now(UTC) - timedelta(days=1),
        )
        session.add_all([evidence, asked, renewal])
        session.commit()
        policies.seed_built_in(session, stack.policy)
        what_if = PolicySimulation(
            version=stack.policy.version,
            baseline=stack.policy.version,
            as_of=datetime.now(UTC),
            requested_by="ops1",
        )
        session.add(what_if)
        # The rollout that put the version in force (its own, as seeding did).
        now = datetime.now(UTC)
        session.add(
            PolicyRollout(
                version=stack.policy.version,
                replaces=stack.policy.version,
                effective_at=now,
                requested_by="ops1",
                state=RolloutState.completed,
                finished_at=now,
            )
        )
        session.commit()
        appeal_id = str(appeal.id)
        extra = {
            "evidence_id": str(evidence.id),
            "request_id": str(asked.id),
            "simulation_id": str(what_if.id),
        }
    task_id = insert_task(stack, app_id)
    return {
        "seller_id": str(seller_id),
        "account_id": str(account_id),
        "task_id": task_id,
        "evaluation_id": evaluation_id,
        "appeal_id": appeal_id,
        **extra,
    }


def insert_task(stack: Stack, app_id: str) -> str:
    """An open onboarding review of the application, as the workflow's `open_task` writes it."""
    task_id = uuid.uuid4()
    with Session(stack.engine) as session:
        session.add(
            Task(
                id=task_id,
                kind="onboarding_review",
                workflow_id=f"onboarding-{app_id}",
                application_id=uuid.UUID(app_id),
                role="onboarding",
                due_at=datetime.now(UTC) + timedelta(days=2),
            )
        )
        session.commit()
    return str(task_id)


async def build_world(stack: Stack) -> World:
    secret = stack.settings.sellerflow_secret_key
    app_id, owner = await create_application(stack.http)
    other_id, other = await create_application(stack.http, legal_name="Other Ltd")
    third_id, _ = await create_application(stack.http, legal_name="Third Ltd")
    uploaded = await upload(stack.http, app_id, owner, "company_registration_extract")
    assert uploaded.status_code == 200, uploaded.text
    params = {
        "application_id": app_id,
        "document_id": uploaded.json()["document_id"],
        "kind": "terms",
        "version": stack.policy.version,
        "confirmation_token": await confirmation_token(stack.http, app_id),
        **insert_records(stack, app_id),
    }
    own_seller = bearer(
        seller_bearer_token(secret, uuid.UUID(params["seller_id"]), uuid.UUID(params["account_id"]))
    )
    activation = activation_token(stack, third_id)
    with Session(stack.engine) as session:
        integration = {"X-Api-Key": create_key(session, "order-feed")}
    wrong = "another-secret-key-that-is-long-enough-0123456789"
    callers = {
        "nobody": {},
        "expired": bearer(issue_token(secret, "ops1", kind="staff", minutes=-5, roles=["ops"])),
        "forged": bearer(issue_token(wrong, "ops1", kind="staff", minutes=5, roles=["ops"])),
        "forged_owner": bearer(issue_token(wrong, app_id, kind="applicant", minutes=5)),
        "owner": owner,
        "other_applicant": other,
        "integration": integration,
        "seller": own_seller,
        "other_seller": seller_token(stack, other_id),
        **staff_tokens(secret),
    }
    return World(params={**params, "activation_token": activation}, callers=callers)


async def call(
    http: httpx.AsyncClient, method: str, path: str, rule: Rule, headers: dict[str, str]
) -> httpx.Response:
    if rule.form:
        return await http.request(method, path, headers=headers, data=rule.form)
    return await http.request(method, path, headers=headers, json=rule.json)


async def test_every_route_answers_each_caller_as_the_table_says(stack: Stack) -> None:
    world = await build_world(stack)
    wrong: list[str] = []
    for method, template in endpoints(asgi_app(stack)):
        rule = RULES[(method, template)]
        if rule.json is CONFIRMATION:
            rule = replace(rule, json={"token": world.params["confirmation_token"]})
        if rule.json is ACTIVATION:
            rule = replace(rule, json={**ACTIVATION, "token": world.params["activation_token"]})
        if rule.json is REFRESH:
            secret = stack.settings.sellerflow_secret_key
            refresh = issue_token(secret, "lab1", kind=REFRESH_KIND, minutes=5, ver=0)
            rule = replace(rule, json={"refresh_token": refresh})
        path = template.format(**world.params)
        # Refusals first: the allowed calls may change state (a claim, a withdrawal).
        callers = sorted(world.callers, key=lambda c: c in rule.allowed)
        for caller in callers:
            if rule.revokes and caller in rule.allowed:
                continue
            response = await call(stack.http, method, path, rule, world.callers[caller])
            if caller in rule.allowed:
                ok = response.status_code < 500 and response.status_code not in (401, 403, 404)
            else:
                ok = response.status_code == rule.expected_denial(caller)
            if not ok:
                wrong.append(f"{method} {template} as {caller}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
