"""Staff sign-in and sign-out for the pages, with the same users and check as the API."""

from fastapi import APIRouter, Request, Response

from api.deps import SessionDep, StateDep, client_address
from api.pages.session import (
    CheckedFormDep,
    PageRoute,
    PageSessionDep,
    is_local_path,
    new_visitor,
    redirect,
    refused_form,
    render,
    staff_signed_in,
    text,
)
from sellerflow.errors import TooManyAttempts, Unauthorized
from sellerflow.services.auth import sign_in, sign_out_caller
from sellerflow.vocabulary import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _landing(next_path: str, roles: frozenset[str]) -> str:
    if is_local_path(next_path):
        return next_path
    return "/ops" if Role.ops.value in roles else "/staff"


@router.get("/login")
def login_page(request: Request, page: PageSessionDep, next: str = "") -> Response:
    # The form carries `next` on to the POST only when it would be followed.
    next_path = next if is_local_path(next) else ""
    return render(request, page, "login.html", next=next_path, username="", message=None)


@router.post("/login")
def login_submit(
    request: Request,
    page: PageSessionDep,
    form: CheckedFormDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    username, next_path = text(form, "username"), text(form, "next")
    address = client_address(request)
    try:
        tokens = sign_in(session, state.settings, username, str(form.get("password")), address)
    except (Unauthorized, TooManyAttempts) as err:
        context = {"next": next_path, "username": username}
        return refused_form(request, page, "login.html", err, **context)
    new_page = staff_signed_in(state.settings, tokens)
    landing = _landing(next_path, tokens.principal.roles)
    return redirect(request, new_page, landing, ok=f"Hello {username}")


@router.post("/logout")
def logout(
    request: Request, page: PageSessionDep, _: CheckedFormDep, session: SessionDep, state: StateDep
) -> Response:
    who = page.principal
    if who is not None:
        # Every token of the user stops working, a copy of this cookie included.
        sign_out_caller(session, who)
    # A fresh anonymous session replaces the signed-in cookie.
    target = "/seller" if who is not None and who.seller_id is not None else "/login"
    return redirect(request, new_visitor(state.settings), target, ok="You are signed out")
