"""The REST API reference, rendered from the OpenAPI document the app serves: the FastAPI app is
built in-process (no server, no database) and `app.openapi()` is turned into Markdown."""

from __future__ import annotations

import json
from typing import Any

from common import cell, page

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_text(schema: dict[str, Any] | None) -> str:
    """A short type for a parameter or a body field: `string`, `integer ≥ 1`, `Track[]`, `A | null`."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_schema_text(s) for s in schema["anyOf"])
    kind = schema.get("type", "")
    if kind == "array":
        return f"{_schema_text(schema.get('items'))}[]"
    if "enum" in schema:
        return " · ".join(str(v) for v in schema["enum"])
    bounds = [
        f"{sign} {schema[key]}"
        for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))
        if key in schema
    ]
    if schema.get("format"):
        kind = f"{kind} ({schema['format']})"
    return " ".join([kind, *bounds]).strip()


def _anchor(method: str, path: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in f"{method}-{path}".lower())
    return "-".join(filter(None, slug.split("-")))


def _operation(method: str, path: str, op: dict[str, Any], components: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}` {{#{_anchor(method, path)}}}", ""]
    if op.get("summary"):
        lines += [f"**{op['summary']}**", ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]
    if op.get("security"):
        lines += ["Needs a bearer token (`Authorization: Bearer <access token>`).", ""]
    params = op.get("parameters", [])
    if params:
        lines += ["| parameter | in | type | required | description |", "| --- | --- | --- | --- | --- |"]
        for p in params:
            lines.append(
                f"| `{p['name']}` | {p['in']} | {cell(_schema_text(p.get('schema')))} | "
                f"{'yes' if p.get('required') else 'no'} | {cell(p.get('description', ''))} |"
            )
        lines.append("")
    body = op.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            lines += [f"Request body (`{media}`{', required' if body.get('required') else ''}):", ""]
            lines += _body_fields(content.get("schema", {}), components)
    lines += ["| status | description |", "| --- | --- |"]
    for code, response in op.get("responses", {}).items():
        lines.append(f"| {code} | {cell(response.get('description', ''))} |")
    return [*lines, ""]


def _body_fields(schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    props = schema.get("properties")
    if not props:
        return [f"`{_schema_text(schema)}`", ""]
    required = set(schema.get("required", []))
    lines = ["| field | type | required | description |", "| --- | --- | --- | --- |"]
    for name, prop in props.items():
        lines.append(
            f"| `{name}` | {cell(_schema_text(prop))} | {'yes' if name in required else 'no'} | "
            f"{cell(prop.get('description', ''))} |"
        )
    return [*lines, ""]


def _schemas(components: dict[str, Any]) -> list[str]:
    lines = ["## Schemas", ""]
    for name, schema in sorted(components.items()):
        lines += [f"### `{name}` {{#schema-{name.lower()}}}", ""]
        if schema.get("description"):
            lines += [schema["description"].strip(), ""]
        lines += _body_fields(schema, components)
    return lines


def render() -> str:
    from api.main import create_app  # imported here: only this page needs the API installed

    doc = create_app().openapi()
    components = doc.get("components", {}).get("schemas", {})
    lines = [
        f"{doc['info'].get('summary', '')} Version {doc['info']['version']}, OpenAPI {doc['openapi']}.",
        "",
        "The running API serves the same document at `/openapi.json`, Swagger UI at `/docs` and ReDoc at "
        "`/redoc` (their scripts come from the API itself, so they work offline); this page's copy of the document "
        "is [openapi.json](openapi.json). Errors are JSON "
        '`{"detail": ...}`; see [Using the API](api-behaviour.md) for the rules that hold across operations.',
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
    lines += ["| operation | summary |", "| --- | --- |"]
    for ops in by_tag.values():
        for method, path, op in ops:
            lines.append(f"| [`{method.upper()} {path}`](#{_anchor(method, path)}) | {cell(op.get('summary', ''))} |")
    lines.append("")
    for tag, ops in by_tag.items():
        lines += [f"## {tag}", ""]
        for method, path, op in ops:
            lines += _operation(method, path, op, components)
    lines += _schemas(components)
    return page("REST API", lines, source="the OpenAPI document of `api.main.create_app()`")


def openapi_json() -> str:
    from api.main import create_app

    return json.dumps(create_app().openapi(), indent=2, sort_keys=False) + "\n"
