"""docker-compose.yml, its SeaweedFS identities and the Dockerfile, checked without Docker."""

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sellerflow.config import PRODUCTION_SETTINGS, SHIPPED_SECRETS, Settings, default_secrets
from sellerflow.search_attributes import KEYWORDS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ONE_SHOTS = {"temporal-setup", "migrate"}
APP_SERVICES = ("api", "worker", "migrate")
# `${VAR:-default}` (or `-`, `:?error`, `?error`); `$$` is compose's escape for a literal `$`.
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])(.*?))?\}")
# The secrets compose must take from the environment, with no fallback; what the tests set.
SECRETS = {
    "SELLERFLOW_SECRET_KEY": "test-secret-key-" + "k" * 40,
    "POSTGRES_PASSWORD": "test-database-password",
    "S3_ACCESS_KEY_ID": "test-app-key",
    "S3_SECRET_ACCESS_KEY": "test-app-secret",
    "S3_ADMIN_ACCESS_KEY_ID": "test-admin-key",
    "S3_ADMIN_SECRET_ACCESS_KEY": "test-admin-secret",
}


def strings(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif node is not None:
        yield str(node)


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's interpolation of `text` when only `variables` are set (KeyError: compose would
    refuse to start, the variable being required)."""

    def value(match: re.Match[str]) -> str:
        if match[1] in variables:
            return variables[match[1]]
        if match[2] == "?":
            raise KeyError(match[1])
        return match[3] or ""

    return INTERPOLATION.sub(value, text)


def environment(service: str, variables: dict[str, str] = SECRETS) -> dict[str, str]:
    """The service's environment as compose passes it when only `variables` are set."""
    env = SERVICES[service].get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolate(str(v), variables) for key, v in env.items()}


def every_environment(variables: dict[str, str]) -> dict[str, dict[str, str]]:
    return {service: environment(service, variables) for service in SERVICES}


def dockerfile_instructions() -> list[str]:
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_all_services_are_defined() -> None:
    expected = {"postgres", "temporal", "temporal-setup", "temporal-ui", "s3", "mailpit"}
    assert expected | {"migrate", "api", "worker"} <= set(SERVICES)


def test_app_services_build_from_the_dockerfile_and_run_their_process() -> None:
    for name in APP_SERVICES:
        build = SERVICES[name]["build"]
        if isinstance(build, str):
            build = {"context": build}
        dockerfile = ROOT / build["context"] / build.get("dockerfile", "Dockerfile")
        assert dockerfile.resolve() == ROOT / "Dockerfile", name
    assert "command" not in SERVICES["api"]  # the image's CMD serves the API
    assert SERVICES["worker"]["command"] == ["python", "worker.py"]
    assert "alembic upgrade head" in " ".join(SERVICES["migrate"]["command"])


def test_production_settings_are_settings_fields() -> None:
    assert set(PRODUCTION_SETTINGS) <= set(Settings.model_fields)


def test_app_services_share_one_environment_with_every_production_setting() -> None:
    env = environment("api")
    assert environment("worker") == env
    admin_key = {
        "S3_ACCESS_KEY_ID": SECRETS["S3_ADMIN_ACCESS_KEY_ID"],
        "S3_SECRET_ACCESS_KEY": SECRETS["S3_ADMIN_SECRET_ACCESS_KEY"],
    }
    assert environment("migrate") == env | admin_key  # the bucket is created with the admin key
    missing = set(PRODUCTION_SETTINGS) - {key.lower() for key in env}
    assert not missing, f"not set for api, worker and migrate: {sorted(missing)}"


def test_app_environment_is_a_production_configuration() -> None:
    settings = Settings(**{key.lower(): value for key, value in environment("api").items()})
    defaults = Settings.model_fields
    assert settings.sellerflow_dev_mode is False
    assert settings.database_url.startswith("postgresql://")
    assert settings.sellerflow_secret_key != defaults["sellerflow_secret_key"].default
    assert default_secrets(settings) == []
    assert settings.smtp_url == "smtp://mailpit:1025"
    assert settings.s3_public_endpoint_url != settings.s3_endpoint_url


def test_every_interpolation_has_a_default_or_an_error_message() -> None:
    for text in strings(COMPOSE):
        for match in re.finditer(r"\$(\{[^}]*\}|\w*)", text.replace("$$", "")):
            assert re.fullmatch(r"\$\{\w+:?[-?].+\}", match[0]), f"{match[0]} in {text!r}"


def test_long_running_services_have_healthchecks() -> None:
    for name, service in SERVICES.items():
        if name in ONE_SHOTS:
            assert service.get("restart", "no") == "no", name
            continue
        check = service.get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"


def test_dependencies_wait_for_health_or_completion() -> None:
    for name, service in SERVICES.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for target, rule in depends_on.items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            if target in ONE_SHOTS:
                assert rule["condition"] == "service_completed_successfully", (name, target)
            else:
                assert rule["condition"] == "service_healthy", (name, target)
                assert "healthcheck" in SERVICES[target], (name, target)
    for name in ("api", "worker"):
        assert {"migrate", "temporal-setup", "temporal", "s3"} <= set(SERVICES[name]["depends_on"])


