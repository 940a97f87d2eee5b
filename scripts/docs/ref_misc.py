"""Exit codes (from `videoanalysis.exitcodes`) and Prometheus metrics (from the metric objects
the API, the operator and the job define, read through prometheus_client's own registries)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

from common import cell, page

NOTES = Path(__file__).parent / "notes"


def _member_comments(cls: type) -> dict[str, str]:
    """Each enum member's comment in the source: the trailing one, or the lines just above it."""
    source = inspect.getsource(cls)
    lines = source.splitlines()
    comments: dict[str, str] = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            line = lines[node.lineno - 1]
            above: list[str] = []
            i = node.lineno - 2
            while i >= 0 and lines[i].strip().startswith("#"):
                above.insert(0, lines[i].strip().lstrip("#").strip())
                i -= 1
            trailing = line.split("#", 1)[1].strip() if "#" in line else ""
            comments[node.targets[0].id] = " ".join([*above, trailing]).strip()
    return comments


def render_exit_codes() -> str:
    from videoanalysis import exitcodes
    from videoanalysis.exitcodes import NOT_THE_RUNS_FAULT, PERMANENT, JobExit

    comments = _member_comments(JobExit)
    lines = [
        " ".join((exitcodes.__doc__ or "").split()),
        "",
        "| code | name | a rerun | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for member in JobExit:
        if member in PERMANENT:
            rerun = "permanent: the Job fails at once"
        elif member in NOT_THE_RUNS_FAULT:
            rerun = "ignored by the pod failure policy: a new Pod, no back-off spent"
        elif member == 0:
            rerun = "none needed"
        else:
            rerun = "retried"
        lines.append(f"| {int(member)} | `{member.name}` | {rerun} | {cell(comments.get(member.name, ''))} |")
    lines.append("| 1 | (uncaught crash) | retried | Any uncaught exception of the interpreter. |")
    notes = NOTES / "exit-codes.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    return page("Exit codes", lines, source="`videoanalysis.exitcodes.JobExit`")


HEADER = ["| metric | type | labels | description |", "| --- | --- | --- | --- |"]


def _row(name: str, kind: str, labels: Any, doc: str) -> str:
    return f"| `{name}` | {kind} | {', '.join(f'`{n}`' for n in labels)} | {cell(doc)} |"


def _module_metrics(module: Any) -> list[str]:
    """The metric objects a module defines at its top level (labelled ones have no samples yet,
    so their label names come from the object)."""
    from prometheus_client.metrics import MetricWrapperBase

    rows = []
    for metric in vars(module).values():
        if isinstance(metric, MetricWrapperBase):
            for family in metric.describe():
                name = family.name + ("_total" if family.type == "counter" else "")
                rows.append(_row(name, family.type, metric._labelnames, family.documentation))
    return [*HEADER, *rows, ""]


def _registry_metrics(registry: Any) -> list[str]:
    rows = [_row(f.name, f.type, f.samples[0].labels if f.samples else (), f.documentation) for f in registry.collect()]
    return [*HEADER, *rows, ""]


def render_metrics() -> str:
    import api.metrics
    import va_operator.metrics
    from inference_job.metrics import RunStats, registry_for

    lines = [
        "Prometheus metrics, from the official client library. Where each is served and how to scrape "
        "it follows the tables.",
        "",
        "## API",
        "",
        *_module_metrics(api.metrics),
        "## Operator",
        "",
        *_module_metrics(va_operator.metrics),
        "## Job",
        "",
        "Pushed to the Pushgateway (with a `task_id` grouping key) and/or written to a file when a run ends.",
        "",
        *_registry_metrics(registry_for(RunStats(), "model")),
    ]
    notes = NOTES / "metrics.md"
    if notes.exists():
        lines += [notes.read_text().rstrip()]
    return page("Metrics", lines, source="the metrics of `api.metrics`, `va_operator.metrics`, `inference_job.metrics`")
