"""docker-compose.yml, its SeaweedFS identities and the Dockerfile, checked without Docker."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from sellerflow.config import PRODUCTION_SETTINGS, Settings
from sellerflow.search_attributes import KEYWORDS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ONE_SHOTS = {"temporal-setup", "migrate"}
APP_SERVICES = ("api", "worker", "migrate")
# `${VAR:-default}` (or `-`, `:?error`, `?error`); `$$` is compose's escape for a literal `$`.
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-(.*?))?\}")


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


def environment(service: str) -> dict[str, str]:
    """The service's environment as compose passes it when no variable is set."""
    env = SERVICES[service].get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: INTERPOLATION.sub(lambda m: m[2] or "", str(v)) for key, v in env.items()}


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
    assert environment("migrate") == env
    missing = set(PRODUCTION_SETTINGS) - {key.lower() for key in env}
    assert not missing, f"not set for api, worker and migrate: {sorted(missing)}"


def test_app_environment_is_a_production_configuration() -> None:
    settings = Settings(**{key.lower(): value for key, value in environment("api").items()})
    defaults = Settings.model_fields
    assert settings.sellerflow_dev_mode is False
    assert settings.database_url.startswith("postgresql://")
    assert settings.sellerflow_secret_key != defaults["sellerflow_secret_key"].default
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


def test_s3_admits_only_the_key_pair_given_to_the_app() -> None:
    s3 = SERVICES["s3"]
    config = re.search(r"-s3\.config=(\S+)", s3["command"])
    assert config, "s3 runs without an identities config"
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in s3["volumes"]}
    assert mounts[config[1]] == "./deploy/seaweedfs-s3.json"
    identities = json.loads((ROOT / "deploy/seaweedfs-s3.json").read_text())["identities"]
    assert all(identity["name"] != "anonymous" for identity in identities)
    credentials = [cred for identity in identities for cred in identity.get("credentials", [])]
    env = environment("api")
    app_key = {"accessKey": env["S3_ACCESS_KEY_ID"], "secretKey": env["S3_SECRET_ACCESS_KEY"]}
    assert credentials == [app_key]
    assert len(identities) == 1


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
