"""The HTTP adapters of the registers against the dev fake: a record, a number the register does
not know, a dissolved company, and every way of not answering is `unavailable`."""

import pytest

from sellerflow.cli.devstack import free_port
from sellerflow.registries import CompanyStatus, RegistryAnswer, RegistryRecord
from sellerflow.registries.fake import FakeRegisters
from sellerflow.registries.http import HttpCompanyRegistry, HttpVatRegistry


def test_the_register_answers_with_name_status_and_address(fake_registers: FakeRegisters) -> None:
    record = HttpCompanyRegistry(fake_registers.url).lookup("DE", "HRB 123456", "Refurb Works GmbH")
    assert record == RegistryRecord(
        RegistryAnswer.found,
        name="Refurb Works GmbH",
        address="Hauptstraße 5, 10115 Berlin",
        status=CompanyStatus.active,
    )


def test_a_dissolved_company_is_found_as_dissolved(fake_registers: FakeRegisters) -> None:
    record = HttpCompanyRegistry(fake_registers.url).lookup("DE", "HRB 99999", "Alte Elektronik")
    assert (record.answer, record.status) == (RegistryAnswer.found, CompanyStatus.dissolved)


def test_an_unknown_number_is_not_found(fake_registers: FakeRegisters) -> None:
    record = HttpCompanyRegistry(fake_registers.url).lookup("DE", "HRB 1", "Nobody GmbH")
    assert record.answer == RegistryAnswer.not_found


def test_the_vat_registry_answers_valid_or_invalid(fake_registers: FakeRegisters) -> None:
    vies = HttpVatRegistry(fake_registers.url)
    valid = vies.check_vat("DE 136 695 976")
    assert (valid.answer, valid.name) == (RegistryAnswer.found, "Refurb Works GmbH")
    assert vies.check_vat("DE811907980").answer == RegistryAnswer.not_found


def test_an_outage_is_unavailable_not_a_refusal(fake_registers: FakeRegisters) -> None:
    fake_registers.down = True
    assert HttpCompanyRegistry(fake_registers.url).lookup("DE", "HRB 123456", "x").answer == (
        RegistryAnswer.unavailable
    )
    assert HttpVatRegistry(fake_registers.url).check_vat("DE136695976").answer == (
        RegistryAnswer.unavailable
    )


@pytest.mark.timeout(30)
def test_a_register_nobody_listens_on_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert HttpCompanyRegistry(url, timeout=2).lookup("DE", "HRB 123456", "x").answer == (
        RegistryAnswer.unavailable
    )
