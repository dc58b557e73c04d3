"""The registers' checks through the HTTP adapters and the dev fake: each outcome as the
reviewer reads it, and an outage the sweeper's re-check recovers from."""

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from temporalio.testing import ActivityEnvironment

from activities.applications import ApplicationActivities
from sellerflow.db import session_scope
from sellerflow.models import Application, ApplicationCheck, SellerAction
from sellerflow.payloads import RecheckChecksInput, VerifyApplicationInput
from sellerflow.policy.model import Policy
from sellerflow.registries.fake import FakeRegisters
from sellerflow.registries.http import HttpCompanyRegistry, HttpVatRegistry
from sellerflow.services.checks import checks_of
from sellerflow.services.sanctions import load_list
from tests.policy.test_sanctions import FIXTURE
from tests.support.builders import application_row, seller_row

KNOWN = {
    "legal_name": "Refurb Works GmbH",
    "registration_number": "HRB 123456",
    "vat_number": "DE136695976",
    "company_address": "Hauptstr. 5, 10115 Berlin",
}


def activities(engine: sa.Engine, fake: FakeRegisters) -> ApplicationActivities:
    return ApplicationActivities(
        engine, HttpCompanyRegistry(fake.url), vat_registry=HttpVatRegistry(fake.url)
    )


def verified(
    engine: sa.Engine, policy: Policy, fake: FakeRegisters, **fields: Any
) -> tuple[Application, dict[str, ApplicationCheck]]:
    app = application_row(policy.version, **{**KNOWN, **fields})
    with session_scope(engine) as session:
        session.add(app)
    checker = activities(engine, fake)
    inp = VerifyApplicationInput(application_id=str(app.id), policy=policy, as_of=datetime.now(UTC))
    ActivityEnvironment().run(checker.verify_application, inp)
    return app, recorded(engine, app)


def recorded(engine: sa.Engine, app: Application) -> dict[str, ApplicationCheck]:
    with session_scope(engine) as session:
        return {c.code.value: c for c in checks_of(session, app.id)}


def test_a_company_the_registers_know_under_its_name_and_address_passes(
    engine: sa.Engine, policy: Policy, fake_registers: FakeRegisters
) -> None:
    _, checks = verified(engine, policy, fake_registers)
    assert checks["company_registry"].status == "passed"
    assert checks["vat_registry"].status == "passed"
    assert checks["company_registry"].evidence["registered_address"] == (
        "Hauptstraße 5, 10115 Berlin"
    )


def test_another_name_in_the_registers_needs_review_with_the_evidence(
    engine: sa.Engine, policy: Policy, fake_registers: FakeRegisters
) -> None:
    _, checks = verified(engine, policy, fake_registers, legal_name="Quick Phones Trading UG")
    for code in ("company_registry", "vat_registry"):
        check = checks[code]
        assert check.status == "needs_review"
        assert check.evidence["registered_name"] == "Refurb Works GmbH"
        assert check.evidence["application_name"] == "Quick Phones Trading UG"
        assert check.evidence["name_score"] < policy.checks.name_match_min_score


def test_a_dissolved_company_fails(
    engine: sa.Engine, policy: Policy, fake_registers: FakeRegisters
) -> None:
    _, checks = verified(
        engine,
        policy,
        fake_registers,
        legal_name="Alte Elektronik GmbH",
        registration_number="HRB 99999",
        company_address="Ringstraße 1, 50667 Köln",
    )
    assert checks["company_registry"].status == "failed"
    assert "dissolved" in checks["company_registry"].detail


def test_an_outage_is_unavailable_then_the_recheck_records_the_answer(
    engine: sa.Engine, policy: Policy, fake_registers: FakeRegisters
) -> None:
    fake_registers.down = True
    app, checks = verified(engine, policy, fake_registers)
    assert {checks[c].status for c in ("company_registry", "vat_registry")} == {"unavailable"}
    first_retry = checks["company_registry"].next_attempt_at
    assert first_retry is not None

    checker = activities(engine, fake_registers)
    env = ActivityEnvironment()
    too_early = env.run(checker.recheck_checks, RecheckChecksInput(at=first_retry - timedelta(1)))
    assert too_early.asked == 0, "the backoff is waited out"

    still_down = env.run(checker.recheck_checks, RecheckChecksInput(at=first_retry))
    assert (still_down.asked, still_down.still_unavailable) == (2, 2)
    again = recorded(engine, app)["company_registry"]
    assert again.attempts == 2
    assert again.next_attempt_at is not None
    assert again.next_attempt_at - first_retry > first_retry - checks["company_registry"].checked_at

    fake_registers.down = False
    recovered = env.run(checker.recheck_checks, RecheckChecksInput(at=again.next_attempt_at))
    assert (recovered.asked, recovered.still_unavailable) == (2, 0)
    after = recorded(engine, app)
    assert {after[c].status for c in ("company_registry", "vat_registry")} == {"passed"}
    assert after["company_registry"].next_attempt_at is None


def test_the_representative_on_the_loaded_sanctions_list_needs_review(
    engine: sa.Engine, policy: Policy, fake_registers: FakeRegisters
) -> None:
    with session_scope(engine) as session:
        load_list(session, FIXTURE.read_bytes(), FIXTURE.name)
    _, checks = verified(
        engine, policy, fake_registers, legal_representative="Sergei Alexandrovich Volkov"
    )
    assert checks["sanctions"].status == "needs_review"
    (hit,) = checks["sanctions"].evidence["hits"]
    assert (hit["listed"]["alias"], hit["screened"]) == (
        "Sergey Alexandrovich Volkov",
        "legal_representative",
    )
    assert hit["score"] >= policy.checks.sanctions_min_score


def test_the_banned_seller_back_under_a_new_name_fails_at_verification(
    engine: sa.Engine, policy: Policy, fake_registers: FakeRegisters
) -> None:
    iban = "DE89 3704 0044 0532 0130 00"
    with session_scope(engine) as session:
        banned = application_row(policy.version, stage="approved", iban=iban)
        session.add(banned)
        session.flush()
        seller = seller_row(banned, status="offboarded")
        session.add(seller)
        session.flush()
        banned.seller_id = seller.id
        session.add(
            SellerAction(
                seller_id=seller.id,
                idempotency_key=f"fraud:{seller.id}",
                from_status="active",
                to_status="offboarded",
                action="offboard",
                actor="ops",
                reason={"summary": "manual offboard", "ground": "fraud"},
            )
        )
    _, checks = verified(
        engine,
        policy,
        fake_registers,
        legal_name="Fresh Start Devices GmbH",
        registration_number="HRB 555555",
        vat_number=None,
        contact_email="hello@fresh-start.example",
        iban=iban,
    )
    assert checks["duplicates"].status == "failed"
    assert checks["duplicates"].evidence["matches"][0]["application_id"] == str(banned.id)
