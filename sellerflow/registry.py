"""Company registry look-up as a port; the local adapter checks the number's shape only."""

import re
from enum import StrEnum
from typing import Protocol


class RegistryAnswer(StrEnum):
    found = "found"
    not_found = "not_found"
    unavailable = "unavailable"


class CompanyRegistry(Protocol):
    # Who answered, as the reviewer reads it beside the check's result.
    source: str

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryAnswer:
        """Whether the registry knows this company; `unavailable` means try again later."""
        ...


class LocalRegistry:
    """Stands in for national registries: a plausible number is taken as found."""

    source = "local shape check (no national register configured)"
    _PLAUSIBLE = re.compile(r"^[A-Z0-9][A-Z0-9 ./-]{3,63}$", re.IGNORECASE)

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryAnswer:
        if self._PLAUSIBLE.match(registration_number.strip()):
            return RegistryAnswer.found
        return RegistryAnswer.not_found
