"""EU VAT numbers: the country's format, and its check digits where the country defines them.

The algorithms are the ones the national tax administrations publish (summarised in the
European Commission's VIES/TIN documentation). A number that passes is well formed, not
necessarily registered: that is the registry port's job.
"""

import re
from collections.abc import Callable, Sequence

FORMATS = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EL": r"\d{9}",
    "ES": r"[0-9A-Z]\d{7}[0-9A-Z]",
    "FI": r"\d{8}",
    "FR": r"[0-9A-HJ-NP-Z]{2}\d{9}",
    "IE": r"\d[0-9A-Z+*]\d{5}[A-Z]{1,2}",
    "IT": r"\d{11}",
    "LU": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "SE": r"\d{10}01",
}
GENERIC_FORMAT = r"[0-9A-Z]{8,12}"
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def normalize(vat_number: str) -> str:
    return re.sub(r"[\s.\-]", "", vat_number).upper()


def prefix_for(country: str) -> str:
    """Greece writes EL in VAT numbers, not its ISO code GR."""
    return "EL" if country == "GR" else country


def is_valid(country: str, vat_number: str) -> bool:
    """Whether the number has the country's prefix, format and (where defined) check digits."""
    number, prefix = normalize(vat_number), prefix_for(country)
    if not number.startswith(prefix):
        return False
    body = number[len(prefix) :]
    if not re.fullmatch(FORMATS.get(prefix, GENERIC_FORMAT), body):
        return False
    check = CHECK_DIGITS.get(prefix)
    return check is None or check(body)


def _weighted(digits: str, weights: Sequence[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


def _luhn_total(digits: str, doubled: int) -> int:
    """Sum of the digits, those at positions of parity `doubled` doubled and digit-summed."""
    total = 0
    for position, char in enumerate(digits):
        value = int(char) * (2 if position % 2 == doubled else 1)
        total += value // 10 + value % 10
    return total


def _germany(body: str) -> bool:
    # ISO 7064 MOD 11,10.
    product = 10
    for char in body[:8]:
        product = 2 * ((int(char) + product) % 10 or 10) % 11
    return (11 - product) % 10 == int(body[8])


def _austria(body: str) -> bool:
    digits = body[1:]
    return (10 - (_luhn_total(digits[:7], 1) + 4) % 10) % 10 == int(digits[7])


def _belgium(body: str) -> bool:
    return 97 - int(body[:8]) % 97 == int(body[8:])


def _france(body: str) -> bool:
    key, siren = body[:2], body[2:]
    # New-style keys with letters have no published check here: their format is checked only.
    return not key.isdigit() or int(key) == int(siren + "12") % 97


def _italy(body: str) -> bool:
    return _luhn_total(body, 1) % 10 == 0


def _netherlands(body: str) -> bool:
    # Companies: the RSIN's eleven-test. Sole traders since 2020: ISO 7064 MOD 97-10 over
    # "NL" + number, letters as 10..35 (N=23, L=21, B=11).
    digits = body[:9]
    eleven_test = _weighted(digits[:8], range(9, 1, -1)) % 11 == int(digits[8])
    return eleven_test or int("2321" + body.replace("B", "11")) % 97 == 1


def _poland(body: str) -> bool:
    return _weighted(body[:9], (6, 5, 7, 2, 3, 4, 5, 6, 7)) % 11 == int(body[9])


def _spain(body: str) -> bool:
    first, digits, last = body[0], body[1:8], body[8]
    if first.isdigit():  # DNI of a natural person: eight digits and a letter
        return last == _DNI_LETTERS[int(body[:8]) % 23]
    if first in "XYZ":  # NIE of a foreign resident
        return last == _DNI_LETTERS[int(str("XYZ".index(first)) + digits) % 23]
    if first in "KLM":
        return last == _DNI_LETTERS[int(digits) % 23]
    control = (10 - _luhn_total(digits, 0) % 10) % 10  # CIF of a legal entity
    return last in (str(control), "JABCDEFGHI"[control])


def _portugal(body: str) -> bool:
    check = 11 - _weighted(body[:8], range(9, 1, -1)) % 11
    return (0 if check >= 10 else check) == int(body[8])


def _denmark(body: str) -> bool:
    return _weighted(body, (2, 7, 6, 5, 4, 3, 2, 1)) % 11 == 0


def _finland(body: str) -> bool:
    check = (11 - _weighted(body[:7], (7, 9, 10, 5, 8, 4, 2)) % 11) % 11
    return check == int(body[7])


def _luxembourg(body: str) -> bool:
    return int(body[:6]) % 89 == int(body[6:])


def _sweden(body: str) -> bool:
    return _luhn_total(body[:10], 0) % 10 == 0


CHECK_DIGITS: dict[str, Callable[[str], bool]] = {
    "AT": _austria,
    "BE": _belgium,
    "DE": _germany,
    "DK": _denmark,
    "ES": _spain,
    "FI": _finland,
    "FR": _france,
    "IT": _italy,
    "LU": _luxembourg,
    "NL": _netherlands,
    "PL": _poland,
    "PT": _portugal,
    "SE": _sweden,
}
