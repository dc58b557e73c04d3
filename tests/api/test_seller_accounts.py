"""The seller's own account: a one-time activation link, a password reset that ends earlier
tokens, sign-in with the e-mail address, and a token that reaches its own seller only."""

import uuid

import httpx
from sqlmodel import Session, select

from sellerflow.models import Notification, SellerAccount
from sellerflow.security import issue_token
from sellerflow.services import seller_accounts
from sellerflow.services.seller_accounts import LINK_KIND
from tests.conftest import Stack
from tests.journey import bearer, create_application
from tests.support.builders import add_seller_with_account

PASSWORD = "correct horse battery staple"


async def a_seller(stack: Stack, email: str) -> tuple[str, str]:
    """(seller id, application id) of a seller with a not yet activated account."""
    app_id, _ = await create_application(stack.http, contact_email=email)
    with Session(stack.engine) as session:
        seller_id, _ = add_seller_with_account(session, app_id, email)
        session.commit()
    return str(seller_id), app_id


def mailed_links(stack: Stack, seller_id: str) -> list[str]:
    """The link tokens of the activation mails of the seller, oldest first."""
    with Session(stack.engine) as session:
        rows = session.exec(
            select(Notification)
            .where(
                Notification.seller_id == uuid.UUID(seller_id),
                Notification.template == "seller_activation",
            )
            .order_by(Notification.created_at)  # type: ignore[arg-type]
        ).all()
    return [t for t in (seller_accounts.token_in(r.body_text) for r in rows) if t]


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/v1/auth/token", data={"username": email, "password": password})


async def test_activation_then_sign_in_reaches_the_own_seller_only(stack: Stack) -> None:
    http = stack.http
    seller_id, app_id = await a_seller(stack, "Owner@Example.com")
    other_id, _ = await a_seller(stack, "someone@example.com")
    assert (await sign_in(http, "owner@example.com", PASSWORD)).status_code == 401

    asked = await http.post("/v1/auth/activation", json={"email": "owner@example.com"})
    assert asked.status_code == 202
    (token,) = mailed_links(stack, seller_id)
    short = await http.post("/v1/auth/activate", json={"token": token, "password": "short"})
    assert short.status_code == 422, short.text
    activated = await http.post("/v1/auth/activate", json={"token": token, "password": PASSWORD})
    assert activated.status_code == 200, activated.text
    assert activated.json() == {"seller_id": seller_id}
    again = await http.post("/v1/auth/activate", json={"token": token, "password": PASSWORD})
    assert again.status_code == 410, again.text
    assert again.json()["error"] == "Gone"

    assert (await sign_in(http, "owner@example.com", "wrong password!")).status_code == 401
    signed_in = await sign_in(http, " OWNER@example.com", PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    auth = bearer(signed_in.json()["access_token"])
    own = await http.get(f"/v1/sellers/{seller_id}", headers=auth)
    assert own.status_code == 200, own.text
    assert own.json()["id"] == seller_id
    for path in (
        f"/v1/sellers/{other_id}",
        f"/v1/applications/{app_id}",
        f"/v1/applications/{app_id}/documents",
    ):
        answer = await http.get(path, headers=auth)
        assert answer.status_code == 404, (path, answer.text)
    for path in ("/v1/sellers", "/v1/tasks", "/v1/ops/notifications"):
        answer = await http.get(path, headers=auth)
        assert answer.status_code == 403, (path, answer.text)


async def test_a_new_link_replaces_the_old_and_a_reset_ends_earlier_tokens(stack: Stack) -> None:
    http = stack.http
    seller_id, _ = await a_seller(stack, "reset@example.com")
    await http.post("/v1/auth/activation", json={"email": "reset@example.com"})
    await http.post("/v1/auth/activation", json={"email": "reset@example.com"})
    first, second = mailed_links(stack, seller_id)
    replaced = await http.post("/v1/auth/activate", json={"token": first, "password": PASSWORD})
    assert replaced.status_code == 410, replaced.text
    ok = await http.post("/v1/auth/activate", json={"token": second, "password": PASSWORD})
    assert ok.status_code == 200, ok.text
    auth = bearer((await sign_in(http, "reset@example.com", PASSWORD)).json()["access_token"])
    assert (await http.get(f"/v1/sellers/{seller_id}", headers=auth)).status_code == 200

    # A password reset is the same link again: the new password works, the old token does not.
    await http.post("/v1/auth/activation", json={"email": "reset@example.com"})
    reset = mailed_links(stack, seller_id)[-1]
    new_password = PASSWORD + " 2"
    done = await http.post("/v1/auth/activate", json={"token": reset, "password": new_password})
    assert done.status_code == 200, done.text
    revoked = await http.get(f"/v1/sellers/{seller_id}", headers=auth)
    assert revoked.status_code == 401, revoked.text
    assert (await sign_in(http, "reset@example.com", PASSWORD)).status_code == 401
    fresh = await sign_in(http, "reset@example.com", new_password)
    assert fresh.status_code == 200, fresh.text

    # Signing out ends the token at once.
    auth = bearer(fresh.json()["access_token"])
    assert (await http.post("/v1/auth/logout", headers=auth)).status_code == 204
    assert (await http.get(f"/v1/sellers/{seller_id}", headers=auth)).status_code == 401


async def test_asking_for_a_link_tells_nothing_and_is_limited(stack: Stack) -> None:
    http = stack.http
    for _ in range(seller_accounts.LINK_REQUESTS.most):
        asked = await http.post("/v1/auth/activation", json={"email": "nobody@example.com"})
        assert asked.status_code == 202
    limited = await http.post("/v1/auth/activation", json={"email": "nobody@example.com"})
    assert limited.status_code == 429, limited.text
    assert int(limited.headers["Retry-After"]) > 0
    with Session(stack.engine) as session:
        stored = session.exec(
            select(Notification).where(Notification.template == "seller_activation")
        ).all()
    assert stored == []
    invalid = await http.post("/v1/auth/activation", json={"email": "not an address"})
    assert invalid.status_code == 422


async def test_only_a_link_of_the_account_activates_it(stack: Stack) -> None:
    http = stack.http
    seller_id, app_id = await a_seller(stack, "links@example.com")
    secret = stack.settings.sellerflow_secret_key
    with Session(stack.engine) as session:
        account = session.exec(
            select(SellerAccount).where(SellerAccount.seller_id == uuid.UUID(seller_id))
        ).one()
        account_id = str(account.id)
    body = {"password": PASSWORD}
    forged = issue_token("x" * 48, account_id, kind=LINK_KIND, minutes=5, nonce="n")
    other_kind = issue_token(secret, app_id, kind="email_confirmation", minutes=5)
    for token in (forged, other_kind, "not-a-token"):
        answer = await http.post("/v1/auth/activate", json={**body, "token": token})
        assert answer.status_code == 401, answer.text
    # The right key and account, but no link was mailed: no nonce matches.
    guessed = issue_token(secret, account_id, kind=LINK_KIND, minutes=5, nonce="guess")
    answer = await http.post("/v1/auth/activate", json={**body, "token": guessed})
    assert answer.status_code == 410, answer.text
    expired = issue_token(secret, account_id, kind=LINK_KIND, minutes=-1, nonce="n")
    answer = await http.post("/v1/auth/activate", json={**body, "token": expired})
    assert answer.status_code == 410, answer.text
