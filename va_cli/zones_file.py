"""`analyze --zones FILE`: a task's zones and lines from a small YAML or JSON file, sent as the
upload's `zones` and `lines` JSON fields. The server checks the geometry; here only the shape
of the file is."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from va_cli.errors import CliError

MAX_BYTES = 1 << 20  # a file of zones is a few kilobytes


def zone_fields(path: Path) -> dict[str, str]:
    """The upload fields for the file's `zones:` and `lines:` lists (either may be absent)."""
    if path.stat().st_size > MAX_BYTES:
        raise CliError(f"{path}: larger than {MAX_BYTES} bytes; a file of zones and lines is a few kilobytes")
    try:
        loaded = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: not YAML or JSON ({exc})") from None
    if not isinstance(loaded, dict) or not set(loaded) <= {"zones", "lines"} or not loaded:
        raise CliError(f"{path}: expected a mapping with `zones:` and/or `lines:` lists")
    fields = {}
    for key in ("zones", "lines"):
        if key in loaded:
            if not isinstance(loaded[key], list):
                raise CliError(f"{path}: `{key}` must be a list")
            fields[key] = json.dumps(loaded[key])
    return fields
