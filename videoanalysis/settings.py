"""Settings shared by every component (database and storage).

Each component extends :class:`CoreSettings` with its own fields and keeps one settings object
(`api.config.ApiSettings`, `inference_job.config.JobSettings`, `videoanalysis.operator.config.OperatorSettings`).
All variables use the `VA_` prefix; a bad value fails at start-up with the variable's name.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from videoanalysis.netguard import AllowList
from videoanalysis.pacing import size_text
from videoanalysis.video_fetch import FASTEST_RATE, VideoUrlPolicy
from videoanalysis.zones import MAX_RULES, MAX_VERTICES, ZoneLimits

DEFAULT_DB_TIMEOUT_S = 60.0


class CoreSettings(BaseSettings):
    """Where the data lives. Defaults give the embedded (laptop) mode: SQLite under ./data/."""

    model_config = SettingsConfigDict(env_prefix="VA_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of the embedded default's files.")
    database_url: str = Field(
        "",
        description="Tortoise database URL (postgres://user:pass@host:5432/db or sqlite://path). "
        "Empty: an SQLite file at <data_dir>/videoanalysis.sqlite3.",
    )
    videos_dir: Path | None = Field(None, description="Where uploaded videos are stored. Empty: <data_dir>/videos.")
    db_timeout_s: float = Field(
        DEFAULT_DB_TIMEOUT_S,
        ge=1,
        le=3600,
        description="PostgreSQL: the longest any database call waits, for a pooled connection, a lock "
        "or a statement's answer; a transaction left idle twice as long is ended by the server.",
    )
    default_model: str = Field(
        "opencv-face",
        description="Model of a task that names none (an upload, or a resource applied by hand).",
    )

    retention_days: int = Field(
        0, ge=0, description="Erase tasks that ended more than this many days ago (0: keep for ever)."
    )
    video_url_allow_http: bool = Field(False, description="Accept http:// video URLs (https:// always).")
    video_url_allowed_networks: str = Field(
        "",
        description="Hosts or CIDRs (comma-separated) a video URL may resolve to although they are "
        "private or loopback, e.g. an object store in the cluster.",
    )
    ca_bundle: Path | None = Field(
        None, description="PEM file of the CAs trusted for video URLs (empty: the operating system's CA store)."
    )
    video_url_max_bytes: int = Field(4 * 1024**3, gt=0, description="Largest video read from a URL.")
    video_url_deadline_seconds: float = Field(
        1800.0,
        gt=0,
        description="The job's download of a video URL ends within this time (every attempt included); "
        "the default fits the largest video at 2.3 MiB/s.",
    )
    video_url_min_bytes_per_second: int = Field(
        64 * 1024,
        gt=0,
        description="A video URL that sends fewer bytes per second than this, over the last rate window, "
        "is given up (checked once a window has passed since the connection began).",
    )
    video_url_rate_window_seconds: float = Field(
        10.0, gt=0, description="Window of the minimum rate, and the grace before it is first checked."
    )

    @field_validator("video_url_allowed_networks")
    @classmethod
    def _allow_list(cls, value: str) -> str:
        AllowList.parse(value)  # a bad entry stops the service with this variable's name
        return value

    @model_validator(mode="after")
    def _video_url_pace(self) -> CoreSettings:
        """Refuse limits that would fail every video URL or never act."""
        deadline, window = self.video_url_deadline_seconds, self.video_url_rate_window_seconds
        if window >= deadline:
            raise ValueError(
                f"VA_VIDEO_URL_RATE_WINDOW_SECONDS ({window:g}) must be shorter than VA_VIDEO_URL_DEADLINE_SECONDS "
                f"({deadline:g}): the minimum rate would never be checked"
            )
        if self.video_url_min_bytes_per_second > FASTEST_RATE:
            raise ValueError(
                f"VA_VIDEO_URL_MIN_BYTES_PER_SECOND ({self.video_url_min_bytes_per_second}) is more than one "
                f"connection delivers ({size_text(FASTEST_RATE)}/s): every video URL would be given up"
            )
        needed = self.video_url_max_bytes / deadline
        if needed > FASTEST_RATE:
            raise ValueError(
                f"VA_VIDEO_URL_DEADLINE_SECONDS ({deadline:g}) is too short for VA_VIDEO_URL_MAX_BYTES "
                f"({size_text(self.video_url_max_bytes)}): the largest video would have to arrive at "
                f"{size_text(needed)}/s, more than one connection delivers ({size_text(FASTEST_RATE)}/s)"
            )
        return self

    max_zones: int = Field(
        16,
        ge=1,
        le=MAX_RULES,
        description="Most zones, and most lines, one task may have (each; the contract's cap is 32).",
    )
    max_zone_vertices: int = Field(
        32, ge=3, le=MAX_VERTICES, description="Most vertices of one zone's polygon (the contract's cap is 64)."
    )
    max_zone_pixels: int = Field(
        7680 * 4320,
        ge=1,
        description="Most pixels of all of a task's zones' masks together (each zone's is its bounding box from the "
        "frame's corner, one byte a pixel): the default holds one zone over an 8K frame.",
    )

    @property
    def zone_limits(self) -> ZoneLimits:
        return ZoneLimits(self.max_zones, self.max_zone_vertices, self.max_zone_pixels)

    def zone_limits_env(self) -> dict[str, str]:
        """The zone limits as the job's environment, handed on as the video-URL settings are."""
        return {
            "VA_MAX_ZONES": str(self.max_zones),
            "VA_MAX_ZONE_VERTICES": str(self.max_zone_vertices),
            "VA_MAX_ZONE_PIXELS": str(self.max_zone_pixels),
        }

    @property
    def video_url_policy(self) -> VideoUrlPolicy:
        return VideoUrlPolicy(
            allow_http=self.video_url_allow_http,
            allowed=AllowList.parse(self.video_url_allowed_networks),
            ca_bundle=self.ca_bundle,
            max_bytes=self.video_url_max_bytes,
            deadline_s=self.video_url_deadline_seconds,
            min_rate=self.video_url_min_bytes_per_second,
            rate_window_s=self.video_url_rate_window_seconds,
        )

    def video_url_env(self) -> dict[str, str]:
        """The video-URL settings as the job's environment: whoever starts the job (the local
        dispatcher, the operator's Job) hands on its own, so one setting decides for both."""
        env = {
            "VA_VIDEO_URL_ALLOW_HTTP": str(self.video_url_allow_http).lower(),
            "VA_VIDEO_URL_ALLOWED_NETWORKS": self.video_url_allowed_networks,
            "VA_VIDEO_URL_MAX_BYTES": str(self.video_url_max_bytes),
            "VA_VIDEO_URL_DEADLINE_SECONDS": repr(self.video_url_deadline_seconds),
            "VA_VIDEO_URL_MIN_BYTES_PER_SECOND": str(self.video_url_min_bytes_per_second),
            "VA_VIDEO_URL_RATE_WINDOW_SECONDS": repr(self.video_url_rate_window_seconds),
        }
        if self.ca_bundle is not None:
            env["VA_CA_BUNDLE"] = str(self.ca_bundle)
        return env

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'videoanalysis.sqlite3').resolve()}"

    @property
    def resolved_videos_dir(self) -> Path:
        return (self.videos_dir or self.data_dir / "videos").resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
