"""One template of the chart, rendered by the real helm for a test namespace, and kubectl to
apply it: the tests on the control plane use what ships, not a copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support.cluster import kubectl
from tests.support.helm import BIN, CHART, RELEASE, parse, run


def render_template(template: str, namespace: str, values: dict[str, Any], workdir: Path) -> str:
    """`helm template --show-only templates/<template>` with `namespace` as the release's."""
    values_file = workdir / f"values-{template}"
    values_file.write_text(yaml.safe_dump(values))
    args = ["--namespace", namespace, "-f", str(values_file), "--show-only", f"templates/{template}"]
    return run(BIN / "helm", "template", RELEASE, CHART, *args).stdout


def apply(text: str, namespace: str) -> None:
    proc = kubectl("apply", "-n", namespace, "-f", "-", input=text, check=False)
    assert proc.returncode == 0, proc.stderr


def delete(text: str, namespace: str) -> None:
    kubectl("delete", "-n", namespace, "--ignore-not-found", "--wait", "-f", "-", input=text, check=False)


def documents(text: str, *kinds: str) -> str:
    """The documents of a render that are of one of `kinds`, as one YAML stream."""
    return yaml.safe_dump_all([doc for doc in parse(text) if doc["kind"] in kinds])
