"""The seller's own account: made at account setup for the contact person, activated (and its
password reset) through a one-time link, signed in with the e-mail address.

A link is a signed token naming the account and a random nonce stored on it: setting the
password clears the nonce and a new link replaces it, so a link works once, and only the newest
one (410 otherwise). A seller token names the account, its seller and the account's
`token_version`: a password set through a link, or a sign-out, ends every earlier token."""

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, unquote

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow import audit, outbox
from sellerflow.config import Settings
from sellerflow.errors import Gone, InvalidRequest, Unauthorized
from sellerflow.models import SellerAccount, utcnow
from sellerflow.principal import Principal
from sellerflow.security import (
    dummy_hash,
    hash_password,
    issue_token,
    read_token,
    verify_password,
)
from sellerflow.services.login_throttle import throttled_sign_in
from sellerflow.services.throttle import Limit, check_not_throttled, count_attempt, counter
from sellerflow.tables import APPLICATIONS, SELLER_ACCOUNTS, SELLERS

LINK_KIND = "seller_link"
TOKEN_KIND = "seller"
LINK_VALIDITY = timedelta(days=7)
MIN_PASSWORD = 12
# Links asked for by e-mail address: a few per address and per client, so that the form cannot
# be used to fill a stranger's mailbox.
LINK_REQUESTS = Limit(
    "seller-link", 3, timedelta(hours=1), "too many links asked for; try again later"
)
# The link as `link_url` writes it, for what reads it back from a mail (tests).
LINK = re.compile(r"/seller/activate\?token=(?P<token>[^\s\"<&]+)")

ACCOUNT_COLUMNS = (
    SELLER_ACCOUNTS.c.id,
    SELLER_ACCOUNTS.c.seller_id,
    SELLER_ACCOUNTS.c.disabled,
    SELLER_ACCOUNTS.c.token_version,
)
# What a principal needs of the account a seller token names.
ACCOUNT_OF_TOKEN = sa.select(*ACCOUNT_COLUMNS).where(
    SELLER_ACCOUNTS.c.id == sa.bindparam("account_id")
)
_BY_EMAIL = (
    sa.select(SELLER_ACCOUNTS.c.password_hash, *ACCOUNT_COLUMNS)
    .where(SELLER_ACCOUNTS.c.email == sa.bindparam("email"), ~SELLER_ACCOUNTS.c.disabled)
    .order_by(SELLER_ACCOUNTS.c.created_at.desc())
)
_RECIPIENT = (
    sa.select(
        SELLER_ACCOUNTS.c.id,
        SELLER_ACCOUNTS.c.email,
        SELLER_ACCOUNTS.c.seller_id,
        SELLERS.c.legal_name,
        APPLICATIONS.c.contact_name,
    )
    .select_from(
        SELLER_ACCOUNTS.join(SELLERS, SELLERS.c.id == SELLER_ACCOUNTS.c.seller_id).join(
            APPLICATIONS, APPLICATIONS.c.id == SELLERS.c.application_id
        )
    )
    .where(SELLER_ACCOUNTS.c.email == sa.bindparam("email"), ~SELLER_ACCOUNTS.c.disabled)
)


class AccountColumns(Protocol):
    """A row with `ACCOUNT_COLUMNS`."""

    id: uuid.UUID
    seller_id: uuid.UUID
    disabled: bool
    token_version: int


@dataclass(frozen=True)
class Link:
    account_id: uuid.UUID
    url: str
    nonce: str


def normalised(email: str) -> str:
    return email.strip().casefold()


def new_account(seller_id: uuid.UUID, email: str) -> dict[str, Any]:
    """The account row account setup writes for the contact person, not yet activated."""
    account_id = uuid.uuid5(seller_id, "seller-account")
    return SellerAccount(id=account_id, seller_id=seller_id, email=normalised(email)).model_dump()


def account_of_seller(conn: sa.Connection, seller_id: uuid.UUID) -> uuid.UUID | None:
    found = conn.execute(
        sa.select(SELLER_ACCOUNTS.c.id).where(SELLER_ACCOUNTS.c.seller_id == seller_id)
    ).scalar()
    return uuid.UUID(str(found)) if found is not None else None


