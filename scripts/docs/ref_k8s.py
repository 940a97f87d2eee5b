"""The `VideoAnalysis` resource (from crds/videoanalysis.yaml, the CRD the chart's template is
generated from) and the chart's values (from values.yaml's `# --` comments and values.schema.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from common import cell, code, page

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "crds" / "videoanalysis.yaml"
CHART = ROOT / "charts" / "videoanalysis"
NOTES = Path(__file__).parent / "notes"


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "")
    if kind == "array":
        items = _type(schema.get("items", {}))
        kind = f"array of {items}" if items else "array"
    if schema.get("x-kubernetes-int-or-string"):
        kind = "integer or string"
    if schema.get("enum"):
        kind += " (" + " · ".join(str(v) for v in schema["enum"]) + ")"
    bounds = [
        f"{sign} {schema[key]}"
        for key, sign in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤"))
        if key in schema
    ]
    if bounds:
        kind += " " + ", ".join(bounds)
    if schema.get("nullable"):
        kind += ", nullable"
    return kind


def _fields(schema: dict[str, Any], prefix: str, depth: int = 0) -> list[str]:
    rows = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}.{name}"
        default = code(prop["default"]) if "default" in prop else ""
        rows.append(
            f"| `{path}` | {cell(_type(prop))} | {'yes' if name in required else ''} | {default} | "
            f"{cell(prop.get('description', ''))} |"
        )
        nested = prop.get("items", prop) if prop.get("type") == "array" else prop
        if depth < 2 and nested.get("properties"):
            rows += _fields(nested, path + ("[]" if prop.get("type") == "array" else ""), depth + 1)
    return rows


def render_resource() -> str:
    crd = yaml.safe_load(CRD.read_text())
    names, version = crd["spec"]["names"], crd["spec"]["versions"][0]
    root = version["schema"]["openAPIV3Schema"]
    lines = [
        f"`{crd['spec']['group']}/{version['name']}`, kind `{names['kind']}`, plural `{names['plural']}`, "
        f"short names {', '.join(f'`{n}`' for n in names.get('shortNames', []))}, "
        f"categories {', '.join(f'`{n}`' for n in names.get('categories', []))}; "
        f"{crd['spec']['scope']}, with the status subresource. How to use it: "
        "[Apply an analysis with kubectl](../how-to/kubectl.md).",
        "",
        "## Printer columns",
        "",
        "| column | type | from | shown |",
        "| --- | --- | --- | --- |",
    ]
    for col in version.get("additionalPrinterColumns", []):
        shown = "`-o wide`" if col.get("priority", 0) else "always"
        lines.append(f"| {col['name']} | {col['type']} | `{col['jsonPath']}` | {shown} |")
    lines += ["", "## Spec", ""]
    header = ["| field | type | required | default | description |", "| --- | --- | --- | --- | --- |"]
    lines += [*header, *_fields(root["properties"]["spec"], "spec"), ""]
    rules = [*root.get("x-kubernetes-validations", []), *root["properties"]["spec"].get("x-kubernetes-validations", [])]
    if rules:
        lines += ["## Validation rules", "", "CEL rules the API server checks on create and update:", ""]
        lines += ["| rule | message |", "| --- | --- |"]
        lines += [f"| {cell('`' + r['rule'] + '`')} | {cell(r.get('message', ''))} |" for r in rules]
        lines.append("")
    lines += ["## Status", "", "Written by the operator only.", ""]
    lines += [*header, *_fields(root["properties"]["status"], "status"), ""]
    return page("The VideoAnalysis resource", lines, source="`crds/videoanalysis.yaml`")


# --- chart values -------------------------------------------------------------------------------

KEY = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):(.*)$")


def value_comments(text: str) -> dict[str, str]:
    """Dotted key → its `# --` comment (helm-docs' convention), with continuation lines."""
    comments: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped[1:].strip())
            continue
        match = KEY.match(line)
        if not match or stripped.startswith("-"):
            pending = None if not stripped else pending
            continue
        indent, key = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        if pending is not None:
            comments[path] = " ".join(pending)
        pending = None
        stack.append((indent, key))
    return comments


def _schema_at(schema: dict[str, Any], path: str, defs: dict[str, Any]) -> dict[str, Any]:
    node = schema
    for part in path.split("."):
        node = node.get("properties", {}).get(part, {})
        if "$ref" in node:
            node = {**defs.get(node["$ref"].rsplit("/", 1)[-1], {}), **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _lookup(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def render_values() -> str:
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = json.loads((CHART / "values.schema.json").read_text())
    defs = schema.get("definitions", {})
    comments = value_comments(text)
    lines = [
        "Every value of `charts/videoanalysis/values.yaml`, with its comment there, its default, and the type "
        "`values.schema.json` holds it to (the schema refuses unknown keys and bad values with their path). "
        "How to use them: [Install on a cluster with Helm](../how-to/install-helm.md).",
        "",
    ]
    section = None
    for path, comment in comments.items():
        top = path.split(".")[0] if isinstance(values.get(path.split(".")[0]), dict) else "Top-level values"
        if top != section:
            section = top
            title = top if top == "Top-level values" else f"`{top}`"
            lines += ["", f"## {title}", "", "| value | type | default | description |", "| --- | --- | --- | --- |"]
        node = _schema_at(schema, path, defs)
        default = _lookup(values, path)
        shown = code(default) if not isinstance(default, dict) or len(json.dumps(default)) < 80 else "see values.yaml"
        lines.append(f"| `{path}` | {cell(_type(node))} | {shown} | {cell(comment)} |")
    notes = NOTES / "chart-values.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    return page("Chart values", lines, source="`charts/videoanalysis/values.yaml` and `values.schema.json`")
