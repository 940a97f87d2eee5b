"""Where the tests find the repository they test."""

from __future__ import annotations

from pathlib import Path

#: The repository root: the working directory of every process the tests start.
ROOT = Path(__file__).resolve().parents[2]
#: Media checked in for the tests (the smoke run's face video).
DATA = ROOT / "tests" / "data"
