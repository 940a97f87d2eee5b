"""The settings reference of each component, from its pydantic-settings class. Every field must
carry a `description`: one without fails the generation, so an undocumented setting fails the
docs build. Hand-written detail for a component lives in `scripts/docs/notes/settings-<name>.md`
and is appended to its page."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any

from common import cell, code, page
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

NOTES = Path(__file__).parent / "notes"


class UndocumentedSetting(Exception):
    """A settings field without a description, or hand-written notes naming a variable the
    component does not read."""


NOTE_ROW = re.compile(r"^\| ([^|]+) \|", re.M)
VARIABLE = re.compile(r"`(VA_[A-Z0-9_]+)`")


def check_notes(cls: type, notes: str, source: Path) -> None:
    """Every `VA_` variable in the first column of the notes' tables is a field of `cls`."""
    prefix = cls.model_config.get("env_prefix", "")  # type: ignore[attr-defined]
    known = {f"{prefix}{name.upper()}" for name in cls.model_fields}  # type: ignore[attr-defined]
    for first_cell in NOTE_ROW.findall(notes):
        for name in VARIABLE.findall(first_cell):
            if name not in known:
                raise UndocumentedSetting(f"{source.name} describes {name}, which {cls.__name__} does not have")


def _components() -> list[tuple[str, str, type, str]]:
    """(page name, title, class, what runs it)."""
    from api.config import ApiSettings
    from inference_job.config import JobSettings
    from va_operator.config import OperatorSettings
    from videoanalysis.migrate import MigrateSettings
    from videoanalysis.settings import CoreSettings

    return [
        ("shared", "Shared settings", CoreSettings, "every component (API, operator, job, migrations)"),
        ("api", "API settings", ApiSettings, "`python -m api` (and `make run`)"),
        ("operator", "Operator settings", OperatorSettings, "`python -m va_operator.launcher`"),
        ("job", "Job settings", JobSettings, "`python -m inference_job --task-id ID`"),
        ("migrate", "Migration settings", MigrateSettings, "`python -m videoanalysis.migrate`"),
    ]


def _type(info: FieldInfo) -> str:
    text = str(info.annotation).replace("typing.", "").replace("pathlib.", "")
    if isinstance(info.annotation, type):
        if issubclass(info.annotation, enum.Enum):
            return " · ".join(str(m.value) for m in info.annotation)
        text = info.annotation.__name__
    return text.replace("Literal[", "one of [").replace("NoneType", "None")


def _bounds(info: FieldInfo) -> str:
    signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "length ≥", "pattern": "matches"}
    out = []
    for meta in info.metadata:
        for attr, sign in signs.items():
            value = getattr(meta, attr, None)
            if value is not None:
                out.append(f"{sign} `{value}`" if attr == "pattern" else f"{sign} {value}")
    return ", ".join(out)


def _default(info: FieldInfo) -> str:
    value: Any = info.default
    if value is PydanticUndefined:
        value = info.default_factory() if info.default_factory else None  # type: ignore[call-arg]
    if isinstance(value, enum.Enum):
        value = value.value
    if hasattr(value, "model_dump"):
        value = value.model_dump(exclude_defaults=True)
    if isinstance(value, Path):
        value = str(value)
    return code(value)


def table(cls: type, names: list[str]) -> list[str]:
    fields: dict[str, FieldInfo] = cls.model_fields  # type: ignore[attr-defined]
    prefix = cls.model_config.get("env_prefix", "")  # type: ignore[attr-defined]
    rows = ["| variable | type | default | description |", "| --- | --- | --- | --- |"]
    for name in names:
        info = fields[name]
        if not (info.description or "").strip():
            raise UndocumentedSetting(
                f"{cls.__module__}.{cls.__name__}.{name} ({prefix}{name.upper()}) has no description: "
                "add Field(..., description=...)"
            )
        bounds = _bounds(info)
        kind = _type(info) + (f" ({bounds})" if bounds else "")
        rows.append(f"| `{prefix}{name.upper()}` | {cell(kind)} | {_default(info)} | {cell(info.description)} |")
    return [*rows, ""]


def render_all() -> dict[str, str]:
    """Page name → Markdown, one page per component."""
    components = _components()
    core = components[0][2]
    shared = list(core.model_fields)  # type: ignore[attr-defined]
    pages = {}
    for name, title, cls, runs in components:
        own = [n for n in cls.model_fields if cls is core or n not in shared]  # type: ignore[attr-defined]
        lines = [
            f"Environment variables of {runs}, read once at start-up by "
            f"`{cls.__module__}.{cls.__name__}`; a bad value stops the process with the variable's name.",
            "",
        ]
        if cls is not core:
            lines += ["It also reads the [shared settings](shared.md) of every component.", ""]
        lines += ["## Variables", "", *table(cls, own)]
        notes = NOTES / f"settings-{name}.md"
        if notes.exists():
            check_notes(cls, notes.read_text(), notes)
            lines += [notes.read_text().rstrip(), ""]
        pages[name] = page(title, lines, source=f"`{cls.__module__}.{cls.__name__}`")
    return pages
