"""All settings, read once from the environment (prefix ``KILN_``)."""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# litellm fetches its price map from the network at import unless told otherwise;
# set before anything can import it.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "kiln.db"


def normalize_database_url(url: str) -> str:
    """Accept the usual spellings and return the async driver URL SQLAlchemy needs."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_", env_ignore_empty=True, extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    redis_url: str | None = None
    secret_key: str = "kiln-development-secret-change-me"
    host: str = "127.0.0.1"
    port: int = 5001
    log_level: str = "info"

    # Models
    model_override: str | None = None  # "provider/model": every app uses this model
    offline_token_delay: float = 0.02  # seconds between tokens of the offline echo model
    upstream_timeout: float = 300.0  # seconds to wait on a model provider

    # Generation
    app_max_active_requests: int = 0  # per app; 0 = unlimited (Dify's APP_MAX_ACTIVE_REQUESTS)
    app_max_execution_time: float = 1200.0  # seconds a generation may run
    ping_interval: float = 10.0  # seconds between `event: ping` frames while quiet
    task_ttl: int = 1800  # seconds a task registry entry lives
    stop_flag_ttl: int = 600
    shutdown_grace_period: float = 30.0  # seconds to let streams finish on SIGTERM

    # Site / version
    server_version: str = "1.9.2"
    files_url: str = ""

    @field_validator("database_url")
    @classmethod
    def _normalize_db(cls, value: str) -> str:
        return normalize_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
