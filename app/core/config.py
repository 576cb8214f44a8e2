"""All settings, read once from the environment (prefix ``KILN_``)."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
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
    # Connection pools (app/core/db.py): the main pool serves writes and generations; the
    # read pool serves read-only requests, so they never queue behind stream start-up.
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    database_read_pool_size: int = Field(default=10, ge=1)
    database_read_max_overflow: int = Field(default=10, ge=0)
    database_pool_timeout: float = Field(default=10.0, gt=0)  # then a 503, not a hang
    database_ping_after: float = Field(default=1.0, ge=0)  # idle seconds before a ping
    sqlite_busy_timeout: float = Field(default=30.0, gt=0)  # a write's wait for the writer
    api_key_cache_ttl: float = Field(default=1.0, ge=0)  # per process; 0 = no cache
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
    # Shutdown: the grace period bounds the whole exit after SIGTERM; readiness answers 503
    # at once and the listener keeps accepting for the ready delay (load balancers catch up).
    shutdown_grace_period: float = Field(default=30.0, gt=0)
    shutdown_ready_delay: float = Field(default=5.0, ge=0)
    # Records of running generations: their answer so far is saved this often (0 = only at
    # the end); workers heartbeat this often (Redis when configured, else the database), and
    # a worker silent for heartbeat_timeout is dead: the reaper closes its running messages.
    answer_save_interval: float = Field(default=1.0, ge=0)
    heartbeat_interval: float = Field(default=2.0, gt=0)
    heartbeat_timeout: float = Field(default=10.0, gt=0)

    # Workflow engine (Dify's WORKFLOW_MAX_EXECUTION_TIME / _STEPS, MAX_VARIABLE_SIZE,
    # HTTP_REQUEST_NODE_*)
    workflow_max_execution_time: float = 1200.0  # seconds a graph run may take
    workflow_max_execution_steps: int = 500  # node runs per graph level
    workflow_max_variable_size: int = 200 * 1024  # bytes of one node output
    workflow_cache_size: int = 256  # compiled workflow versions kept per process
    http_request_max_text_size: int = 1024 * 1024  # bytes of a text HTTP-node response
    http_request_max_binary_size: int = 10 * 1024 * 1024  # bytes of a file response
    http_request_connect_timeout: float = 10.0  # seconds; a node's own timeouts win (≤ 600)
    http_request_read_timeout: float = 60.0
    http_request_write_timeout: float = 20.0

    # document-extractor nodes: bounds of one file, and the threads that parse files
    document_extractor_max_file_size: int = 15 * 1024 * 1024  # bytes of one file
    document_extractor_max_pages: int = 500  # PDF pages, slides, EPUB chapters
    document_extractor_max_rows: int = 100_000  # CSV rows, or rows of all sheets
    document_extractor_max_unpacked_size: int = 100 * 1024 * 1024  # inside docx/xlsx/…
    document_extractor_timeout: float = 60.0  # seconds for one file
    document_extractor_workers: int = 2  # extraction threads per process

    # Request bodies other than multipart uploads (MB); uploads keep their per-class limits
    request_body_size_limit: int = 10

    # Tools, MCP servers and knowledge bases an export names: app/integrations/config.py
    integrations_file: str | None = None
    # Unconfigured tools answer a marked placeholder; unset = the file's `tools.dry_run`
    tools_dry_run: bool | None = None
    tools_fetch_timeout: float = 30.0  # seconds for one web request of a builtin tool
    tools_fetch_max_bytes: int = 10 * 1024 * 1024  # bytes a builtin tool's web reply may have
    workflow_call_max_depth: int = 5  # workflow-as-tool nesting (Dify's WORKFLOW_CALL_MAX_DEPTH)

    # Triggers (workflow apps' `trigger-webhook` and `trigger-schedule` nodes). Webhook URLs
    # printed by the CLI start with trigger_url (Dify's TRIGGER_URL; empty: this server's
    # http://host:port); a webhook call's body may have webhook_request_body_max_size bytes
    # (Dify's WEBHOOK_REQUEST_BODY_MAX_SIZE). A replica with scheduler_enabled looks for due
    # schedules every scheduler_poll_interval seconds; of all replicas, one fires each tick.
    trigger_url: str = ""
    webhook_request_body_max_size: int = Field(default=10 * 1024 * 1024, gt=0)
    scheduler_enabled: bool = True
    scheduler_poll_interval: float = Field(default=1.0, gt=0)
    # Test-only: cron expressions may carry a sixth (seconds) field, so a test sees ticks
    # seconds apart. Dify accepts five fields only; never set it in production.
    scheduler_cron_seconds: bool = False

    # Site / version
    server_version: str = "1.9.2"
    files_url: str = ""

    # Audio (Dify uses the workspace's default models; Kiln names them here as
    # `provider/model`; "none" turns the feature's model off)
    speech_to_text_model: str = "openai/whisper-1"
    text_to_speech_model: str = "openai/tts-1"
    text_to_speech_voice: str = "alloy"  # when neither the request nor the app names one
    tts_auto_play_timeout: float = 5.0  # seconds a stream waits for more audio after the answer
    # Image tools (dalle): an OpenAI-compatible provider's images API; "kiln" = offline
    image_generation_provider: str = "openai"

    # Files (Dify's UPLOAD_*_FILE_SIZE_LIMIT, FILES_ACCESS_TIMEOUT, MULTIMODAL_SEND_FORMAT)
    upload_image_file_size_limit: int = 10  # MB: jpg, jpeg, png, webp, gif, svg
    upload_video_file_size_limit: int = 100  # MB: mp4, mov, mpeg, webm
    upload_audio_file_size_limit: int = 50  # MB: mp3, m4a, wav, amr, mpga
    upload_file_size_limit: int = 15  # MB: everything else
    workflow_file_upload_limit: int = 10  # files per workflow run (reported by /parameters)
    files_access_timeout: int = 300  # seconds a signed file URL stays valid
    multimodal_send_format: Literal["base64", "url"] = "base64"  # how images reach models
    storage_type: Literal["local", "s3"] = "local"
    storage_path: str = str(PROJECT_ROOT / "data" / "storage")
    s3_endpoint: str | None = None  # e.g. http://127.0.0.1:9000 (MinIO); unset = AWS
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    ssrf_allowed_hosts: str = ""  # comma-separated host names or CIDRs let through the guard
    remote_file_timeout: float = 10.0  # seconds for a whole remote-file fetch
    # bytes of an OpenAPI tool's reply (or of its document fetched by URL)
    tool_max_response_size: int = 10 * 1024 * 1024

    # Moderation (`sensitive_word_avoidance`; Dify's MODERATION_BUFFER_SIZE and its
    # workspace OpenAI moderation model; API-based extensions: JSON id -> {api_endpoint,
    # api_key})
    moderation_buffer_size: int = 300  # characters between output checks while streaming
    moderation_model: str = "openai/omni-moderation-latest"
    moderation_api_extensions: str = ""
    moderation_api_timeout: float = 60.0  # seconds for one API-extension call

    # Origin of a Dify console serving tool icons: `/meta` points builtin tools' icons there.
    console_api_url: str = ""

    # Annotation-reply jobs in Redis: a running job renews a lease this often (seconds);
    # a job whose lease lapsed (its process died) reports `error`.
    annotation_job_lease_ttl: int = 30

    # Code sandbox: workflow `code` nodes (Python 3, JavaScript), `template-transform`
    # nodes and Jinja2 prompts run in confined child processes (app/sandbox), or on a Dify
    # `dify-sandbox` server when an endpoint is set. Output limits are Dify's CODE_* and
    # TEMPLATE_TRANSFORM_MAX_LENGTH defaults.
    code_execution_endpoint: str = ""  # e.g. http://sandbox:8194; empty = local sandbox
    code_execution_api_key: str = "dify-sandbox"  # X-Api-Key for the dify-sandbox server
    code_execution_timeout: float = 15.0  # seconds one call may run (wall clock)
    code_sandbox_workers: int = 4  # local worker processes (started as needed)
    # JavaScript children kept started per worker (each took ~50 ms of CPU to start V8 and
    # holds ~20 MB of its own while it waits): spares serve bursts of JavaScript calls.
    code_sandbox_warm_javascript: int = 2
    code_sandbox_memory_mb: int = 512  # per call: address space (Python), heap (JavaScript)
    code_sandbox_max_output_bytes: int = 8 * 1024 * 1024  # a call's answer, as JSON
    code_max_string_length: int = 80000
    code_max_number: int = 9223372036854775807
    code_min_number: int = -9223372036854775808
    code_max_precision: int = 20  # decimal places of a float output
    code_max_depth: int = 5
    code_max_string_array_length: int = 30
    code_max_object_array_length: int = 30
    code_max_number_array_length: int = 1000
    template_transform_max_length: int = 80000  # characters of a rendered template

    @model_validator(mode="after")
    def _heartbeat_outlasts_its_interval(self) -> "Settings":
        # A live worker must never look dead between two of its heartbeats.
        if self.heartbeat_timeout < 2 * self.heartbeat_interval:
            raise ValueError(
                "KILN_HEARTBEAT_TIMEOUT must be at least twice KILN_HEARTBEAT_INTERVAL"
            )
        return self

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