def new_link(settings: Settings, account_id: uuid.UUID) -> Link:
    """A link for the account; it works once `remember_link` stored its nonce."""
    nonce = secrets.token_hex(16)
    token = issue_token(
        settings.sellerflow_secret_key,
        str(account_id),
        kind=LINK_KIND,
        minutes=int(LINK_VALIDITY.total_seconds() // 60),
        nonce=nonce,
    )
    base = settings.sellerflow_public_url.rstrip("/")
    return Link(account_id, f"{base}/seller/activate?token={quote(token)}", nonce)


def remember_link(conn: sa.Connection, link: Link) -> None:
    """The account's only valid link from now on: the earlier one answers 410."""
    conn.execute(
        sa.update(SELLER_ACCOUNTS)
        .where(SELLER_ACCOUNTS.c.id == link.account_id)
        .values(link_nonce=link.nonce)
    )


def token_in(text: str) -> str | None:
    """The token of the first activation link in a mail's text."""
    found = LINK.search(text)
    return unquote(found["token"]) if found else None


def mail_link(session: Session, settings: Settings, email: str, address: str | None) -> None:
    """Mail a new link to each account of the address; nothing tells whether one exists.

    Counted per address and per client (429 beyond `LINK_REQUESTS`), found or not."""
    now = datetime.now(UTC)
    email = normalised(email)
    counters = [counter(settings.sellerflow_secret_key, LINK_REQUESTS, "email", email)]
    if address:
        counters.append(counter(settings.sellerflow_secret_key, LINK_REQUESTS, "address", address))
    conn = session.connection()
    check_not_throttled(conn, counters, now)
    count_attempt(conn, counters, now)
    for account in conn.execute(_RECIPIENT, {"email": email}).all():
        link = new_link(settings, account.id)
        outbox.enqueue(
            conn,
            key=f"seller-link:{account.id}:{link.nonce}",
            template="seller_activation",
            recipient=account.email,
            context={
                "recipient_name": account.contact_name,
                "legal_name": account.legal_name,
                "activation_url": link.url,
            },
            seller_id=account.seller_id,
        )
        remember_link(conn, link)
    session.commit()


def activate(session: Session, settings: Settings, token: str, password: str) -> uuid.UUID:
    """Set the password through a link (the first time, or a reset): the seller's id.

    The link then answers 410, as does a replaced or expired one; the account's earlier tokens
    stop working."""
    try:
        claims = read_token(settings.sellerflow_secret_key, token)
    except Unauthorized as err:
        if err.detail == "token expired":
            raise Gone("this link has expired; ask for a new one") from err
        raise
    if claims.get("kind") != LINK_KIND:
        raise Unauthorized("invalid token")
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"password: at least {MIN_PASSWORD} characters")
    account = session.get(SellerAccount, account_id_of(claims))
    nonce = claims.get("nonce")
    if account is None or account.disabled or not nonce or account.link_nonce != nonce:
        raise Gone("this link was used or replaced by a newer one; ask for a new one")
    first = account.activated_at is None
    account.password_hash = hash_password(password)
    account.link_nonce = None
    account.activated_at = account.activated_at or utcnow()
    account.token_version += 1
    session.add(account)
    audit.record(
        session,
        key=f"seller-account:{account.id}:{nonce}",
        actor="seller",
        action="seller.account_activated" if first else "seller.password_reset",
        subject_type="seller",
        subject_id=str(account.seller_id),
    )
    session.commit()
    return account.seller_id


def sign_in(
    session: Session, settings: Settings, email: str, password: str, address: str | None
) -> str:
    """A seller token for the right password; throttled and timed as the staff sign-in.

    One contact person may hold the accounts of several sellers (a seller offboarded and set
    up again): the newest account whose password matches is the one signed in."""
    email = normalised(email)

    def check() -> sa.Row[Any] | None:
        accounts = [a for a in session.execute(_BY_EMAIL, {"email": email}) if a.password_hash]
        if not accounts:
            verify_password(dummy_hash(), password)  # the cost of a wrong password
        return next((a for a in accounts if verify_password(a.password_hash, password)), None)

    secret = settings.sellerflow_secret_key
    account = throttled_sign_in(session, secret, email, address, check)
    return issue_token(
        secret,
        str(account.id),
        kind=TOKEN_KIND,
        minutes=settings.sellerflow_token_minutes,
        seller=str(account.seller_id),
        ver=account.token_version,
    )


def seller_principal(account: AccountColumns | None, claims: dict[str, Any]) -> Principal:
    """The seller a token names; an unknown or disabled account, or a revoked token, is 401."""
    if account is None or account.disabled:
        raise Unauthorized("unknown or disabled account")
    if claims.get("ver", 0) != account.token_version:
        raise Unauthorized("token revoked; sign in again")
    return Principal(subject="seller", seller_id=account.seller_id, account_id=account.id)


def account_id_of(claims: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims["sub"]))
    except (KeyError, ValueError) as err:
        raise Unauthorized("invalid token") from err


def sign_out(session: Session, account_id: uuid.UUID) -> None:
    """Every token of the account stops working."""
    session.execute(
        sa.update(SELLER_ACCOUNTS)
        .where(SELLER_ACCOUNTS.c.id == account_id)
        .values(token_version=SELLER_ACCOUNTS.c.token_version + 1)
    )
    session.commit()
