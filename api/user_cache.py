"""A replica's short memory of user rows: an authenticated request reads its user (and so the
token version that a password change bumps) from here instead of the database, for at most
`VA_AUTH_CACHE_SECONDS`.

A save of a user in this process (password change, profile edit, webhook secret) forgets that
user at once, so on the replica that served the change earlier tokens fail immediately; other
replicas notice within the time limit. A read that started before such a save is not kept.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from tortoise.signals import post_delete, post_save

from api.reads import Prepared
from videoanalysis.models import User

USER_BY_ID = Prepared(User, {"id": int}, lambda id: User.filter(id=id))

_caches: weakref.WeakSet[UserCache] = weakref.WeakSet()


class UserCache:
    def __init__(self, ttl_seconds: float, max_users: int = 10_000) -> None:
        self.ttl, self.max_users = ttl_seconds, max_users
        self._rows: dict[int, tuple[dict[str, Any], float]] = {}
        self._generation = 0
        _caches.add(self)

    async def get(self, user_id: int) -> User | None:
        """A fresh `User` instance (callers may change and save it) or None if there is none."""
        now = time.monotonic()
        hit = self._rows.get(user_id)
        if hit is not None and now - hit[1] < self.ttl:
            return User._init_from_db(**hit[0])
        generation = self._generation
        rows = await USER_BY_ID.rows(id=user_id)
        if not rows:
            return None
        row = dict(rows[0])
        if self.ttl > 0 and generation == self._generation:
            if len(self._rows) >= self.max_users:
                self._rows.pop(next(iter(self._rows)))
            self._rows[user_id] = (row, now)
        return User._init_from_db(**row)

    def forget(self, user_id: int) -> None:
        self._generation += 1
        self._rows.pop(user_id, None)


@post_save(User)
async def _saved(sender: type[User], instance: User, *_: Any) -> None:
    for cache in list(_caches):
        cache.forget(instance.id)


@post_delete(User)
async def _deleted(sender: type[User], instance: User, *_: Any) -> None:
    for cache in list(_caches):
        cache.forget(instance.id)
