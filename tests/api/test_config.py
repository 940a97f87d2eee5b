"""Settings: the embedded secret is generated once (0600); weak secrets and bad values fail fast."""

from __future__ import annotations

import stat

import pytest

from api.config import SettingsError, load_settings


def test_embedded_generates_and_keeps_a_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("VA_SECRET_KEY", raising=False)
    first = load_settings(data_dir=tmp_path / "data")
    path = tmp_path / "data" / "secret_key"
    assert len(first.secret_key) >= 32 and path.read_text() == first.secret_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(data_dir=tmp_path / "data").secret_key == first.secret_key
    assert load_settings(data_dir=tmp_path / "other").secret_key != first.secret_key


@pytest.mark.parametrize("environment", ["development", "production"])
@pytest.mark.parametrize("secret", ["", "changethis", "too-short"])
def test_weak_secret_is_refused_outside_embedded(tmp_path, monkeypatch, environment, secret):
    monkeypatch.setenv("VA_ENVIRONMENT", environment)
    monkeypatch.setenv("VA_SECRET_KEY", secret)
    with pytest.raises(SettingsError, match="VA_SECRET_KEY"):
        load_settings(data_dir=tmp_path)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VA_ENVIRONMENT", "staging"),
        ("VA_DISPATCHER", "slurm"),
        ("VA_MAX_UPLOAD_BYTES", "0"),
        ("VA_LOCAL_CONCURRENCY", "many"),
        ("VA_ACCESS_TOKEN_MINUTES", "-1"),
        ("VA_PASSWORD_HASH_QUEUE", "0"),
        ("VA_PASSWORD_HASH_QUEUE", "-5"),
        ("VA_PASSWORD_HASH_QUEUE", "100000"),  # minutes of hashing queued: the bound is 1024
        ("VA_PASSWORD_HASH_QUEUE", "lots"),
        ("VA_SIGNIN_MAX_INFLIGHT_PER_ACCOUNT", "0"),
        ("VA_SIGNIN_MAX_INFLIGHT_PER_ADDRESS", "-1"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings(data_dir=tmp_path)


def test_environment_values_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("VA_ENVIRONMENT", "production")
    monkeypatch.setenv("VA_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("VA_DISPATCHER", "kubernetes")
    monkeypatch.setenv("VA_KUBE_NAMESPACE", "videos")
    monkeypatch.setenv("VA_MAX_UPLOAD_BYTES", "1000")
    settings = load_settings(data_dir=tmp_path)
    assert (settings.dispatcher, settings.kube_namespace, settings.max_upload_bytes) == ("kubernetes", "videos", 1000)
    assert settings.default_model == "opencv-face" and settings.local_concurrency == 1


def test_sign_in_and_hashing_bounds_have_sane_defaults_and_are_read(tmp_path, monkeypatch):
    settings = load_settings(data_dir=tmp_path)
    assert settings.password_hash_queue == 64
    assert (settings.signin_max_inflight_per_account, settings.signin_max_inflight_per_address) == (8, 16)
    monkeypatch.setenv("VA_PASSWORD_HASH_QUEUE", "1024")
    monkeypatch.setenv("VA_SIGNIN_MAX_INFLIGHT_PER_ACCOUNT", "3")
    settings = load_settings(data_dir=tmp_path)
    assert (settings.password_hash_queue, settings.signin_max_inflight_per_account) == (1024, 3)


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, "http://127.0.0.1:8000"),
        (None, "9000", "http://127.0.0.1:9000"),
        ("0.0.0.0", "9000", "http://127.0.0.1:9000"),
        ("::1", "8080", "http://[::1]:8080"),
        ("videos.example", "8443", "http://videos.example:8443"),
    ],
)
def test_links_point_at_the_address_served_unless_a_public_url_is_set(tmp_path, monkeypatch, host, port, expected):
    for name, value in (("HOST", host), ("PORT", port)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("VA_PUBLIC_URL", raising=False)
    assert load_settings(data_dir=tmp_path).public_url == expected
    monkeypatch.setenv("VA_PUBLIC_URL", "https://videos.example.com")
    assert load_settings(data_dir=tmp_path).public_url == "https://videos.example.com"
