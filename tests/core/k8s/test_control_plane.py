"""The control plane the tests run on is the pinned release, and the operator refuses one older
than the product's minimum (`videoanalysis.k8s.version`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.operator_process import watch_env
from tests.support.paths import ROOT
from tests.support.ports import free_port
from videoanalysis.k8s import version

RELEASE_SCRIPT = ROOT / "scripts" / "k8s" / "release.sh"


def pinned(*args: str) -> list[str]:
    out = subprocess.run([str(RELEASE_SCRIPT), *args], check=True, capture_output=True, text=True).stdout
    return out.split()


@pytest.mark.kubernetes
def test_the_server_is_the_pinned_release(kube_api: client.ApiClient) -> None:
    info = client.VersionApi(kube_api).get_code()
    [wanted] = pinned()
    assert info.git_version == wanted
    assert (int(info.major), int(info.minor)) == version.release_of({"gitVersion": wanted})
    assert version.check(kube_api.sanitize_for_serialization(info)) == wanted


def test_the_oldest_pinned_release_is_the_minimum() -> None:
    """What the chart and the operator call the minimum is what the matrix tests."""
    releases = pinned("--all")
    assert min(version.release_of({"gitVersion": r}) for r in releases) == version.MINIMUM
    assert pinned() == [os.environ.get("VA_K8S_VERSION") or releases[0]]


@pytest.mark.parametrize(
    ("info", "release"),
    [
        ({"major": "1", "minor": "34+", "gitVersion": "v1.34.2-eks-abc"}, (1, 34)),
        ({"major": "1", "minor": "37", "gitVersion": "v1.37.2"}, (1, 37)),
        ({"major": "", "minor": "", "gitVersion": "v1.36.1-gke.100"}, (1, 36)),
    ],
)
def test_managed_cluster_versions_are_read(info: dict[str, str], release: tuple[int, int]) -> None:
    assert version.release_of(info) == release
    assert version.check(info) == info["gitVersion"]


def test_an_older_server_is_refused_naming_both_versions() -> None:
    with pytest.raises(version.UnsupportedServer, match=r"v1\.33\.5.*1\.34 or newer"):
        version.check({"major": "1", "minor": "33", "gitVersion": "v1.33.5"})


OLD_VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.5",
    "gitCommit": "0" * 40,
    "gitTreeState": "clean",
    "buildDate": "2025-09-01T00:00:00Z",
    "goVersion": "go1.24.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}


class _OldServer(BaseHTTPRequestHandler):
    """An API server that says it is 1.33 (and knows nothing else)."""

    def do_GET(self) -> None:
        found = self.path.split("?")[0].rstrip("/") == "/version"
        body = json.dumps(OLD_VERSION if found else {}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def old_server_kubeconfig(tmp_path: Path) -> Iterator[Path]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _OldServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "old", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "old", "context": {"cluster": "old", "user": "u"}}],
                "current-context": "old",
            }
        )
    )
    yield kubeconfig
    server.shutdown()


def test_the_operator_refuses_to_start_on_an_older_server(old_server_kubeconfig: Path) -> None:
    env = {
        **os.environ,
        **watch_env("postgres://nobody@127.0.0.1:1/none", ["va-none"]),
        "KUBECONFIG": str(old_server_kubeconfig),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "va_operator.launcher"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "v1.33.5" in proc.stderr + proc.stdout
    assert f"needs {version.MINIMUM_TEXT} or newer" in proc.stderr + proc.stdout
