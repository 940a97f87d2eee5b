"""The API's one settings object (env prefix `VA_`), extending the shared core settings.

Outside the embedded default the service refuses to start with an empty or placeholder
secret; the embedded default generates a random secret once and keeps it in
`<data_dir>/secret_key` (mode 0600), so tokens survive a restart.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import SettingsConfigDict

from videoanalysis.params import MAX_SHARDS
from videoanalysis.settings import CoreSettings
from videoanalysis.webhooks import WebhookPolicy

PLACEHOLDER_SECRETS = frozenset(
    {"", "changethis", "change-me", "changeme", "secret", "secret-key", "placeholder", "xxx"}
)
MIN_SECRET_LENGTH = 32
# A hash costs about 0.1 s of a thread: a longer queue would hold sign-ins for close to a minute.
MAX_PASSWORD_HASH_QUEUE = 1024
# A local analysis allowed to run for more than a week is a typo (or a hang nobody would see).
MAX_ACTIVE_DEADLINE_SECONDS = 7 * 24 * 3600


class Environment(StrEnum):
    EMBEDDED = "embedded"
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class DispatcherKind(StrEnum):
    LOCAL = "local"
    KUBERNETES = "kubernetes"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the VA_ variable."""


class ApiSettings(CoreSettings):
    """Everything the API reads from the environment (see the README's Settings table)."""

    model_config = SettingsConfigDict(env_prefix="VA_", extra="ignore")

    environment: Environment = Field(
        Environment.EMBEDDED,
        description="embedded (laptop default: SQLite, generated secret), development or production.",
    )
    secret_key: str = Field(
        "",
        description="HS256 key for the JWTs (at least 32 characters). Required outside embedded; "
        "embedded generates one into <data_dir>/secret_key.",
        repr=False,
    )
    access_token_minutes: int = Field(30, gt=0, description="Lifetime of an access token.")
    refresh_token_days: int = Field(7, gt=0, description="Lifetime of a refresh token.")
    viewer_token_minutes: int = Field(
        60, gt=0, description="Lifetime of a viewer link's token (one task's GET routes only)."
    )
    signin_max_failures: int = Field(
        5, gt=0, description="Failed sign-ins per (account, client address) in the window before 429."
    )
    signin_account_max_failures: int = Field(
        20, gt=0, description="Failed sign-ins per account in the window before addresses that failed are refused."
    )
    signin_window_seconds: float = Field(900.0, gt=0, description="Window of the sign-in failure counters.")
    signin_max_inflight_per_account: int = Field(
        8, gt=0, description="Sign-ins of one account being verified at once (all addresses); more: 429."
    )
    signin_max_inflight_per_address: int = Field(
        16, gt=0, description="Sign-ins from one client address being verified at once (all accounts); more: 429."
    )
    password_hash_queue: int = Field(
        64,
        ge=1,
        le=MAX_PASSWORD_HASH_QUEUE,
        description="Password hashes (sign-in, sign-up, password change) that may wait for one of the "
        "hashing threads; past it, 503 with Retry-After instead of waiting.",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies whose X-Forwarded-For gives the client address (uvicorn's forwarded_allow_ips).",
    )
    max_json_bytes: int = Field(
        64 * 1024, gt=0, description="Largest body of any request but the upload (JSON or form); larger: 413."
    )
    max_form_fields: int = Field(
        50, gt=0, description="Most fields in a form or multipart body (the upload's included); more: 413."
    )
    auth_cache_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="How long a replica may reuse a user row it read to check a token (0: read it on "
        "every request); a password change takes effect on other replicas within this time.",
    )
    max_upload_bytes: int = Field(
        512 * 1024 * 1024, gt=0, description="Largest accepted video; larger uploads get 413."
    )
    upload_chunk_bytes: int = Field(
        1024 * 1024, gt=0, description="Uploads are written to storage in chunks of this size."
    )
    dispatcher: DispatcherKind = Field(
        DispatcherKind.LOCAL, description="local (subprocess on this machine) or kubernetes."
    )
    shard_min_frames: int = Field(
        20_000, ge=1, description="shards=auto: one shard per this many analysed frames of an uploaded video."
    )
    max_shards: int = Field(
        16, ge=1, le=MAX_SHARDS, description="Most shards a task may ask for (auto stays within it too)."
    )
    local_concurrency: int = Field(
        1, gt=0, description="Local dispatcher: analyses run at once (the rest wait in a queue)."
    )
    local_queue: str = Field(
        "local",
        min_length=1,
        max_length=64,
        description="Local dispatcher: the queue (tasks' `queue`) this server runs.",
    )
    local_backoff_limit: int = Field(
        2,
        ge=0,
        description="Local dispatcher: retries of a crashed analysis before the task fails (a Job's backoffLimit).",
    )
    local_backoff_seconds: float = Field(
        10.0,
        gt=0,
        description="Local dispatcher: delay before the first retry; it doubles each retry (capped at 6 min).",
    )
    local_poll_seconds: float = Field(
        1.0, gt=0, description="Local dispatcher: how often the task table is read for work."
    )
    local_active_deadline_seconds: int = Field(
        3600,
        gt=0,
        le=MAX_ACTIVE_DEADLINE_SECONDS,
        description="Local dispatcher: a task's runs and retries together end within this time of its first "
        "run's start, or the task fails (a Job's activeDeadlineSeconds, the operator's default).",
    )
    kube_namespace: str = Field("default", min_length=1, description="Namespace of the VideoAnalysis resources.")

    public_url: str = Field(
        "",
        description="Base URL clients reach the API at (links in webhooks and viewer links). Empty: "
        "http://HOST:PORT of the address served (127.0.0.1 for a wildcard HOST).",
    )
    metrics_port: int = Field(
        0, ge=0, le=65535, description="Serve /metrics on this port only (not the API's); 0: on the API's port."
    )
    webhook_allow_private: bool = Field(
        False, description="Allow callback URLs on loopback/private addresses (off: SSRF guard)."
    )
    webhook_max_attempts: int = Field(6, gt=0, description="Delivery attempts before giving up.")
    webhook_retry_seconds: float = Field(
        5.0, gt=0, description="First retry delay of a failed webhook; doubles each attempt."
    )
    webhook_poll_seconds: float = Field(2.0, gt=0, description="How often due webhooks are sent.")
    upload_idle_seconds: float = Field(
        60.0, gt=0, description="An Idempotency-Key claim nobody kept alive this long is abandoned (taken over)."
    )
    dispatch_poll_seconds: float = Field(
        10.0, gt=0, description="Kubernetes dispatcher: how often tasks whose dispatch was left due are dispatched."
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Total deadline of one delivery attempt (resolution, connection, answer)."
    )
    webhook_concurrency: int = Field(16, gt=0, description="Webhook deliveries in flight at once.")
    video_url_probe_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="An upload by URL reads the video's first bytes within this time (connection included), "
        "or is refused with the reason.",
    )
    video_url_probe_threads: int = Field(
        8,
        gt=0,
        le=256,
        description="Uploads by URL probed at once, in threads of their own (never Starlette's); more: 503 "
        "with Retry-After.",
    )

    @property
    def webhook_policy(self) -> WebhookPolicy:
        return WebhookPolicy(
            allow_private=self.webhook_allow_private,
            max_attempts=self.webhook_max_attempts,
            base_delay_s=self.webhook_retry_seconds,
            timeout_s=self.webhook_timeout_seconds,
            concurrency=self.webhook_concurrency,
        )

    @model_validator(mode="after")
    def _default_public_url(self) -> ApiSettings:
        """Links point at the port actually served (`make run PORT=9000`), not a fixed one."""
        if not self.public_url:
            host = os.environ.get("HOST", "127.0.0.1")
            host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
            host = f"[{host}]" if ":" in host else host
            self.public_url = f"http://{host}:{os.environ.get('PORT', '8000')}"
        return self

    @model_validator(mode="after")
    def _check_secret(self) -> ApiSettings:
        """Embedded: load or create the stored secret. Elsewhere: refuse a weak one."""
        if self.environment is Environment.EMBEDDED and not self.secret_key:
            self.secret_key = embedded_secret(self.data_dir)
        elif self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                f"VA_SECRET_KEY is empty or a placeholder; set a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (environment {self.environment.value})"
            )
        elif len(self.secret_key) < MIN_SECRET_LENGTH and self.environment is not Environment.EMBEDDED:
            raise ValueError(f"VA_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters long")
        return self


def embedded_secret(data_dir: Path) -> str:
    """Read `<data_dir>/secret_key`, creating it (0600, random) the first time."""
    path = data_dir / "secret_key"
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)
    os.chmod(path, 0o600)
    return value


def load_settings(**overrides: Any) -> ApiSettings:
    """Build the settings, turning a validation error into one message naming the variables."""
    try:
        return ApiSettings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "VA_" + "_".join(str(p) for p in err["loc"]).upper() if err["loc"] else ""
            problems.append(f"{name}: {err['msg']}" if name else err["msg"].removeprefix("Value error, "))
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
