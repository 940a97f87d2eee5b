"""The CLI reference, from the Typer app `va_cli.main:app` through its click command tree (Typer
ships its own copy of click, so only the objects Typer builds are used)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main
from common import cell, page

NOTES = Path(__file__).parent / "notes" / "cli.md"


def _params(command: Any, ctx: Any) -> list[str]:
    rows = []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            name = f"`{param.name.upper()}` {param.display_type(ctx)}"
            help_text = (param.help or "") + ("" if param.required else " (optional)")
        else:
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, help_text = record
            name = f"`{name}`"
        rows.append(f"| {cell(name)} | {cell(help_text)} |")
    return ["| argument or option | description |", "| --- | --- |", *rows, ""] if rows else []


def render() -> str:
    from va_cli.main import app

    root: Any = typer.main.get_command(app)  # a group: its subcommands are in .commands
    ctx = root.context_class(root, info_name="videoanalysis")
    lines = [
        "`videoanalysis` (also `python -m va_cli`), installed by `pip install videoanalysis`. Every command "
        "takes `--help`. Global options come before the command:",
        "",
        *_params(root, ctx),
    ]
    for name, command in root.commands.items():
        sub = command.context_class(command, info_name=name, parent=ctx)
        usage = " ".join(command.collect_usage_pieces(sub))
        lines += [f"## `{name}`", "", f"```text\nvideoanalysis {name} {usage}\n```", ""]
        if command.help:
            lines += [" ".join(command.help.split()), ""]
        lines += _params(command, sub)
    if NOTES.exists():
        lines += [NOTES.read_text().rstrip()]
    return page("Command line", lines, source="the Typer app `va_cli.main:app`")
