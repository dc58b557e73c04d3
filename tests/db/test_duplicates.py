"""Duplicates and returning sellers (SQLite and PostgreSQL): what another application or an
offboarded seller shares with a new application, and the banned seller who comes back under a
new name with the same IBAN."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.models import Application, SellerAction
from sellerflow.services.duplicates import duplicate_matches, duplicates_outcome
from sellerflow.vocabulary import CheckStatus, SellerStatus, Stage
from tests.support.builders import application_row, seller_row

IBAN = "DE89 3704 0044 0532 0130 00"


def stored(session: Session, **fields: Any) -> Application:
    app = application_row("p", **fields)
    session.add(app)
    session.flush()
    return app


def offboarded(session: Session, app: Application, *, fraud: bool) -> None:
    seller = seller_row(app, status=SellerStatus.offboarded)
    session.add(seller)
    session.flush()
    app.seller_id = seller.id
    session.add(app)
    reason = {"summary": "manual offboard by ops", "ground": "fraud" if fraud else None}
    session.add(
        SellerAction(
            seller_id=seller.id,
            idempotency_key=f"offboard:{seller.id}",
            from_status=SellerStatus.active,
            to_status=SellerStatus.offboarded,
            action="offboard",
            actor="ops",
            reason=reason,
        )
    )
    session.flush()


def newcomer(session: Session, **fields: Any) -> Application:
    """An application sharing nothing with `application_row`'s defaults but what is given."""
    return stored(
        session,
        **{
            "legal_name": "Brand New Phones Ltd",
            "country": "NL",
            "registration_number": "KVK 77001122",
            "vat_number": "NL000099998B57",
            "contact_email": "info@brand-new-phones.example",
            **fields,
        },
    )


def test_an_application_sharing_nothing_passes(engine: sa.Engine) -> None:
    with Session(engine) as session:
        stored(session, stage=Stage.rejected)
        outcome = duplicates_outcome(session, newcomer(session))
    assert outcome.status == CheckStatus.passed


def test_the_same_vat_number_written_otherwise_needs_review_naming_the_other(
    engine: sa.Engine,
) -> None:
    with Session(engine) as session:
        first = stored(session, stage=Stage.withdrawn)
        assert first.vat_number is not None
        spaced = f"{first.vat_number[:2]} {first.vat_number[2:5]} {first.vat_number[5:]}".lower()
        outcome = duplicates_outcome(session, newcomer(session, vat_number=spaced))
    assert outcome.status == CheckStatus.needs_review
    (match,) = outcome.evidence["matches"]
    assert (match["application_id"], match["fields"]) == (str(first.id), ("vat_number",))
    assert str(first.id) in outcome.detail


def test_a_company_mail_domain_is_compared_and_a_public_one_is_not(engine: sa.Engine) -> None:
    with Session(engine) as session:
        stored(session, contact_email="ops@shared-company.example")
        stored(session, contact_email="someone@gmail.com")
        same_domain = newcomer(session, contact_email="sales@Shared-Company.example")
        public = newcomer(session, contact_email="another@gmail.com")
        domain_fields = [m.fields for m in duplicate_matches(session, same_domain)]
        public_matches = duplicate_matches(session, public)
    assert ("email_domain",) in domain_fields
    assert all("email_domain" not in m.fields for m in public_matches)


def test_phone_and_address_are_compared_without_separators(engine: sa.Engine) -> None:
    with Session(engine) as session:
        stored(session, phone="+49 30 1234-567", company_address="Hauptstraße 5, 10115 Berlin")
        app = newcomer(session, phone="0049301234567", company_address="hauptstraße 5 10115 berlin")
        (match,) = duplicate_matches(session, app)
    assert match.fields == ("company_address",), "the phone's country prefix differs"


def test_the_banned_seller_back_under_a_new_name_with_the_same_iban_fails(
    engine: sa.Engine,
) -> None:
    with Session(engine) as session:
        banned = stored(session, stage=Stage.approved, iban=IBAN)
        offboarded(session, banned, fraud=True)
        outcome = duplicates_outcome(session, newcomer(session, iban=IBAN.replace(" ", "")))
    assert outcome.status == CheckStatus.failed
    (match,) = outcome.evidence["matches"]
    assert match["offboarded_for_fraud"] is True
    assert match["fields"] == ("iban",)
    assert "offboarded for fraud" in outcome.detail


def test_an_offboarded_seller_without_fraud_needs_review(engine: sa.Engine) -> None:
    with Session(engine) as session:
        gone = stored(session, stage=Stage.approved, iban=IBAN)
        offboarded(session, gone, fraud=False)
        outcome = duplicates_outcome(session, newcomer(session, iban=IBAN))
    assert outcome.status == CheckStatus.needs_review
    assert "offboarded" in outcome.detail


def test_only_an_exact_identifier_of_a_fraud_seller_fails(engine: sa.Engine) -> None:
    with Session(engine) as session:
        banned = stored(session, stage=Stage.approved, contact_email="boss@fraud-co.example")
        offboarded(session, banned, fraud=True)
        outcome = duplicates_outcome(
            session, newcomer(session, contact_email="new@fraud-co.example")
        )
    assert outcome.status == CheckStatus.needs_review, "a shared mail domain is a lead, not proof"
