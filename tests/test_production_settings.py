"""Outside dev mode the API and the worker refuse to start while a secret keeps the value this
project ships: one line on stderr naming each such variable, exit status 1. Dev mode (`make run`)
keeps its defaults."""

import os
import subprocess
import sys

import pytest

from api.main import create_app
from sellerflow.config import PROJECT_ROOT, Settings, default_secrets, refuse_default_secrets

SHIPPED_DATABASE = "postgresql://sellerflow:sellerflow@127.0.0.1:1/sellerflow"
OFFENDING = [
    "SELLERFLOW_SECRET_KEY",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "DATABASE_URL (its password)",
]
OWN_SECRETS = {
    "sellerflow_secret_key": "a-secret-of-our-own-" + "x" * 40,
    "s3_access_key_id": "our-key",
    "s3_secret_access_key": "our-s3-secret",
    "database_url": "postgresql://sellerflow:our-password@127.0.0.1:1/sellerflow",
}


def start(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A process as the image starts it, with nothing of the test's environment but PATH."""
    variables = {"PATH": os.environ["PATH"], "TEMPORAL_ADDRESS": "127.0.0.1:1", **env}
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=variables, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "-c", "import api.main"], id="api"),
        pytest.param([sys.executable, "worker.py"], id="worker"),
    ],
)
def test_a_production_process_refuses_the_built_in_secrets(command: list[str]) -> None:
    started = start(*command, SELLERFLOW_DEV_MODE="false", DATABASE_URL=SHIPPED_DATABASE)
    assert started.returncode == 1, started.stderr
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1, started.stderr
    assert lines[0].startswith("refusing to start with SELLERFLOW_DEV_MODE=false: ")
    for name in OFFENDING:
        assert name in lines[0]


def test_the_line_names_only_the_secrets_left_at_their_default() -> None:
    settings = Settings(
        sellerflow_dev_mode=False, **{**OWN_SECRETS, "s3_access_key_id": "sellerflow"}
    )
    with pytest.raises(SystemExit) as refused:
        create_app(settings)
    assert "S3_ACCESS_KEY_ID" in str(refused.value)
    for name in ("SELLERFLOW_SECRET_KEY", "S3_SECRET_ACCESS_KEY", "DATABASE_URL"):
        assert name not in str(refused.value)


def test_secrets_of_its_own_let_a_production_process_start() -> None:
    settings = Settings(sellerflow_dev_mode=False, **OWN_SECRETS)  # type: ignore[arg-type]
    assert default_secrets(settings) == []
    create_app(settings)


def test_dev_mode_keeps_its_defaults() -> None:
    settings = Settings(database_url=SHIPPED_DATABASE)
    assert settings.sellerflow_dev_mode
    assert default_secrets(settings) == OFFENDING
    refuse_default_secrets(settings)
    create_app(settings)
