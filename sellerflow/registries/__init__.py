"""The registers an application is checked against, as ports: the national company register
(registration number → name, status, address) and a VIES-like VAT registry (VAT number →
valid or not, registered name and address). `sellerflow.registries.http` holds their HTTP
adapters, `sellerflow.registries.fake` the dev and test server they talk to; without a
configured URL the company register is the local shape check below and no VAT registry is asked."""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class RegistryAnswer(StrEnum):
    found = "found"
    not_found = "not_found"
    unavailable = "unavailable"


class CompanyStatus(StrEnum):
    active = "active"
    dissolved = "dissolved"


@dataclass(frozen=True)
class RegistryRecord:
    """What a register answered; name, address and status only when it found the company (a
    shape check knows none of them)."""

    answer: RegistryAnswer
    name: str | None = None
    address: str | None = None
    status: CompanyStatus | None = None


UNAVAILABLE = RegistryRecord(RegistryAnswer.unavailable)


class CompanyRegistry(Protocol):
    # Who answered, as the reviewer reads it beside the check's result.
    source: str

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryRecord:
        """What the register knows of this company; `unavailable` means try again later."""
        ...


class VatRegistry(Protocol):
    source: str

    def check_vat(self, vat_number: str) -> RegistryRecord:
        """`found`: a valid, registered VAT number (VIES's "valid"); `not_found`: invalid."""
        ...


@dataclass(frozen=True)
class Registers:
    """The registers the worker asks; no VAT registry: the check digits are all there is."""

    companies: CompanyRegistry
    vat: VatRegistry | None = None


class LocalRegistry:
    """Stands in for national registries: a plausible number is taken as found."""

    source = "local shape check (no national register configured)"
    _PLAUSIBLE = re.compile(r"^[A-Z0-9][A-Z0-9 ./-]{3,63}$", re.IGNORECASE)

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryRecord:
        if self._PLAUSIBLE.match(registration_number.strip()):
            return RegistryRecord(RegistryAnswer.found)
        return RegistryRecord(RegistryAnswer.not_found)
