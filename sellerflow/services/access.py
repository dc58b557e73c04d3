"""Who may see an application: the rule every route, page and service reading one goes
through.

Its applicant sees it (another applicant gets 404, as if it did not exist). Ops see every
application. Onboarding and SSM see the applications of their queue: one with a task of their
role (open or done, so a reviewer still reads what they decided), or in a stage their role works
on. The quality lab works on sellers, never on the application behind one (identity
documents, bank proofs, the applicant's personal data): 403."""

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Session

from sellerflow.errors import Forbidden, NotFound
from sellerflow.models import Application
from sellerflow.principal import Principal
from sellerflow.tables import APPLICATIONS, TASKS
from sellerflow.vocabulary import Role, Stage

# The stages each reading role works on besides its tasks (docs/http.md, "Who reads an
# application"): onboarding from submission to its review and the changes it asks for, SSM
# from the sign-off to the seller account.
ROLE_STAGES: dict[Role, frozenset[Stage]] = {
    Role.onboarding: frozenset(
        {Stage.submitted, Stage.verifying, Stage.onboarding_review, Stage.changes_requested}
    ),
    Role.ssm: frozenset({Stage.ssm_signoff, Stage.account_setup, Stage.approved}),
}


def readable_by(principal: Principal) -> sa.ColumnElement[bool] | None:
    """The condition on `APPLICATIONS` a staff member's readable applications meet; None when
    they read every one (ops). Raises Forbidden for staff who read none."""
    if principal.has(Role.ops):
        return None
    roles = [role for role in ROLE_STAGES if principal.has(role)]
    if not roles:
        raise Forbidden("your role does not read applications")
    stages = sorted({stage.value for role in roles for stage in ROLE_STAGES[role]})
    # The seller's tasks (trial and appeal reviews) carry the seller, not the application.
    task_of_theirs = (
        sa.select(TASKS.c.id)
        .where(
            TASKS.c.role.in_([role.value for role in roles]),
            sa.or_(
                TASKS.c.application_id == APPLICATIONS.c.id,
                sa.and_(
                    APPLICATIONS.c.seller_id.is_not(None),
                    TASKS.c.seller_id == APPLICATIONS.c.seller_id,
                ),
            ),
        )
        .exists()
    )
    return sa.or_(APPLICATIONS.c.stage.in_(stages), task_of_theirs)


def application_for(
    session: Session, principal: Principal, application_id: uuid.UUID
) -> Application:
    """The application if the caller may see it; another applicant gets 404, not 403."""
    check_may_read(session, principal, application_id)
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


def check_may_read(session: Session, principal: Principal, application_id: uuid.UUID) -> None:
    """`application_for` without the read, for a route that reads the row its own way."""
    statement = _read_check(principal, application_id)
    if statement is not None:
        _judge(session.execute(statement).first())


async def check_may_read_async(
    conn: AsyncConnection, principal: Principal, application_id: uuid.UUID
) -> None:
    """`check_may_read` on a connection of the read pool, awaited."""
    statement = _read_check(principal, application_id)
    if statement is not None:
        _judge((await conn.execute(statement)).first())


def may_read(session: Session, principal: Principal, application_id: uuid.UUID) -> bool:
    """Whether `application_for` would answer (a page shows the application or leaves it out)."""
    try:
        check_may_read(session, principal, application_id)
    except (Forbidden, NotFound):
        return False
    return True


def _read_check(principal: Principal, application_id: uuid.UUID) -> sa.Select[Any] | None:
    """The statement that decides, or None when the token alone does."""
    if not principal.is_staff:
        if principal.application_id != application_id:
            raise NotFound("no application with this id")
        return None
    condition = readable_by(principal)
    if condition is None:
        return None
    visible = sa.case((condition, True), else_=False).label("visible")
    return sa.select(APPLICATIONS.c.id, visible).where(APPLICATIONS.c.id == application_id)


def _judge(row: sa.Row[Any] | None) -> None:
    if row is None:
        raise NotFound("no application with this id")
    if not row.visible:
        raise Forbidden("this application is not in your queue")
