"""The seller account's one-time links as a state machine, over random sequences of links
mailed and links used: only the newest link not yet used sets the password; every other one
answers 410; each password set ends the tokens before it (the version counts the successes)."""

import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from sellerflow.config import Settings
from sellerflow.errors import Gone
from sellerflow.models import Application, SellerAccount
from sellerflow.security import verify_password
from sellerflow.services import seller_accounts
from tests.support.builders import add_seller_with_account, application_row

# A step: None mails a new link; an int uses the link mailed that many links ago (0: newest).
STEPS = st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=4)), max_size=7)


def new_account(engine: sa.Engine) -> uuid.UUID:
    with Session(engine) as session:
        app: Application = application_row("test", contact_email=f"{uuid.uuid4()}@example.com")
        session.add(app)
        session.flush()
        _, account_id = add_seller_with_account(session, app, app.contact_email)
        session.commit()
    return account_id


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
def test_only_the_newest_unused_link_sets_the_password(
    engine: sa.Engine, steps: list[int | None]
) -> None:
    config = Settings()
    account_id = new_account(engine)
    mailed: list[str] = []  # the link tokens, oldest first
    usable: int | None = None  # the index of the link that works, if one does
    passwords: list[str] = []
    for number, step in enumerate(steps):
        if step is None:
            link = seller_accounts.new_link(config, account_id)
            with engine.begin() as conn:
                seller_accounts.remember_link(conn, link)
            token = seller_accounts.token_in(link.url)
            assert token is not None
            mailed.append(token)
            usable = len(mailed) - 1
            continue
        if step >= len(mailed):
            continue
        chosen = len(mailed) - 1 - step
        password = f"password number {number}"
        with Session(engine) as session:
            if chosen == usable:
                seller_accounts.activate(session, config, mailed[chosen], password)
                passwords.append(password)
                usable = None
            else:
                with pytest.raises(Gone):
                    seller_accounts.activate(session, config, mailed[chosen], password)

        with Session(engine) as session:
            account = session.get(SellerAccount, account_id)
            assert account is not None
            assert account.token_version == len(passwords)
            assert (account.link_nonce is None) == (usable is None)
            assert (account.activated_at is None) == (not passwords)
            if passwords:
                assert account.password_hash is not None
                assert verify_password(account.password_hash, passwords[-1])
