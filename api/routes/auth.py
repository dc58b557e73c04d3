"""Staff sign-in: OAuth2 password form in, signed bearer token out; sign-out revokes them."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import SessionDep, StaffDep, StateDep, client_address
from api.errors import errors
from api.schemas import TokenResponse
from sellerflow.services.auth import sign_in, sign_out

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", responses=errors(401, 422, 429))
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    state: StateDep,
) -> TokenResponse:
    address = client_address(request)
    token = sign_in(session, state.settings, form.username, form.password, address)
    return TokenResponse(access_token=token)


@router.post("/logout", status_code=204, responses=errors(401, 403))
def logout(staff: StaffDep, session: SessionDep) -> Response:
    """Every token of the caller stops working at once (this one and copies of it)."""
    sign_out(session, staff.subject)
    return Response(status_code=204)
