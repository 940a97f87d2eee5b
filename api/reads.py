"""The API's hot reads as query shapes that Tortoise builds once and that run with new values.

Building a query (queryset cloning, pypika's SQL generation) cost more than the database took
to answer it on every authenticated request. A `Prepared` shape is built the first time with a
sentinel value per parameter; the positions of the sentinels in the SQL's parameter list say
where each run's values go, so the SQL stays Tortoise's own (PostgreSQL or SQLite placeholders,
column quoting) and no parameter order is assumed. The raw rows' JSON columns go to pydantic's
core as text (`json_text`), which parses them faster than Python would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)

# A distinct, never-real value per parameter; `index` keeps them apart. Integers, UUIDs and
# strings only: they reach the database as given (a UUID as text on SQLite), where a datetime
# would need the field's own conversion.
_SENTINEL_INT = 734_000_000


def _sentinel(kind: type, index: int) -> Any:
    if kind is int:
        return _SENTINEL_INT + index
    if kind is uuid.UUID:
        return uuid.UUID(int=0xA11CE + index)
    if kind is str:
        return f"\x1fprepared-sentinel-{index}\x1f"
    raise TypeError(f"no sentinel for {kind.__name__}")


def _same(built: Any, sentinel: Any) -> bool:
    return built == sentinel or built == str(sentinel)


class Prepared(Generic[M]):
    """`build(**values) -> QuerySet` with typed parameters (`{"owner_id": int, ...}`)."""

    def __init__(self, model: type[M], params: dict[str, type], build: Callable[..., QuerySet[M]]) -> None:
        self.model, self.params, self.build = model, params, build
        self._sql: str | None = None
        self._slots: list[tuple[str | None, Any]] = []

    def _prepare(self) -> str:
        samples = {name: _sentinel(kind, i) for i, (name, kind) in enumerate(self.params.items())}
        query = self.build(**samples)
        query._make_query()
        sql, built = query.query.get_parameterized_sql()
        slots: list[tuple[str | None, Any]] = []
        for value in built:  # a value that is no sentinel is a constant of the shape (a LIMIT 1)
            slots.append((next((n for n, s in samples.items() if _same(value, s)), None), value))
        missing = set(samples) - {name for name, _ in slots}
        if missing or any(str(s) in sql for s in samples.values()):
            raise RuntimeError(f"{self.model.__name__}: {sorted(missing)} are written into the SQL, not passed")
        self._sql, self._slots = sql, slots
        return sql

    async def rows(self, **values: Any) -> Sequence[Any]:
        """The raw rows (mapping-like), for reads that need no model instances."""
        sql = self._sql or self._prepare()
        db = self.model._meta.db
        params = [values[name] if name else constant for name, constant in self._slots]
        if db.capabilities.dialect == "sqlite":
            params = [str(p) if isinstance(p, uuid.UUID) else p for p in params]
        _, rows = await db.execute_query(sql, params)
        return rows

    async def all(self, **values: Any) -> list[M]:
        return [self.model._init_from_db(**dict(row)) for row in await self.rows(**values)]

    async def first(self, **values: Any) -> M | None:
        found = await self.all(**values)
        return found[0] if found else None


def json_text(value: Any) -> str | bytes:
    """A raw row's JSON column as text. JSON columns arrive as text from asyncpg and SQLite; a
    union with the parsed form cost four times the parse, so anything else is turned back into text."""
    return value if isinstance(value, str | bytes) else json.dumps(value)


def json_value(value: Any) -> Any:
    """A raw row's JSON column parsed (it may arrive parsed already)."""
    return json.loads(value) if isinstance(value, str | bytes) else value