def test_temporal_setup_registers_the_workflow_search_attributes() -> None:
    script = " ".join(SERVICES["temporal-setup"]["command"])
    assert "--type Keyword" in script
    for key in KEYWORDS:
        assert re.search(rf"\b{key.name}\b", script), key.name


def test_secrets_come_from_the_environment_with_no_fallback() -> None:
    used = {m[1]: m[0] for text in strings(COMPOSE) for m in INTERPOLATION.finditer(text)}
    for name in SECRETS:
        assert name in used, f"{name} is not used"
    for text in strings(COMPOSE):
        for match in INTERPOLATION.finditer(text):
            if match[1] in SECRETS:
                assert match[0].startswith(f"${{{match[1]}:?"), f"{match[0]} has a fallback"
    for name in SECRETS:
        missing = {key: value for key, value in SECRETS.items() if key != name}
        with pytest.raises(KeyError, match=name):
            every_environment(missing)
    env = environment("api")
    assert env["SELLERFLOW_SECRET_KEY"] == SECRETS["SELLERFLOW_SECRET_KEY"]
    assert env["S3_ACCESS_KEY_ID"] == SECRETS["S3_ACCESS_KEY_ID"]
    assert env["S3_SECRET_ACCESS_KEY"] == SECRETS["S3_SECRET_ACCESS_KEY"]
    assert f":{SECRETS['POSTGRES_PASSWORD']}@" in env["DATABASE_URL"]
    assert environment("postgres")["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]


def test_no_s3_identity_is_committed() -> None:
    mounted = [volume.split(":")[0] for volume in SERVICES["s3"]["volumes"]]
    assert [path for path in mounted if path.startswith(".")] == [
        "./deploy/seaweedfs-entrypoint.sh"
    ]
    committed = subprocess.run(
        ["git", "ls-files", "deploy", "docker-compose.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    shipped = SHIPPED_SECRETS["s3_secret_access_key"] | SHIPPED_SECRETS["sellerflow_secret_key"]
    for path in committed:
        text = (ROOT / path).read_text()
        assert not [secret for secret in shipped if secret in text], path


def s3_identities(tmp_path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The identities the s3 service's entrypoint writes from its environment, and the command
    it then runs (a stand-in `weed` records its arguments)."""
    s3 = SERVICES["s3"]
    entrypoint = s3["entrypoint"]
    script = entrypoint[1].replace("/etc/seaweedfs/entrypoint.sh", "deploy/seaweedfs-entrypoint.sh")
    weed = tmp_path / "weed"
    weed.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$WEED_ARGS"\n')
    weed.chmod(0o755)
    config = tmp_path / "s3.json"
    env = {
        **environment("s3"),
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "SEAWEEDFS_S3_CONFIG": str(config),
        "WEED_ARGS": str(tmp_path / "args"),
    }
    subprocess.run([entrypoint[0], script, *s3["command"].split()], cwd=ROOT, env=env, check=True)
    args = (tmp_path / "args").read_text().splitlines()
    return json.loads(config.read_text())["identities"], args


def test_s3_identities_are_written_from_the_environment_at_start(tmp_path: Path) -> None:
    identities, args = s3_identities(tmp_path)
    assert args == [*SERVICES["s3"]["command"].split(), f"-s3.config={tmp_path / 's3.json'}"]
    assert all(identity["name"] != "anonymous" for identity in identities)
    keys = {
        (cred["accessKey"], cred["secretKey"]): identity["actions"]
        for identity in identities
        for cred in identity["credentials"]
    }
    env = environment("api")
    app_key = (env["S3_ACCESS_KEY_ID"], env["S3_SECRET_ACCESS_KEY"])
    admin_key = (SECRETS["S3_ADMIN_ACCESS_KEY_ID"], SECRETS["S3_ADMIN_SECRET_ACCESS_KEY"])
    assert set(keys) == {app_key, admin_key}
    bucket = env["S3_BUCKET"]
    assert keys[app_key] == [
        f"{action}:{bucket}" for action in ("Read", "Write", "List", "Tagging")
    ]
    assert "Admin" in keys[admin_key]


def test_s3_refuses_an_admin_key_that_is_the_apps(tmp_path: Path) -> None:
    same = {**SECRETS, "S3_ADMIN_ACCESS_KEY_ID": SECRETS["S3_ACCESS_KEY_ID"]}
    env = {**environment("s3", same), "PATH": os.environ["PATH"]}
    env["SEAWEEDFS_S3_CONFIG"] = str(tmp_path / "s3.json")
    started = subprocess.run(
        ["/bin/sh", "deploy/seaweedfs-entrypoint.sh", "server"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert started.returncode == 1
    assert "S3_ADMIN_ACCESS_KEY_ID must differ" in started.stderr
    assert not (tmp_path / "s3.json").exists()


def test_dockerfile_runs_the_api_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0].startswith("FROM python:3.11-slim")
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    copied = {word for line in instructions if line.startswith("COPY ") for word in line.split()}
    assert {"worker.py", "alembic.ini", "templates/", "migrations/", "api/"} <= copied
    healthcheck = next(line for line in instructions if line.startswith("HEALTHCHECK "))
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    cmd = json.loads(next(line for line in reversed(instructions) if line.startswith("CMD "))[4:])
    assert cmd[:2] == ["uvicorn", "api.main:app"]
