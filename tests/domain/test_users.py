"""The staff-user command: add, list, disable, enable and reset a password."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from sellerflow.cli.users import main
from sellerflow.config import get_settings
from sellerflow.db import make_engine, session_scope, upgrade_schema
from sellerflow.models import StaffUser
from sellerflow.security import verify_password


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    upgrade_schema(url)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def user(url: str, name: str) -> StaffUser:
    with session_scope(make_engine(url)) as session:
        return session.exec(select(StaffUser).where(StaffUser.username == name)).one()


def test_add_list_disable_enable_and_reset(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["add", "rita", "--role", "ssm", "--role", "ops", "--password", "first-pass"]) == 0
    assert user(database, "rita").role_list == ["ssm", "ops"]
    assert verify_password(user(database, "rita").password_hash, "first-pass")

    assert main(["list"]) == 0
    assert capsys.readouterr().out.strip() == "rita\tssm,ops\tactive"

    assert main(["disable", "rita"]) == 0
    assert user(database, "rita").disabled
    assert main(["enable", "rita"]) == 0
    assert not user(database, "rita").disabled

    assert main(["reset-password", "rita", "--password", "second-pass"]) == 0
    assert verify_password(user(database, "rita").password_hash, "second-pass")
    assert not verify_password(user(database, "rita").password_hash, "first-pass")


def test_unknown_user_and_unknown_role_are_refused(database: str) -> None:
    assert main(["disable", "nobody"]) == 1
    with pytest.raises(SystemExit):
        main(["add", "x", "--role", "admin", "--password", "p"])
