"""Staff sign-in: OAuth2 password form in, signed bearer token out."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import select

from api.deps import SessionDep, StateDep
from api.errors import errors
from api.schemas import TokenResponse
from sellerflow.errors import Unauthorized
from sellerflow.models import StaffUser
from sellerflow.security import issue_token, verify_password

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse, responses=errors(401, 422))
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, state: StateDep
) -> TokenResponse:
    user = session.exec(select(StaffUser).where(StaffUser.username == form.username)).first()
    if user is None or user.disabled or not verify_password(user.password_hash, form.password):
        raise Unauthorized("wrong username or password")
    token = issue_token(
        state.settings.sellerflow_secret_key,
        user.username,
        kind="staff",
        minutes=state.settings.sellerflow_token_minutes,
        roles=user.role_list,
    )
    return TokenResponse(access_token=token)
