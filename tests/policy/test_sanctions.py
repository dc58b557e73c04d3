"""Sanctions screening of names: transliterated and fuzzy ("Sergei" is "Sergey", a Cyrillic
alias is read in Latin letters), scored, and a hit only from the policy's threshold."""

from pathlib import Path

import pytest

from sellerflow.config import PROJECT_ROOT
from sellerflow.policy.matching import normalised_name
from sellerflow.policy.model import CheckRules
from sellerflow.policy.sanctions import ListedName, sanctions_check, screen
from sellerflow.sanctions_list import NotASanctionsList, entities, generation_date
from sellerflow.vocabulary import CheckStatus

FIXTURE = PROJECT_ROOT / "sellerflow" / "data" / "eu-sanctions-fixture.xml"
MIN = CheckRules().sanctions_min_score


def listed_names(path: Path = FIXTURE) -> list[ListedName]:
    with path.open("rb") as source:
        return [
            ListedName(e.logical_id, e.reference, e.subject_type, e.names[0], n, normalised_name(n))
            for e in entities(source)
            for n in e.names
        ]


def test_the_fixture_reads_as_the_eu_list() -> None:
    with FIXTURE.open("rb") as source:
        found = list(entities(source))
    with FIXTURE.open("rb") as source:
        assert generation_date(source) == "2026-11-30T10:00:00.000+01:00"
    assert [(e.logical_id, e.subject_type) for e in found] == [
        ("900001", "person"),
        ("900002", "person"),
        ("900003", "enterprise"),
    ]
    assert found[2].names == ("Baltic Refurb Export OOO", "ООО Балтик Рефурб Экспорт")  # noqa: RUF001
    assert found[0].reference == "EU.9001.01"


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.xml"
    other.write_text("<sdnList><sdnEntry/></sdnList>")
    with other.open("rb") as source, pytest.raises(NotASanctionsList):
        generation_date(source)


def test_sergei_is_sergey() -> None:
    (hit,) = screen({"legal_representative": "Sergei Alexandrovich Volkov"}, listed_names(), MIN)
    assert hit.listed.alias == "Sergey Alexandrovich Volkov"
    assert hit.listed.reference == "EU.9001.01"
    assert MIN <= hit.score < 100


def test_a_cyrillic_alias_is_found_from_the_latin_name() -> None:
    (hit,) = screen({"legal_representative": "Dmitry Smirnov"}, listed_names(), MIN)
    assert hit.listed.alias == "Дмитрий Смирнов"


def test_a_listed_company_under_another_legal_form_is_found() -> None:
    (hit,) = screen({"company": "Baltic Refurb Export GmbH"}, listed_names(), MIN)
    assert (hit.screened, hit.listed.subject_type, hit.score) == ("company", "enterprise", 100)


def test_other_names_are_not_hits_and_the_threshold_is_the_policys() -> None:
    names = listed_names()
    clean = {"company": "Refurb Works GmbH", "legal_representative": "Ada Example"}
    assert screen(clean, names, MIN) == []
    partial = {"legal_representative": "Sergei Volkov"}
    assert screen(partial, names, MIN) == []
    assert screen(partial, names, 50) != []


def test_the_check_needs_review_on_a_hit_and_is_unavailable_without_a_list() -> None:
    hits = screen({"legal_representative": "Sergei Alexandrovich Volkov"}, listed_names(), MIN)
    outcome = sanctions_check(hits, "fixture", MIN)
    assert outcome.status == CheckStatus.needs_review
    assert outcome.evidence["hits"][0]["listed"]["reference"] == "EU.9001.01"
    assert "Sergey Alexandrovich Volkov" in outcome.detail
    assert sanctions_check([], "fixture", MIN).status == CheckStatus.passed
    assert sanctions_check([], None, MIN).status == CheckStatus.unavailable
