"""A replica's short memory of user rows: an authenticated request reads its user (and so the
token version that a password change bumps) from here instead of the database, for at most
`VA_AUTH_CACHE_SECONDS`.

A save of a user in this process (password change, profile edit, webhook secret) forgets that
user at once, so on the replica that served the change earlier tokens fail immediately; other
replicas notice within the time limit. A read that started before such a save is not kept.
Sign-in sessions are remembered the same way: a session ended here (logout, a replayed refresh
token) is forgotten at once (`forget_session`), elsewhere within the time limit.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

from tortoise.signals import post_delete, post_save

from api.reads import Prepared
from videoanalysis.tables import AuthSession, User

USER_BY_ID = Prepared(User, {"id": int}, lambda id: User.filter(id=id))
LIVE_SESSION = Prepared(
    AuthSession,
    {"id": str, "user_id": int},
    lambda id, user_id: AuthSession.filter(id=id, user_id=user_id, revoked_at=None),
)

_caches: weakref.WeakSet[UserCache] = weakref.WeakSet()


class UserCache:
    def __init__(self, ttl_seconds: float, max_users: int = 10_000) -> None:
        self.ttl, self.max_users = ttl_seconds, max_users
        self._rows: dict[int, tuple[dict[str, Any], float]] = {}
        # One read per user at a time: when an entry expires under load, the requests that
        # find it missing wait for the same read instead of queueing hundreds of reads for
        # the connection pool (each behind a full turn of a busy event loop).
        self._reads: dict[int, asyncio.Future[dict[str, Any] | None]] = {}
        self._generation = 0
        self._sessions: dict[str, float] = {}  # live session id -> when it was read
        _caches.add(self)

    async def get(self, user_id: int) -> User | None:
        """A fresh `User` instance (callers may change and save it) or None if there is none."""
        hit = self._rows.get(user_id)
        if hit is not None and time.monotonic() - hit[1] < self.ttl:
            return User._init_from_db(**hit[0])
        read = self._reads.get(user_id)
        if read is None:
            read = self._reads[user_id] = asyncio.ensure_future(self._read(user_id))
            read.add_done_callback(
                lambda done: self._reads.pop(user_id, None) if self._reads.get(user_id) is done else None
            )
        row = await asyncio.shield(read)
        return User._init_from_db(**row) if row is not None else None

    async def _read(self, user_id: int) -> dict[str, Any] | None:
        generation, now = self._generation, time.monotonic()
        rows = await USER_BY_ID.rows(id=user_id)
        row = dict(rows[0]) if rows else None
        if row is not None and self.ttl > 0 and generation == self._generation:
            if len(self._rows) >= self.max_users:
                self._rows.pop(next(iter(self._rows)))
            self._rows[user_id] = (row, now)
        return row

    async def session_live(self, session_id: str, user_id: int) -> bool:
        """Whether the user's sign-in session has not ended (read at most once per time limit)."""
        seen = self._sessions.get(session_id)
        if seen is not None and time.monotonic() - seen < self.ttl:
            return True
        generation, now = self._generation, time.monotonic()
        live = bool(await LIVE_SESSION.rows(id=session_id, user_id=user_id))
        if live and self.ttl > 0 and generation == self._generation:
            if len(self._sessions) >= self.max_users:
                self._sessions.pop(next(iter(self._sessions)))
            self._sessions[session_id] = now
        return live

    def forget_session(self, session_id: str) -> None:
        self._generation += 1
        self._sessions.pop(session_id, None)

    def forget(self, user_id: int) -> None:
        """Drop the user's row and any read in flight (it may predate the change)."""
        self._generation += 1
        self._rows.pop(user_id, None)
        self._reads.pop(user_id, None)


@post_save(User)
async def _saved(sender: type[User], instance: User, *_: Any) -> None:
    for cache in list(_caches):
        cache.forget(instance.id)


@post_delete(User)
async def _deleted(sender: type[User], instance: User, *_: Any) -> None:
    for cache in list(_caches):
        cache.forget(instance.id)


def forget_session(session_id: str) -> None:
    """A session ended in this process: every cache here stops accepting its tokens at once."""
    for cache in list(_caches):
        cache.forget_session(session_id)
