"""One settings class, read once from the environment."""

from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(default=f"sqlite:///{PROJECT_ROOT / '.data' / 'sellerflow.db'}")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "sellerflow"
    temporal_tls: bool = False
    temporal_api_key: str | None = None
    temporal_ui_url: str = "http://127.0.0.1:8233"

    s3_endpoint_url: str | None = "http://127.0.0.1:8333"
    s3_region: str = "us-east-1"
    s3_bucket: str = "sellerflow"
    s3_access_key_id: str = "sellerflow"
    s3_secret_access_key: str = "sellerflow-dev-secret"
    # Browsers reach S3 at this address; it differs from the worker's in container setups.
    s3_public_endpoint_url: str | None = None
    # Lifetime of a presigned upload form and of a presigned download link.
    upload_expiry_seconds: int = 600
    download_expiry_seconds: int = 120

    sellerflow_policy: str = "default"
    sellerflow_secret_key: str = "dev-secret-key-change-me-in-production-0123456789"
    sellerflow_dev_mode: bool = True
    sellerflow_dev_password: str = "dev-password"
    # A signed-in session's length: a seller's token, a staff member's refresh token.
    sellerflow_token_minutes: int = 60 * 12
    # A staff access token's life; the refresh token (POST /v1/auth/refresh) gives the next.
    sellerflow_staff_token_minutes: int = 15
    sellerflow_public_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    mail_from: str = "no-reply@sellerflow.local"
    worker_metrics_port: int = 9464
    # Workflows a worker keeps in memory between their tasks (docs/operations.md).
    worker_max_cached_workflows: int = 1000
    # Applications created per client address in an hour and per contact e-mail address in a
    # day before a create is refused (429; docs/operations.md). 0 turns a limit off.
    applications_per_address_per_hour: int = 10
    applications_per_email_per_day: int = 3
    # The registers asked at verification (sellerflow.registries.http); unset: the company
    # register is a local shape check and no VAT registry is asked. `make run` in dev mode
    # points both at the fake (sellerflow.registries.fake).
    company_register_url: str | None = None
    vat_registry_url: str | None = None


# Fields a deployment must set explicitly rather than inherit the embedded defaults.
PRODUCTION_SETTINGS: tuple[str, ...] = (
    "database_url",
    "temporal_address",
    "temporal_namespace",
    "temporal_task_queue",
    "s3_endpoint_url",
    "s3_public_endpoint_url",
    "s3_bucket",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_region",
    "sellerflow_secret_key",
    "sellerflow_policy",
    "sellerflow_dev_mode",
    "smtp_url",
    "mail_from",
    "sellerflow_public_url",
)


# Secret values this project has shipped (the defaults above, and those docker-compose.yml used
# to fall back to): public, so a process outside dev mode refuses to start with any of them.
SHIPPED_SECRETS: dict[str, frozenset[str]] = {
    "sellerflow_secret_key": frozenset(
        {
            Settings.model_fields["sellerflow_secret_key"].default,
            "compose-secret-key-change-me-0123456789abcdef",
        }
    ),
    "s3_access_key_id": frozenset({Settings.model_fields["s3_access_key_id"].default}),
    "s3_secret_access_key": frozenset(
        {Settings.model_fields["s3_secret_access_key"].default, "sellerflow-compose-s3-secret"}
    ),
}
SHIPPED_DATABASE_PASSWORDS = frozenset({"sellerflow"})


def default_secrets(settings: Settings) -> list[str]:
    """The environment variables whose secret still has a value this project ships."""
    found = [
        name.upper()
        for name, shipped in SHIPPED_SECRETS.items()
        if getattr(settings, name) in shipped
    ]
    password = urlsplit(settings.database_url).password
    if password is not None and unquote(password) in SHIPPED_DATABASE_PASSWORDS:
        found.append("DATABASE_URL (its password)")
    return found


def refuse_default_secrets(settings: Settings) -> None:
    """Outside dev mode, stop the process with one line naming every secret left at its
    shipped value (SystemExit: the line is printed without a traceback, the status is 1)."""
    found = [] if settings.sellerflow_dev_mode else default_secrets(settings)
    if found:
        raise SystemExit(
            "refusing to start with SELLERFLOW_DEV_MODE=false: "
            f"{', '.join(found)} still set to the built-in default; set a secret of your own"
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
