"""Where the CLI keeps its tokens: one JSON file in the user's config dir, mode 0600.

Tokens are kept per server URL, so one user can be logged in to a laptop server and a cluster
at once. `VA_CONFIG_DIR` overrides the directory (tests, containers). A refresh happens under
an exclusive lock on `credentials.lock`, so two commands refreshing together use the server's
one-time refresh token once (the second finds the first one's new tokens).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import typer

DEFAULT_URL = "http://127.0.0.1:8000"
CREDENTIALS_FILE = "credentials.json"
LOCK_FILE = "credentials.lock"


def normalize_url(url: str) -> str:
    """The server URL without a trailing slash (the key of the credentials file)."""
    return url.strip().rstrip("/")


def config_dir() -> Path:
    """`VA_CONFIG_DIR`, else the platform's per-user config dir for `videoanalysis`."""
    override = os.environ.get("VA_CONFIG_DIR")
    return Path(override) if override else Path(typer.get_app_dir("videoanalysis"))


@dataclass
class Credentials:
    email: str
    access_token: str
    refresh_token: str


class CredentialStore:
    """Reads and writes the credentials file; writes are atomic and never world-readable."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or config_dir()
        self.path = self.directory / CREDENTIALS_FILE

    def _load_all(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # a damaged file means "not logged in", the next login rewrites it
        servers = data.get("servers") if isinstance(data, dict) else None
        return servers if isinstance(servers, dict) else {}

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's exclusive lock (between processes) for a read-refresh-write."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def get(self, url: str) -> Credentials | None:
        entry = self._load_all().get(normalize_url(url))
        try:
            return Credentials(**entry) if entry else None
        except TypeError:
            return None

    def save(self, url: str, creds: Credentials) -> None:
        servers = self._load_all()
        servers[normalize_url(url)] = asdict(creds)
        self._write({"servers": servers})

    def forget(self, url: str) -> bool:
        servers = self._load_all()
        if servers.pop(normalize_url(url), None) is None:
            return False
        self._write({"servers": servers})
        return True

    def _write(self, data: dict) -> None:
        """Write to a 0600 temp file in the same dir, then rename: no torn or readable copy."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".credentials-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh, indent=2)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(self.path, 0o600)
