"""Finding model weights on disk: a path, or a URL fetched once into a cache folder.

There is no silent fallback: when weights cannot be had, `WeightsError` says where they were
looked for, and the job writes that reason to the task.
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

#: The model zoo's COCO Faster R-CNN R50-FPN 3x weights (the default Detectron2 model).
DEFAULT_WEIGHTS_URL = (
    "https://dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_50_FPN_3x/137849458/model_final_280758.pkl"
)


class WeightsError(RuntimeError):
    """Weights are missing or cannot be downloaded; the message is the task's failure reason."""


def cache_path(url: str, cache_dir: Path) -> Path:
    """Where a URL's file is kept: the URL's host and path under `cache_dir`."""
    parsed = urlparse(url)
    parts = [p for p in (parsed.netloc, *parsed.path.split("/")) if p and p not in (".", "..")]
    return cache_dir.joinpath(*parts)


def resolve_weights(spec: str, cache_dir: Path, *, timeout_s: float = 60.0) -> Path:
    """Return a local file for `spec` (a path, or an http(s) URL downloaded once)."""
    if not spec:
        raise WeightsError("no weights given (set VA_MODEL_WEIGHTS to a file or URL)")
    if spec.startswith(("http://", "https://")):
        target = cache_path(spec, cache_dir)
        if target.is_file():
            return target
        return _download(spec, target, timeout_s)
    path = Path(spec[len("file://") :] if spec.startswith("file://") else spec).expanduser()
    if not path.is_file():
        raise WeightsError(f"weights not found at {path}")
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
