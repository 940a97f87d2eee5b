"""Weights are checked before loading: an https URL needs its sha256, a cached copy is checked
again (and dropped when it no longer matches), a path may come with a sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from inference_job.config import JobSettings
from inference_job.models.weights import WeightsError, cache_path, resolve_weights

URL = "https://weights.example.org/zoo/model_final.pkl"


def _file(path: Path, content: bytes = b"pickled weights") -> tuple[Path, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def test_a_path_loads_with_or_without_its_sha256(tmp_path: Path) -> None:
    path, digest = _file(tmp_path / "w.pkl")
    assert resolve_weights(str(path), tmp_path / "cache") == path
    assert resolve_weights(str(path), tmp_path / "cache", sha256=digest.upper()) == path
    with pytest.raises(WeightsError, match=f"expected {'0' * 64}"):
        resolve_weights(str(path), tmp_path / "cache", sha256="0" * 64)
    assert path.exists()  # a file the operator gave is never deleted


def test_a_cached_download_is_checked_before_every_load(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached, digest = _file(cache_path(URL, cache))
    assert resolve_weights(URL, cache, sha256=digest) == cached  # no network: the copy matches
    cached.write_bytes(b"tampered")
    with pytest.raises(WeightsError, match=f"expected {digest}"):
        resolve_weights(URL, cache, sha256=digest)
    assert not cached.exists()  # fetched again next time, never loaded


@pytest.mark.parametrize(
    ("spec", "sha256", "reason"),
    [
        ("http://weights.example.org/w.pkl", "0" * 64, "must be https://"),
        (URL, "", "needs its sha256 in VA_MODEL_WEIGHTS_SHA256"),
        ("", "", "no weights given"),
    ],
)
def test_unsafe_or_missing_weights_are_refused_before_any_download(
    tmp_path: Path, spec: str, sha256: str, reason: str
) -> None:
    with pytest.raises(WeightsError, match=reason):
        resolve_weights(spec, tmp_path, sha256=sha256)
    assert not any(tmp_path.iterdir())


def test_settings_refuse_a_malformed_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VA_MODEL_WEIGHTS_SHA256", "not-a-digest")
    with pytest.raises(ValueError, match="model_weights_sha256"):
        JobSettings()
    monkeypatch.setenv("VA_MODEL_WEIGHTS_SHA256", "ab" * 32)
    assert JobSettings().model_weights_sha256 == "ab" * 32 and JobSettings().model_weights == ""
