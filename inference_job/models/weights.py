"""Finding model weights on disk: a path, or an https URL fetched once into a cache folder.

Detectron2 weights are a pickle: loading a tampered file runs its code. So a URL must be
https and come with the file's sha256, checked before every load (a cached copy too); a path
may come with one. There is no silent fallback: when weights cannot be had, `WeightsError`
says where they were looked for, and the job writes that reason to the task.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlparse


class WeightsError(RuntimeError):
    """Weights are missing or cannot be downloaded; the message is the task's failure reason."""


def cache_path(url: str, cache_dir: Path) -> Path:
    """Where a URL's file is kept: the URL's host and path under `cache_dir`."""
    parsed = urlparse(url)
    parts = [p for p in (parsed.netloc, *parsed.path.split("/")) if p and p not in (".", "..")]
    return cache_dir.joinpath(*parts)


def resolve_weights(spec: str, cache_dir: Path, *, sha256: str = "", timeout_s: float = 60.0) -> Path:
    """Return a checked local file for `spec` (a path, or an https URL downloaded once)."""
    if not spec:
        raise WeightsError(
            "no weights given (set VA_MODEL_WEIGHTS to a file, or an https URL with VA_MODEL_WEIGHTS_SHA256)"
        )
    if spec.startswith("http://"):
        raise WeightsError(f"weights URL {spec} must be https:// (the file is a pickle: a tampered one runs code)")
    if spec.startswith("https://"):
        if not sha256:
            raise WeightsError(f"weights URL {spec} needs its sha256 in VA_MODEL_WEIGHTS_SHA256")
        target = cache_path(spec, cache_dir)
        if not target.is_file():
            _download(spec, target, timeout_s)
        return verify_sha256(target, sha256, remove=True)
    path = Path(spec[len("file://") :] if spec.startswith("file://") else spec).expanduser()
    if not path.is_file():
        raise WeightsError(f"weights not found at {path}")
    return verify_sha256(path, sha256) if sha256 else path


def verify_sha256(path: Path, expected: str, *, remove: bool = False) -> Path:
    """`path` if its sha256 is `expected`; else WeightsError (and the file removed if `remove`)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected.strip().lower():
        if remove:  # a cached download that does not match is never loaded, and fetched again next time
            path.unlink(missing_ok=True)
        raise WeightsError(f"weights at {path} have sha256 {digest.hexdigest()}, expected {expected.strip().lower()}")
    return path


def _download(url: str, target: Path, timeout_s: float) -> Path:
    """Fetch `url` to `target` through a temporary file, so a broken download leaves nothing."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=timeout_s) as resp, open(tmp, "wb") as out:
            shutil.copyfileobj(resp, out, length=1 << 20)
        os.replace(tmp, target)
    except Exception as exc:  # network, HTTP and disk errors all end the same way
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise WeightsError(f"cannot download weights from {url}: {reason}") from exc
    return target
