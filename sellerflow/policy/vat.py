"""EU VAT numbers: the country's prefix, its format and its check digits, as python-stdnum
knows them for every member state (the tax administrations' published algorithms). A number
that passes is well formed, not necessarily registered: that is the registry's job."""

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError


def prefix_for(country: str) -> str:
    """Greece writes EL in VAT numbers, not its ISO code GR."""
    return "EL" if country == "GR" else country


def is_valid(country: str, vat_number: str) -> bool:
    """Whether the number (spaces, dots, dashes and case aside) is a valid VAT number of
    `country`."""
    try:
        number = eu_vat.validate(vat_number)
    except ValidationError:
        return False
    return number.startswith(prefix_for(country))
