"""Steps of the applicant's and the staff's journeys over HTTP, shared by the tests."""

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from sellerflow.config import Settings
from sellerflow.outbox import NOTIFICATIONS
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import required_agreements, required_documents
from sellerflow.services import seller_accounts
from sellerflow.services.email_confirmation import confirmation_url, token_in
from sellerflow.vocabulary import SellerCategory
from tests.support.waiting import eventually

PDF = b"%PDF-1.7\n% sellerflow test document\n" + b"0" * 2048 + b"\n%%EOF\n"
DEV_PASSWORD = "dev-password"
SIGNER = "Ada Example"

APPLICATION = {
    "legal_name": "Refurb Works GmbH",
    "seller_category": "refurbishing_factory",
    "country": "DE",
    "registration_number": "HRB 123456",
    "vat_number": "DE136695976",
    "contact_name": "Ada Example",
    "contact_email": "ada@refurb.example",
    "product_categories": ["smartphones", "laptops"],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_application(
    http: httpx.AsyncClient,
    *,
    confirm_email: bool = True,
    settings: Settings | None = None,
    **changes: Any,
) -> tuple[str, dict[str, str]]:
    """A new application (APPLICATION with `changes`), its e-mail address confirmed with the link
    of its first mail, read from the outbox (which needs a worker); without one, pass the API's
    `settings` (the link is made from them) or `confirm_email=False`."""
    response = await http.post("/v1/applications", json={**APPLICATION, **changes})
    assert response.status_code == 201, response.text
    body = response.json()
    if confirm_email:
        await confirm_contact_email(http, body["id"], settings)
    return body["id"], bearer(body["applicant_token"])


async def mailed_link(
    http: httpx.AsyncClient, app_id: str, template: str, token_of: Callable[[str], str | None]
) -> tuple[str, dict[str, Any]]:
    """The token of the link `token_of` finds in the application's mail of `template`, and the
    message, read from the outbox as ops read it, once the workflow stored the mail."""
    ops = await staff_token(http, "ops1")

    async def mailed() -> tuple[str, dict[str, Any]] | None:
        listed = await http.get(
            "/v1/ops/notifications",
            headers=ops,
            params={"application_id": app_id, "template": template},
        )
        assert listed.status_code == 200, listed.text
        for message in listed.json()["data"]:
            token = token_of(message["body_text"])
            if token:
                return token, message
        return None

    return await eventually(mailed, why=f"no {template} mail with a link for {app_id}")


async def confirmation_token(http: httpx.AsyncClient, app_id: str) -> str:
    """The token of the confirmation link in the application's first mail."""
    token, _ = await mailed_link(
        http, app_id, "application_received", lambda text: token_in(text, app_id)
    )
    return token


async def outbox_token(engine: sa.Engine, app_id: str) -> str:
    """The same token, read from the outbox table itself (no staff sign-in)."""

    def stored_token() -> str | None:
        with engine.connect() as conn:
            texts = conn.execute(
                sa.select(NOTIFICATIONS.c.body_text).where(
                    NOTIFICATIONS.c.application_id == uuid.UUID(app_id),
                    NOTIFICATIONS.c.template == "application_received",
                )
            ).scalars()
            return next((t for t in (token_in(text, app_id) for text in texts) if t), None)

    return await eventually(stored_token, why=f"no confirmation mail for {app_id}")


async def confirm_contact_email(
    http: httpx.AsyncClient, app_id: str, settings: Settings | None = None
) -> None:
    """Open the confirmation link: the mailed one, or the one `settings` make for `app_id`."""
    if settings is None:
        token = await confirmation_token(http, app_id)
    else:
        link = confirmation_url(settings, uuid.UUID(app_id))
        found = token_in(link, app_id)
        assert found is not None, link
        token = found
    confirmed = await http.post(
        f"/v1/applications/{app_id}/email-confirmation", json={"token": token}
    )
    assert confirmed.status_code == 200, confirmed.text


async def declare_document(
    http: httpx.AsyncClient, app_id: str, auth: dict[str, str], kind: str, **changes: Any
) -> httpx.Response:
    """Declare one file; `changes` override the declared filename, content type or size."""
    today = date.today()
    body = {
        "kind": kind,
        "filename": f"{kind}.pdf",
        "content_type": "application/pdf",
        "size_bytes": len(PDF),
        "issued_on": (today - timedelta(days=10)).isoformat(),
        "expires_on": (today + timedelta(days=3650)).isoformat(),
        **changes,
    }
    return await http.post(f"/v1/applications/{app_id}/documents", headers=auth, json=body)


async def post_to_s3(
    upload_form: dict[str, Any], data: bytes, content_type: str, filename: str = "file.pdf"
) -> httpx.Response:
    """What a browser does with the presigned POST: the form fields, then the file."""
    async with httpx.AsyncClient() as s3:
        return await s3.post(
            upload_form["url"],
            data=upload_form["fields"],
            files={"file": (filename, data, content_type)},
        )


async def upload(
    http: httpx.AsyncClient,
    app_id: str,
    auth: dict[str, str],
    kind: str,
    data: bytes = PDF,
    content_type: str = "application/pdf",
) -> httpx.Response:
    declared = await declare_document(
        http, app_id, auth, kind, content_type=content_type, size_bytes=len(data)
    )
    assert declared.status_code == 201, declared.text
    stored = await post_to_s3(declared.json()["upload"], data, content_type, f"{kind}.pdf")
    assert stored.status_code in (200, 201, 204), stored.text
    document_id = declared.json()["document_id"]
    return await http.post(
        f"/v1/applications/{app_id}/documents/{document_id}/complete", headers=auth
    )


async def post_signature(
    http: httpx.AsyncClient, app_id: str, auth: dict[str, str], kind: str, signer: str = SIGNER
) -> httpx.Response:
    """Sign the current version of the agreement `kind`; the API's answer, whatever it is."""
    agreement = (await http.get(f"/v1/agreements/{kind}")).json()
    return await http.post(
        f"/v1/applications/{app_id}/agreements",
        headers=auth,
        json={
            "kind": kind,
            "version": agreement["version"],
            "sha256": agreement["sha256"],
            "signer_name": signer,
            "signer_title": "Managing director",
        },
    )


async def sign(
    http: httpx.AsyncClient, app_id: str, auth: dict[str, str], kind: str, signer: str = SIGNER
) -> None:
    signed = await post_signature(http, app_id, auth, kind, signer)
    assert signed.status_code == 201, signed.text


async def complete_application(
    http: httpx.AsyncClient,
    policy: Policy,
    app_id: str,
    auth: dict[str, str],
    *,
    with_eventually_due: bool = True,
    signer: str = SIGNER,
) -> None:
    kinds = required_documents(policy, SellerCategory(APPLICATION["seller_category"]), "DE")
    if with_eventually_due:
        kinds += policy.requirements.eventually_due
    for kind in kinds:
        done = await upload(http, app_id, auth, kind)
        assert done.status_code == 200, done.text
    for kind in required_agreements(policy, "DE"):
        await sign(http, app_id, auth, kind, signer)


async def staff_token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post(
        "/v1/auth/token", data={"username": username, "password": DEV_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


async def wait_for_task(
    http: httpx.AsyncClient, auth: dict[str, str], kind: str, *, subject: str, timeout: float = 20
) -> dict[str, Any]:
    """The open task of a kind for an application or seller id, once the workflow opened it."""

    async def open_task() -> dict[str, Any] | None:
        listed = await http.get("/v1/tasks", headers=auth, params={"kind": kind, "limit": 200})
        assert listed.status_code == 200, listed.text
        for task in listed.json()["data"]:
            if subject in (task["application_id"], task["seller_id"]):
                return dict(task)
        return None

    return await eventually(open_task, timeout=timeout, why=f"no open {kind} task for {subject}")


async def decide(
    http: httpx.AsyncClient, auth: dict[str, str], task_id: str, decision: str, **body: Any
) -> httpx.Response:
    claimed = await http.post(f"/v1/tasks/{task_id}/claim", headers=auth)
    assert claimed.status_code == 200, claimed.text
    url = f"/v1/tasks/{task_id}/complete"
    answer = await http.post(url, headers=auth, json={"decision": decision, **body})
    if answer.status_code == 422 and answer.json()["error"] == "ChecksNotOverridden":
        # The journeys' applications share their identifiers, so the duplicates check flags
        # each one after the first: approved over it, explicitly, as a reviewer would.
        codes = [*body.pop("reason_codes", []), "check_overridden"]
        answer = await http.post(
            url, headers=auth, json={"decision": decision, "reason_codes": codes, **body}
        )
    return answer


async def wait_for_stage(
    http: httpx.AsyncClient, auth: dict[str, str], app_id: str, stage: str, timeout: float = 20
) -> dict[str, Any]:
    body: dict[str, Any] = {}

    async def in_stage() -> dict[str, Any] | None:
        nonlocal body
        body = (await http.get(f"/v1/applications/{app_id}", headers=auth)).json()
        return body if body.get("stage") == stage else None

    return await eventually(
        in_stage,
        timeout=timeout,
        why=lambda: f"application stayed in {body.get('stage')}, expected {stage}",
    )


async def approved_seller(
    http: httpx.AsyncClient, policy: Policy, *, signer: str = SIGNER, **changes: Any
) -> tuple[str, str, dict[str, str]]:
    """An application (APPLICATION with `changes`) taken straight to approval: (application id,
    seller id, applicant auth)."""
    app_id, auth = await create_application(http, **changes)
    await complete_application(http, policy, app_id, auth, signer=signer)
    assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth)).status_code == 200
    onboarding1 = await staff_token(http, "onboarding1")
    review = await wait_for_task(http, onboarding1, "onboarding_review", subject=app_id)
    assert (await decide(http, onboarding1, review["id"], "approve")).status_code == 200
    ssm1 = await staff_token(http, "ssm1")
    signoff = await wait_for_task(http, ssm1, "ssm_signoff", subject=app_id)
    assert (await decide(http, ssm1, signoff["id"], "approve")).status_code == 200
    app = await wait_for_stage(http, auth, app_id, "approved")
    return app_id, str(app["seller_id"]), auth


async def suspend(
    http: httpx.AsyncClient, seller_id: str, ops: dict[str, str], reason: str = "counterfeit report"
) -> httpx.Response:
    """A manual suspension by the ops member of `ops`, which must succeed."""
    suspended = await http.post(
        f"/v1/sellers/{seller_id}/actions",
        headers=ops,
        json={"action": "suspend", "reason": reason},
    )
    assert suspended.status_code == 200, suspended.text
    return suspended


SELLER_PASSWORD = "a long seller password"


async def seller_token(
    http: httpx.AsyncClient, app_id: str, *, password: str = SELLER_PASSWORD
) -> dict[str, str]:
    """The seller's own sign-in after approval, as the contact person does it: the link of the
    account_ready mail (read from the outbox as ops read it), a password, then the e-mail."""
    token, message = await mailed_link(http, app_id, "account_ready", seller_accounts.token_in)
    email = message["recipient"]
    activated = await http.post("/v1/auth/activate", json={"token": token, "password": password})
    assert activated.status_code == 200, activated.text
    signed_in = await http.post("/v1/auth/token", data={"username": email, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    return bearer(signed_in.json()["access_token"])
