"""The rows many tests build: an application and the seller account it opens (models, for a
session), and sellers and order events inserted with SQLAlchemy Core (the database tests)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.db import table_of
from sellerflow.models import Application, Notification, OrderEvent, Seller, SellerAccount
from sellerflow.security import issue_token
from sellerflow.services.seller_accounts import TOKEN_KIND, new_account
from sellerflow.vocabulary import SellerCategory, SellerStatus, Standing
from tests.journey import APPLICATION

# --- models, for a session ---------------------------------------------------------------------


def application_row(policy_version: str, **overrides: Any) -> Application:
    """The application of `APPLICATION` (what `create_application` posts), not inserted."""
    fields = {**APPLICATION, "policy_version": policy_version, **overrides}
    return Application(**{**fields, "seller_category": SellerCategory(fields["seller_category"])})


def seller_row(of: Application | uuid.UUID | str, **overrides: Any) -> Seller:
    """The seller account opened for an application, not inserted (the caller links it with
    `application.seller_id`): the company of the given row, or of `APPLICATION` (the one
    `create_application` posts) when given only the application's id."""
    company: dict[str, Any]
    if isinstance(of, Application):
        app_id = of.id
        company = {
            "legal_name": of.legal_name,
            "seller_category": of.seller_category,
            "country": of.country,
        }
    else:
        app_id = uuid.UUID(str(of))
        company = {k: APPLICATION[k] for k in ("legal_name", "seller_category", "country")}
    fields = {"id": uuid.uuid4(), "application_id": app_id, **company, **overrides}
    return Seller(**{**fields, "seller_category": SellerCategory(fields["seller_category"])})


# The seller ranking of the page and API tests, by legal name: status, standing, score,
# category, SSM. Best score first: Foxtrot, Alpha, Bravo, Charlie, Delta, Echo (unscored); at
# risk: Foxtrot (suspended, limit), Bravo (warn), Charlie (limited), Delta (offboarding notice).
RANKING: dict[str, tuple[str, str, float | None, str, str | None]] = {
    "Alpha Refurb": ("active", "good", 90.0, "repair_workshop", "ssm1"),
    "Bravo Refurb": ("warned", "warn", 80.0, "repair_workshop", "ssm1"),
    "Charlie Refurb": ("limited", "good", 70.0, "repair_workshop", "ssm2"),
    "Delta Refurb": ("active", "good", 60.0, "retailer", "ssm2"),
    "Echo Refurb": ("trial", "good", None, "retailer", None),
    "Foxtrot Refurb": ("suspended", "limit", 95.0, "recycler", "ssm1"),
}


def ranked_sellers(engine: sa.Engine) -> dict[str, uuid.UUID]:
    """The sellers of `RANKING` (without applications) and Delta's offboarding notice: their
    ids by legal name."""
    ids = {}
    with Session(engine) as session:
        for name, (status, standing, score, category, ssm) in RANKING.items():
            seller = Seller(
                id=uuid.uuid4(),
                application_id=uuid.uuid4(),
                legal_name=name,
                seller_category=SellerCategory(category),
                country="FR",
                status=SellerStatus(status),
                standing=Standing(standing),
                applied_standing=Standing(standing),
                score=score,
                category_percentile=score,  # 0-100, as the evaluation writes it
                ssm_username=ssm,
                evaluated_at=None if score is None else AS_OF,
            )
            session.add(seller)
            ids[name] = seller.id
        session.commit()
        session.add(
            Notification(
                idempotency_key=f"notice:{ids['Delta Refurb']}",
                template="offboarding_notice",
                recipient="delta@refurb.example",
                subject="Offboarding notice",
                body_text="30 days",
                body_html="<p>30 days</p>",
                seller_id=ids["Delta Refurb"],
            )
        )
        session.commit()
    return ids


def add_seller_with_account(
    session: Session, of: Application | uuid.UUID | str, email: str, **overrides: Any
) -> tuple[uuid.UUID, uuid.UUID]:
    """A seller of the application and its not yet activated account, added to the session:
    (seller id, account id)."""
    seller = seller_row(of, **overrides)
    session.add(seller)
    session.flush()
    account = new_account(seller.id, email)
    session.add(SellerAccount(**account))
    return seller.id, account["id"]


def seller_bearer_token(secret: str, seller_id: uuid.UUID, account_id: uuid.UUID) -> str:
    """A seller token of the account, as `seller_accounts.sign_in` issues it (version 0)."""
    return issue_token(
        secret, str(account_id), kind=TOKEN_KIND, minutes=5, seller=str(seller_id), ver=0
    )


# --- rows inserted with SQLAlchemy Core on a caller's connection (the database tests) ----------

AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)

SELLER_TABLE: sa.Table = table_of(Seller)
ORDER_TABLE: sa.Table = table_of(OrderEvent)


def days_before(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def make_seller(
    conn: sa.Connection,
    *,
    category: str = "repair_workshop",
    status: str = "active",
    standing: str = "good",
    seller_id: uuid.UUID | None = None,
) -> uuid.UUID:
    seller = Seller(
        id=seller_id or uuid.uuid4(),
        application_id=uuid.uuid4(),
        legal_name="Refurb Atelier SARL",
        seller_category=SellerCategory(category),
        country="FR",
        status=SellerStatus(status),
        standing=Standing(standing),
        applied_standing=Standing(standing),
    )
    conn.execute(sa.insert(SELLER_TABLE).values(**seller.model_dump()))
    return seller.id


def order_row(seller_id: uuid.UUID, placed_at: datetime, **outcome: Any) -> dict[str, Any]:
    """An order event's columns; `outcome` names what happened (absent means it did not)."""
    order = OrderEvent(
        order_id=f"order-{uuid.uuid4().hex}", seller_id=seller_id, placed_at=placed_at, **outcome
    )
    return order.model_dump()


def make_order(
    conn: sa.Connection, seller_id: uuid.UUID, *, placed_at: datetime, **outcome: Any
) -> str:
    row = order_row(seller_id, placed_at, **outcome)
    conn.execute(sa.insert(ORDER_TABLE).values(**row))
    return str(row["order_id"])


def make_orders(
    conn: sa.Connection, seller_id: uuid.UUID, count: int, *, placed_at: datetime, **outcome: Any
) -> None:
    """`count` alike orders in one executemany."""
    if count:
        rows = [order_row(seller_id, placed_at, **outcome) for _ in range(count)]
        conn.execute(sa.insert(ORDER_TABLE), rows)
