"""The applicant's e-mail address confirmed before any document is declared: the first mail
(`application_received`) carries a signed link naming the application; opening it confirms."""

import re
import uuid
from datetime import datetime
from urllib.parse import quote, unquote

from sqlmodel import Session

from sellerflow import audit
from sellerflow.config import Settings
from sellerflow.errors import Conflict, NotFound, Unauthorized
from sellerflow.models import Application, utcnow
from sellerflow.security import issue_token, read_token

TOKEN_KIND = "email_confirmation"
# As long as the applicant's own token: the link works for the whole application.
TOKEN_MINUTES = 60 * 24 * 60
# The link as `confirmation_url` writes it, for what reads it back from a mail (tests, bench).
LINK = re.compile(r"/apply/(?P<app_id>[0-9a-f-]{36})/confirm-email\?token=(?P<token>[^\s\"<]+)")


def confirmation_url(settings: Settings, application_id: uuid.UUID) -> str:
    """The link of the first mail: the applicant page that confirms the address."""
    token = issue_token(
        settings.sellerflow_secret_key,
        str(application_id),
        kind=TOKEN_KIND,
        minutes=TOKEN_MINUTES,
    )
    base = settings.sellerflow_public_url.rstrip("/")
    return f"{base}/apply/{application_id}/confirm-email?token={quote(token)}"


def token_in(text: str, application_id: str) -> str | None:
    """The confirmation token of `application_id` in a mail's text, if it holds its link."""
    for found in LINK.finditer(text):
        if found["app_id"] == application_id:
            return unquote(found["token"])
    return None


def confirm_email(
    session: Session, settings: Settings, application_id: uuid.UUID, token: str
) -> datetime:
    """When the application's e-mail address was confirmed (now, or at the first confirmation):
    401 for a token that is not this application's confirmation token."""
    claims = read_token(settings.sellerflow_secret_key, token)
    if claims.get("kind") != TOKEN_KIND or claims.get("sub") != str(application_id):
        raise Unauthorized("invalid token")
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound("no application with this id")
    if app.email_confirmed_at is None:
        app.email_confirmed_at = utcnow()
        session.add(app)
        audit.record(
            session,
            key=f"email-confirmed:{app.id}",
            actor="applicant",
            action="email_confirmed",
            subject_type="application",
            subject_id=str(app.id),
        )
        session.commit()
    assert app.email_confirmed_at is not None
    return app.email_confirmed_at


def check_email_confirmed(app: Application) -> None:
    """Conflict until the applicant opened the link of the first mail."""
    if app.email_confirmed_at is None:
        raise Conflict(
            "email_not_confirmed: confirm the contact e-mail address first, with the link in "
            "the mail sent to it when the application was opened"
        )
