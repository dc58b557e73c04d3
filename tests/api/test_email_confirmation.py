"""An application's contact e-mail address is confirmed, with the link of its first mail, before
any document can be declared; no other token confirms it."""

import uuid

from sqlmodel import Session

from sellerflow.models import Application
from sellerflow.security import issue_token
from sellerflow.services.email_confirmation import TOKEN_KIND
from tests.conftest import Stack
from tests.journey import confirmation_token, create_application, declare_document

KIND = "company_registration_extract"


async def test_documents_wait_for_the_link_of_the_first_mail(stack: Stack) -> None:
    http = stack.http
    app_id, auth = await create_application(http, confirm_email=False)
    refused = await declare_document(http, app_id, auth, KIND)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "Conflict"
    assert refused.json()["detail"].startswith("email_not_confirmed: ")

    token = await confirmation_token(http, app_id)
    path = f"/v1/applications/{app_id}/email-confirmation"
    confirmed = await http.post(path, json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["id"] == app_id
    again = await http.post(path, json={"token": token})
    assert again.json()["email_confirmed_at"] == confirmed.json()["email_confirmed_at"]
    declared = await declare_document(http, app_id, auth, KIND)
    assert declared.status_code == 201, declared.text
    with Session(stack.engine) as session:
        app = session.get(Application, uuid.UUID(app_id))
        assert app is not None
        assert app.email_confirmed_at is not None


async def test_only_the_applications_confirmation_token_confirms_it(stack: Stack) -> None:
    http = stack.http
    app_id, auth = await create_application(http, confirm_email=False)
    other_id, _ = await create_application(http, confirm_email=False)
    secret = stack.settings.sellerflow_secret_key
    wrong = {
        "the applicant token": auth["Authorization"].removeprefix("Bearer "),
        "another application's link": await confirmation_token(http, other_id),
        "another kind": issue_token(secret, app_id, kind="applicant", minutes=5),
        "another key": issue_token("x" * 48, app_id, kind=TOKEN_KIND, minutes=5),
        "expired": issue_token(secret, app_id, kind=TOKEN_KIND, minutes=-1),
        "not a token": "not-a-token",
    }
    for why, token in wrong.items():
        answer = await http.post(
            f"/v1/applications/{app_id}/email-confirmation", json={"token": token}
        )
        assert answer.status_code == 401, (why, answer.text)
        assert answer.json()["error"] == "Unauthorized", why
    empty = await http.post(f"/v1/applications/{app_id}/email-confirmation", json={"token": ""})
    assert empty.status_code == 422, empty.text
    refused = await declare_document(http, app_id, auth, KIND)
    assert refused.status_code == 409, refused.text
    with Session(stack.engine) as session:
        app = session.get(Application, uuid.UUID(app_id))
        assert app is not None
        assert app.email_confirmed_at is None
