"""The staff inbox page: open tasks from the database, filtered, counted per filter, paginated."""

from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from api.deps import SessionDep
from api.pages.session import PageRoute, PageSessionDep, StaffPageDep, render
from api.presenters import task_public
from sellerflow.models import Seller
from sellerflow.principal import Principal
from sellerflow.services.applications import legal_names
from sellerflow.services.tasks import TaskFilters, list_tasks, visible_roles
from sellerflow.vocabulary import Role, TaskKind

router = APIRouter(prefix="/staff", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 20


@dataclass(frozen=True)
class InboxFilters:
    role: Role | None = None
    assignee: Literal["me", "none"] | None = None
    kind: TaskKind | None = None
    overdue: bool | None = None

    def query(self, page: int = 1) -> str:
        values = {k: v for k, v in vars(self).items() if v is not None}
        params = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}
        if page > 1:
            params["page"] = str(page)
        return "?" + urlencode(params) if params else ""


def _count(staff: Principal, session: Session, filters: InboxFilters) -> int:
    return list_tasks(session, staff, TaskFilters(**vars(filters)), limit=1, offset=0)[1]


def facets(staff: Principal, session: Session, current: InboxFilters) -> list[dict[str, Any]]:
    """Per filter, its choices with how many open tasks each would show."""
    choices: dict[str, list[tuple[str, Any]]] = {
        "role": [(r, Role(r)) for r in visible_roles(staff)],
        "assignee": [("mine", "me"), ("unassigned", "none")],
        "kind": [(k.value, k) for k in TaskKind],
        "overdue": [("overdue", True), ("on time", False)],
    }
    result = []
    for name, options in choices.items():
        rows = []
        for label, value in [("any", None), *options]:
            filters = replace(current, **{name: value})
            rows.append(
                {
                    "label": label.replace("_", " "),
                    "count": _count(staff, session, filters),
                    "href": "/staff" + filters.query(),
                    "current": getattr(current, name) == value,
                }
            )
        result.append({"name": name, "options": rows})
    return result


@router.get("")
def inbox(
    request: Request,
    page: PageSessionDep,
    staff: StaffPageDep,
    session: SessionDep,
    role: Role | None = None,
    assignee: Literal["me", "none"] | None = None,
    kind: TaskKind | None = None,
    overdue: bool | None = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    filters = InboxFilters(role, assignee, kind, overdue)
    offset = (page_number - 1) * PAGE_SIZE
    rows, total = list_tasks(
        session, staff, TaskFilters(**vars(filters)), limit=PAGE_SIZE, offset=offset
    )
    ids = [t.application_id for t in rows if t.application_id]
    seller_ids = [t.seller_id for t in rows if t.seller_id and not t.application_id]
    last_page = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        page,
        "staff_inbox.html",
        tasks=[task_public(t) for t in rows],
        total=total,
        names={**legal_names(session, ids), **legal_names(session, seller_ids, Seller)},
        facets=facets(staff, session, filters),
        page_number=page_number,
        last_page=last_page,
        previous_href="/staff" + filters.query(page_number - 1) if page_number > 1 else None,
        next_href="/staff" + filters.query(page_number + 1) if page_number < last_page else None,
    )
