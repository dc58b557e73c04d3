"""A sanctions list loaded from the EU format, the application screened against the newest
load, and everyone screened again when a new list is loaded (SQLite and PostgreSQL)."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.cli import sanctions as sanctions_cli
from sellerflow.config import Settings
from sellerflow.models import utcnow
from sellerflow.policy.model import CheckRules
from sellerflow.services.checks import checks_of
from sellerflow.services.sanctions import load_list, newest_list, rescreen, screening
from sellerflow.vocabulary import CheckStatus, SellerStatus, Stage
from tests.policy.test_sanctions import FIXTURE
from tests.support.builders import application_row, seller_row

RULES = CheckRules()


def test_the_loaded_list_screens_the_company_and_its_representative(engine: sa.Engine) -> None:
    with Session(engine) as session:
        assert screening(application_row("p"), newest_list(session), RULES).status == (
            CheckStatus.unavailable
        )
        loaded = load_list(session, FIXTURE.read_bytes(), FIXTURE.name)
        session.commit()
        assert loaded.entries == 3
        label, names = newest_list(session)
        assert label is not None
        assert "2026-11-30" in label
        assert len(names) == 4
        app = application_row("p", legal_representative="Sergei Alexandrovich Volkov")
        outcome = screening(app, (label, names), RULES)
    assert outcome.status == CheckStatus.needs_review
    assert outcome.evidence["hits"][0]["screened"] == "legal_representative"
    assert screening(application_row("p"), (label, names), RULES).status == CheckStatus.passed


def test_a_new_list_screens_active_sellers_and_open_applications_again(
    engine: sa.Engine,
) -> None:
    volkov = {"legal_representative": "Sergei Alexandrovich Volkov"}
    with Session(engine) as session:
        seller_app = application_row("p", stage=Stage.approved, **volkov)
        gone_app = application_row("p", stage=Stage.approved, **volkov)
        open_app = application_row(
            "p", stage=Stage.onboarding_review, legal_name="Baltic Refurb Export GmbH"
        )
        ended_app = application_row("p", stage=Stage.rejected, **volkov)
        session.add_all([seller_app, gone_app, open_app, ended_app])
        session.flush()
        session.add(seller_row(seller_app, status=SellerStatus.active))
        session.add(seller_row(gone_app, status=SellerStatus.offboarded))
        session.flush()
        load_list(session, FIXTURE.read_bytes(), FIXTURE.name)
        screened, hits = rescreen(session, RULES, utcnow())
        session.commit()
        assert (screened, hits) == (2, 2)
        for app, expected in [(seller_app, "needs_review"), (open_app, "needs_review")]:
            (check,) = checks_of(session, app.id)
            assert (check.code, check.status) == ("sanctions", expected)
        assert checks_of(session, gone_app.id) == []
        assert checks_of(session, ended_app.id) == []


def test_the_command_loads_a_file_and_refuses_another_kind(
    engine: sa.Engine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=database_url)
    assert sanctions_cli.main(["load", str(FIXTURE)], settings=settings) == 0
    out = capsys.readouterr().out
    assert "loaded 3 entries" in out
    assert "0 hits" in out
    other = tmp_path / "sdn.xml"
    other.write_text("<sdnList/>")
    assert sanctions_cli.main(["load", str(other)], settings=settings) == 2
    with Session(engine) as session:
        assert len(newest_list(session)[1]) == 4, "the refused file loaded nothing"
