"""Sign-in: OAuth2 password form in, signed bearer token out (staff by username, sellers by
e-mail address); sign-out revokes them; a seller's account activated through a one-time link."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import PrincipalDep, SessionDep, StateDep, client_address
from api.errors import errors
from api.schemas import (
    Activated,
    ActivationBody,
    ActivationRequest,
    ActivationRequested,
    RefreshBody,
    TokenResponse,
)
from sellerflow.errors import Forbidden
from sellerflow.services import auth, seller_accounts

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", responses=errors(401, 422, 429))
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    state: StateDep,
) -> TokenResponse:
    """A staff member signs in with the username, a seller with the account's e-mail address
    (staff usernames never hold an `@`). Staff get a short-lived access token and a refresh
    token (`POST /v1/auth/refresh`); a seller's token lasts the session."""
    address = client_address(request)
    if "@" in form.username:
        token = seller_accounts.sign_in(
            session, state.settings, form.username, form.password, address
        )
        return TokenResponse(access_token=token)
    tokens = auth.sign_in(session, state.settings, form.username, form.password, address)
    return TokenResponse(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post("/refresh", responses=errors(401, 422))
def refresh(body: RefreshBody, session: SessionDep, state: StateDep) -> TokenResponse:
    """A new staff access token for the refresh token of a sign-in; 401 once it expired or its
    user signed out, was disabled or got new roles (sign in again)."""
    tokens = auth.refresh(session, state.settings, body.refresh_token)
    return TokenResponse(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post("/logout", status_code=204, responses=errors(401, 403))
def logout(principal: PrincipalDep, session: SessionDep) -> Response:
    """Every token of the caller stops working at once (this one and copies of it)."""
    if not auth.sign_out_caller(session, principal):
        raise Forbidden("an application's token ends with its application")
    return Response(status_code=204)


@router.post("/activate", responses=errors(401, 410, 422))
def activate(body: ActivationBody, session: SessionDep, state: StateDep) -> Activated:
    """Set the seller account's password through the link of its mail (activation, or a reset):
    the link then answers 410, and the account's earlier tokens stop working."""
    seller_id = seller_accounts.activate(session, state.settings, body.token, body.password)
    return Activated(seller_id=str(seller_id))


@router.post("/activation", status_code=202, responses=errors(422, 429))
def ask_for_activation(
    body: ActivationRequest, request: Request, session: SessionDep, state: StateDep
) -> ActivationRequested:
    """Mail a new activation (or password reset) link to the seller accounts of this address;
    202 whether or not there is one."""
    seller_accounts.mail_link(session, state.settings, body.email, client_address(request))
    return ActivationRequested()
