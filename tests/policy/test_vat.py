"""EU VAT numbers: formats and check digits, on numbers of real companies and their typos."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import vat_format_error
from sellerflow.policy.vat import is_valid

# Published VAT numbers of well-known companies (and the tax offices' own examples).
REAL = [
    ("DE", "DE136695976"),
    ("DE", "DE811569869"),
    ("DE", "DE129273398"),
    ("AT", "ATU13585627"),
    ("BE", "BE0411905847"),
    ("BE", "BE0403170701"),
    ("FR", "FR40303265045"),
    ("FR", "FR23334175221"),
    ("FR", "FRK7399859412"),
    ("NL", "NL004495445B01"),
    ("NL", "NL000099998B57"),
    ("IT", "IT00743110157"),
    ("IT", "IT00488410010"),
    ("ES", "ESA28015865"),
    ("ES", "ESQ2826000H"),
    ("ES", "ES12345678Z"),
    ("ES", "ESX1234567L"),
    ("PL", "PL5260250274"),
    ("PL", "PL8567346215"),
    ("PT", "PT980405319"),
    ("DK", "DK13585628"),
    ("FI", "FI20774740"),
    ("LU", "LU15027442"),
    ("SE", "SE556703748501"),
    ("GR", "EL094259216"),
]

# The right format, the wrong check digits: the typos a format check lets through.
WRONG_CHECK = [
    ("DE", "DE123456789"),
    ("DE", "DE136695977"),
    ("AT", "ATU13585626"),
    ("BE", "BE0411905848"),
    ("FR", "FR41303265045"),
    ("FR", "FR84323140391"),
    ("NL", "NL004495446B01"),
    ("IT", "IT00743110158"),
    ("IT", "IT12345678901"),
    ("ES", "ESA28015864"),
    ("ES", "ES12345678A"),
    ("PL", "PL5260250275"),
    ("PT", "PT980405318"),
    ("DK", "DK13585629"),
    ("FI", "FI20774741"),
    ("LU", "LU15027443"),
    ("SE", "SE556703748601"),
    ("GR", "EL094259217"),
]

MALFORMED = [
    ("DE", "DE13669597"),
    ("DE", "DE1366959760"),
    ("DE", "DEA36695976"),
    ("DE", "FR40303265045"),
    ("DE", "136695976"),
    ("FR", "FR4030326504"),
    ("FR", "FRIO303265045"),
    ("NL", "NL004495445"),
    ("NL", "NL004495445A01"),
    ("NL", "NL004495445B1"),
    ("BE", "BE2411905847"),
    ("AT", "AT13585627"),
    ("GR", "GR094259216"),
    ("SE", "SE556703748502"),
]


@pytest.mark.parametrize(("country", "vat"), REAL)
def test_real_numbers_are_valid(policy: Policy, country: str, vat: str) -> None:
    assert is_valid(country, vat)
    assert vat_format_error(policy, country, vat) is None


@pytest.mark.parametrize(("country", "vat"), WRONG_CHECK + MALFORMED)
def test_wrong_check_digits_and_formats_are_invalid(policy: Policy, country: str, vat: str) -> None:
    assert not is_valid(country, vat)
    assert vat_format_error(policy, country, vat) == "vat_number_invalid"


@pytest.mark.parametrize(
    ("country", "vat"),
    [("DE", "de 136 695 976"), ("DE", "DE-136.695.976"), ("NL", "nl 0044.95.445.b01")],
)
def test_separators_and_case_do_not_matter(country: str, vat: str) -> None:
    assert is_valid(country, vat)


def test_every_country_with_a_real_example_has_a_typo() -> None:
    assert {c for c, _ in WRONG_CHECK} == {c for c, _ in REAL}


# A German number never starts with 0.
GERMAN_BODIES = st.from_regex(r"[1-9][0-9]{7}", fullmatch=True)


@given(GERMAN_BODIES)
def test_exactly_one_german_check_digit_fits(body: str) -> None:
    assert sum(is_valid("DE", f"DE{body}{digit}") for digit in range(10)) == 1


@given(GERMAN_BODIES, st.integers(0, 7), st.integers(1, 9))
def test_german_check_digit_catches_every_single_digit_typo(
    body: str, position: int, shift: int
) -> None:
    number = next(f"{body}{d}" for d in range(10) if is_valid("DE", f"DE{body}{d}"))
    typo = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert not is_valid("DE", f"DE{typo}")


@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_polish_numbers_have_at_most_one_check_digit(body: str) -> None:
    assert sum(is_valid("PL", f"PL{body}{digit}") for digit in range(10)) <= 1
