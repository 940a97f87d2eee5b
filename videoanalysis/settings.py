"""Settings shared by every component (database and storage).

Each component extends :class:`CoreSettings` with its own fields and keeps one settings object
(`api.config.ApiSettings`, `inference_job.config.JobSettings`, `videoanalysis.operator.config.OperatorSettings`).
All variables use the `VA_` prefix; a bad value fails at start-up with the variable's name.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    default_model: str = Field(
        "opencv-face",
        description="Model of a task that names none (an upload, or a resource applied by hand).",
    )

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
