"""Server-rendered pages for applicants, staff and ops, over the API's own route functions."""

from fastapi import APIRouter

from api.pages import applicant, inbox, login, ops, sellers, staff

router = APIRouter(include_in_schema=False)
for module in (login, applicant, inbox, sellers, staff, ops):
    router.include_router(module.router)
