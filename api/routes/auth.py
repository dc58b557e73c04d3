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
    (staff usernames never hold an `@`)."""
    address = client_address(request)
    sign_in = seller_accounts.sign_in if "@" in form.username else auth.sign_in
    token = sign_in(session, state.settings, form.username, form.password, address)
    return TokenResponse(access_token=token)


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
