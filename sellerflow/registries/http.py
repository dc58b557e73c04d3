"""HTTP adapters of the register ports: any answer other than a record or a 404 (a timeout, a
refused connection, a 5xx) is `unavailable`, never a refusal."""

from urllib.parse import quote

import httpx

from sellerflow.registries import UNAVAILABLE, CompanyStatus, RegistryAnswer, RegistryRecord


def _record(client: httpx.Client, path: str, valid_key: str | None = None) -> RegistryRecord:
    try:
        response = client.get(path)
    except httpx.HTTPError:
        return UNAVAILABLE
    if response.status_code == httpx.codes.NOT_FOUND:
        return RegistryRecord(RegistryAnswer.not_found)
    if response.status_code != httpx.codes.OK:
        return UNAVAILABLE
    try:
        body = response.json()
    except ValueError:
        return UNAVAILABLE
    if valid_key is not None and not body.get(valid_key):
        return RegistryRecord(RegistryAnswer.not_found)
    status = body.get("status")
    return RegistryRecord(
        RegistryAnswer.found,
        name=body.get("name"),
        address=body.get("address"),
        status=CompanyStatus(status) if status in CompanyStatus.__members__ else None,
    )


class HttpCompanyRegistry:
    """`GET {base}/companies/{country}/{registration number}`: 200 with name, status, address;
    404 when the register does not know the number."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.source = f"company register at {base_url}"
        self._client = httpx.Client(base_url=base_url, timeout=timeout)

    def lookup(self, country: str, registration_number: str, legal_name: str) -> RegistryRecord:
        number = quote(registration_number.strip(), safe="")
        return _record(self._client, f"/companies/{country}/{number}")


class HttpVatRegistry:
    """`GET {base}/vat/{VAT number}`, shaped like VIES's answer: `{valid, name, address}`."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.source = f"VAT registry (VIES-like) at {base_url}"
        self._client = httpx.Client(base_url=base_url, timeout=timeout)

    def check_vat(self, vat_number: str) -> RegistryRecord:
        number = quote(vat_number.replace(" ", "").upper(), safe="")
        return _record(self._client, f"/vat/{number}", valid_key="valid")
