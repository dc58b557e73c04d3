"""Who may see an application: the rule every route, page and service reading one goes
through."""

import uuid

from sqlmodel import Session

from sellerflow.errors import Forbidden, NotFound
from sellerflow.models import Application
from sellerflow.principal import Principal


def application_for(
    session: Session, principal: Principal, application_id: uuid.UUID
) -> Application:
    """The application if the caller may see it; another applicant gets 404, not 403."""
    check_may_read(principal, application_id)
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound("no application with this id")
    return app


def owner_application(
    session: Session, principal: Principal, application_id: uuid.UUID
) -> Application:
    """The application if the caller is its applicant."""
    if principal.is_staff:
        raise Forbidden("only the applicant can do this")
    return application_for(session, principal, application_id)


def check_may_read(principal: Principal, application_id: uuid.UUID) -> None:
    """`application_for` without the read, for a route that reads the row its own way."""
    if not principal.is_staff and principal.application_id != application_id:
        raise NotFound("no application with this id")
