"""Every write through the Kubernetes client asks for strict field validation (`kube.STRICT`).

A scan of the source, no cluster: each reference to a client method that writes (a `create_*`,
`patch_*` or `replace_*` method of the client's API classes, by attribute or by name as a
string) must sit in a call that passes `**STRICT` or `field_validation="Strict"`. What the API
server then does with it is tested in test_field_validation.py.
"""

from __future__ import annotations

import ast

from kubernetes import client

from tests.support.paths import ROOT
from videoanalysis.k8s import kube

PACKAGES = ("api", "va_operator", "videoanalysis")


def _client_writes() -> frozenset[str]:
    """The names of the client's write methods (with their `_with_http_info` variants)."""
    apis = [getattr(client, name) for name in dir(client) if name.endswith("Api")]  # a lazy module
    return frozenset(m for cls in apis for m in vars(cls) if m.startswith(("create_", "patch_", "replace_")))


WRITES = _client_writes()


def _is_strict(call: ast.Call) -> bool:
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg == "field_validation" and isinstance(value, ast.Constant) and value.value == "Strict":
            return True
        if keyword.arg is None and (
            (isinstance(value, ast.Name) and value.id == "STRICT")
            or (isinstance(value, ast.Attribute) and value.attr == "STRICT")
        ):
            return True
    return False


def scan(source: str, filename: str) -> tuple[list[str], list[str]]:
    """(every write found, those without strict validation) as `file:line method`."""
    tree = ast.parse(source, filename)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found, unstrict = [], []
    for node in sorted(ast.walk(tree), key=lambda n: getattr(n, "lineno", 0)):
        if isinstance(node, ast.Attribute):
            method = node.attr
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            method = node.value
        else:
            continue
        if method not in WRITES:
            continue
        where = f"{filename}:{node.lineno} {method}"
        found.append(where)
        call = parents.get(node)
        while call is not None and not isinstance(call, ast.Call):
            call = parents.get(call)
        if call is None or not _is_strict(call):
            unstrict.append(where)
    return found, unstrict


def test_strict_is_the_servers_strict_field_validation() -> None:
    assert kube.STRICT == {"field_validation": "Strict"}


def test_the_scan_knows_the_client_writes_and_no_other_create() -> None:
    assert {"create_namespaced_job", "patch_namespaced_custom_object_status", "replace_namespaced_secret"} <= WRITES
    assert not {"create_task", "create_subprocess_exec", "create_default_context"} & WRITES


def test_the_scan_flags_a_write_without_strict_validation() -> None:
    source = """
api.create_namespaced_job(ns, job)
asyncio.to_thread(kube.core().patch_namespaced_secret, name, ns, patch)
self._call("replace_namespaced_custom_object", body, field_validation="Warn")
handler = api.create_namespaced_event
api.create_namespaced_job(ns, job, **kube.STRICT)
asyncio.to_thread(core.patch_namespaced_secret, name, ns, patch, **STRICT)
self._call("create_namespaced_custom_object", body, field_validation="Strict")
asyncio.create_task(loop())
"""
    found, unstrict = scan(source, "x.py")
    assert len(found) == 7
    assert [w.split()[1] for w in unstrict] == [
        "create_namespaced_job",
        "patch_namespaced_secret",
        "replace_namespaced_custom_object",
        "create_namespaced_event",
    ]


def test_every_client_write_of_the_project_is_strict() -> None:
    found, unstrict = [], []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            f, u = scan(path.read_text(), str(path.relative_to(ROOT)))
            found += f
            unstrict += u
    assert not unstrict, "writes without **kube.STRICT:\n" + "\n".join(unstrict)
    # The scan sees the known write paths (it would pass vacuously if it saw none).
    assert {w.split()[1] for w in found} >= {
        "create_namespaced_job",
        "patch_namespaced_custom_object_status",
        "create_namespaced_custom_object",
        "create_namespaced_secret",
        "patch_namespaced_secret",
        "create_namespaced_event",
    }
