"""Rewrite MODELS_STATE of the newest Aerich migration from the models as they are now.

Aerich diffs the next `aerich migrate` against the newest file's MODELS_STATE. When two
migrations were written side by side (on two branches), the newest one does not know the
other's changes; after merging, run `.venv/bin/python scripts/refresh-migration-state.py`
(tests/core/test_migrate.py fails until the state matches)."""

from __future__ import annotations

import asyncio
import re
import sys

from aerich.utils import get_formatted_compressed_data

from videoanalysis.migrate import models_state, newest_migration


def main() -> int:
    path = newest_migration()
    text = path.read_text()
    state = get_formatted_compressed_data(asyncio.run(models_state()))
    new = re.sub(r"MODELS_STATE = \(\n.*?\n\)", lambda _: f"MODELS_STATE = (\n    {state}\n)", text, flags=re.S)
    path.write_text(new)
    print(f"{path.name}: MODELS_STATE {'rewritten' if new != text else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
