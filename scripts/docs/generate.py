"""Generate the reference pages of the docs site from the code, or check that the committed ones
are current (`--check`: exit 1 naming each page that differs; CI runs it through
`make docs-check`).

    .venv/bin/python scripts/docs/generate.py [--check]

Sources: the OpenAPI document of the API app built in-process, the Typer app of the CLI, the
pydantic settings classes of each component, crds/videoanalysis.yaml, the chart's values.yaml and
values.schema.json, `videoanalysis.exitcodes`, and the Prometheus metric objects. A settings
field without a description fails the generation.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REFERENCE = ROOT / "docs" / "reference"


def _isolate() -> None:
    """Defaults only: no VA_ variable of the caller's, and a throwaway data folder (the embedded
    settings write a generated secret there when the API app is built)."""
    for name in [n for n in os.environ if n.startswith("VA_")]:
        del os.environ[name]
    os.environ["VA_DATA_DIR"] = tempfile.mkdtemp(prefix="va-docs-")
    sys.path[:0] = [str(HERE), str(ROOT)]


def pages() -> dict[Path, Callable[[], str]]:
    import ref_api
    import ref_cli
    import ref_k8s
    import ref_misc
    import ref_settings

    settings = ref_settings.render_all()
    out: dict[Path, Callable[[], str]] = {
        REFERENCE / "api.md": ref_api.render,
        REFERENCE / "openapi.json": ref_api.openapi_json,
        REFERENCE / "cli.md": ref_cli.render,
        REFERENCE / "videoanalysis-resource.md": ref_k8s.render_resource,
        REFERENCE / "chart-values.md": ref_k8s.render_values,
        REFERENCE / "exit-codes.md": ref_misc.render_exit_codes,
        REFERENCE / "metrics.md": ref_misc.render_metrics,
    }
    for name, text in settings.items():
        out[REFERENCE / "settings" / f"{name}.md"] = functools.partial(str, text)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed pages, write nothing")
    args = parser.parse_args(argv)
    _isolate()
    import ref_settings

    stale = []
    try:
        rendered = {path: render() for path, render in pages().items()}
    except ref_settings.UndocumentedSetting as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    for path, text in rendered.items():
        current = path.read_text() if path.exists() else ""
        if text == current:
            continue
        rel = path.relative_to(ROOT)
        if args.check:
            stale.append(rel)
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), f"{rel} (committed)", f"{rel} (code)")
            sys.stderr.write("\n".join(list(diff)[:40]) + "\n")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {rel}")
    if stale:
        names = ", ".join(map(str, stale))
        sys.stderr.write(f"reference pages out of date: {names}\nrun `make docs-generate` and commit them\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
