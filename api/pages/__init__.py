"""Server-rendered pages for applicants, sellers, staff and ops, over the API's own route
functions."""

from fastapi import APIRouter

from api.pages import applicant, inbox, login, ops, policies, seller, sellers, staff

router = APIRouter(include_in_schema=False)
for module in (login, applicant, seller, inbox, sellers, staff, ops, policies):
    router.include_router(module.router)
