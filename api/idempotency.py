"""Idempotent upload: an `Idempotency-Key` header (or the `client_request_token` form field,
as AWS Rekognition's ClientRequestToken) makes a retried upload return the first task's
response instead of a second task and a second GPU run.

The key is claimed per owner (a unique index, so it holds across replicas) before the body is
read when it comes as a header, after it when it comes as a form field. It is bound to the task
in the transaction that INSERTs the task row (`Scope.create`): the row and the binding commit
together or not at all, so a key never has two tasks and a task made under a key is never lost
to it, whatever happens after the INSERT (the process killed, a database error, a failed
dispatch; a task left undispatched keeps its dispatch intent, see api.dispatchers.intents).

A second request while the first is still being received gets 409; a claim kept alive by
nobody for VA_UPLOAD_IDLE_SECONDS (the first request's process died before making a task) is
taken over, and a first request that fails or is cut off before its task exists releases it,
so the retry the feature exists for is never blocked. A bound key answers the same status and
body again (the task as it was made, or the 503 of a dispatch that failed), once the retry's own
form fields and file hash equal the first's (else 422). Keys are kept 24 h.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from videoanalysis.clock import db_now
from videoanalysis.tables import IdempotencyKey, Task, User

HEADER = "Idempotency-Key"
FIELD = "client_request_token"
KEEP = timedelta(hours=24)


class _Lost(Exception):
    """The key was no longer ours to bind (taken over, or released) when the task was made."""


class Replay(Exception):
    """The key finished before: answer its first response again."""

    def __init__(self, row: IdempotencyKey) -> None:
        self.row = row

    def response(self) -> JSONResponse:
        return JSONResponse(self.row.response, status_code=self.row.status_code or status.HTTP_202_ACCEPTED)


def checked_key(value: str | None, where: str) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > 255 or not value.isascii() or not value.isprintable():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{where} must be 1 to 255 printable ASCII characters"
        )
    return value


def fingerprint(fields: Mapping[str, str], path: Path | None) -> str:
    """sha256 of the form fields (the key itself aside) and of the file's own sha256 (none for
    a video by URL: the URL is a form field)."""
    digest = hashlib.sha256()
    if path is not None:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    form = {k: v for k, v in sorted(fields.items()) if k != FIELD}
    return hashlib.sha256(json.dumps([form, digest.hexdigest()]).encode()).hexdigest()


class Scope:
    """One upload's use of a key: `check` before the task is made, `create` makes it (bound to
    the key in the same transaction), `answer` replaces what the key answers (a failed dispatch)."""

    def __init__(self, user: User, idle_s: float) -> None:
        self.user, self.idle_s = user, idle_s
        self.key: str | None = None
        self.row: IdempotencyKey | None = None  # ours while `owned`
        self.owned = self.bound = False
        self._keepalive: asyncio.Task[None] | None = None

    async def claim(self, key: str) -> None:
        """Own the key, or learn it finished (kept for `check`); 409 while another has it."""
        self.key = key
        now = await db_now()
        await IdempotencyKey.filter(created_at__lt=now - KEEP).delete()  # the 24 h purge
        try:
            self.row = await IdempotencyKey.create(owner=self.user, key=key, claimed_at=now)
        except IntegrityError:
            row = await IdempotencyKey.get_or_none(owner=self.user, key=key)
            if row is None:  # released meanwhile
                return await self.claim(key)
            self.row = row
            if row.status_code is not None:  # bound with its task: `check` compares and replays
                return None
            stale = now - timedelta(seconds=self.idle_s)  # a claim with a task is never taken over
            taken = row.claimed_at <= stale and await IdempotencyKey.filter(
                id=row.id, claimed_at=row.claimed_at, status_code=None, task_id=None
            ).update(claimed_at=now)
            if not taken:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    detail=f"a request with this {HEADER} is still in progress; retry once it ended",
                ) from None
        self.owned = True
        self._keepalive = asyncio.create_task(self._touch())
        return None

    async def _touch(self) -> None:
        while self.row is not None:
            await asyncio.sleep(self.idle_s / 3)
            with contextlib.suppress(Exception):
                await IdempotencyKey.filter(id=self.row.id, status_code=None).update(claimed_at=await db_now())

    async def check(self, fields: Mapping[str, str], path: Path | None) -> None:
        """After the body: claim a form-field key, then replay a finished key (Replay) or refuse
        a key reused for another request (422); a fresh claim records the fingerprint."""
        if self.key is None:
            key = checked_key(fields.get(FIELD), FIELD)
            if key is None:
                return
            await self.claim(key)
        if self.row is None:  # never after a claim
            return
        mark = await run_in_threadpool(fingerprint, fields, path)
        if self.owned:
            self.row.fingerprint = mark
            await IdempotencyKey.filter(id=self.row.id).update(fingerprint=mark)
            return
        if self.row.fingerprint != mark:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"this {HEADER} was used for another request (other form fields or another file); "
                "use a new key for a new request",
            )
        raise Replay(self.row)

    async def create(
        self, insert: Callable[[BaseDBAsyncClient | None], Awaitable[Task]], answer: Callable[[Task], Any]
    ) -> Task:
        """`insert` the task row and, with a key we own, bind the key to it (answered with
        `answer(task)`, 202) in the same transaction. The binding only takes a key with no task
        yet, so a claim taken over meanwhile never gets a second task: this request's INSERT is
        rolled back and it answers the task the other one made (Replay), or 409."""
        if not self.owned or self.row is None:
            return await insert(None)
        row = self.row
        try:
            async with in_transaction() as conn:
                task = await insert(conn)
                bound = await (
                    IdempotencyKey.filter(id=row.id, task_id=None)
                    .using_db(conn)
                    .update(task_id=task.id, status_code=status.HTTP_202_ACCEPTED, response=answer(task))
                )
                if bound != 1:
                    raise _Lost
        except _Lost:
            self.owned = False
            now = await IdempotencyKey.get_or_none(id=row.id)
            if now is not None and now.status_code is not None and now.fingerprint == row.fingerprint:
                raise Replay(now) from None
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"another request with this {HEADER} took it over; retry to get its answer",
            ) from None
        self.bound = True
        return task

    async def answer(self, status_code: int, body: Any) -> None:
        """What the bound key answers from now on (the 503 of a dispatch that failed); best effort:
        failing here leaves the answer it was bound with, which names the same task."""
        if self.bound and self.row is not None:
            with contextlib.suppress(Exception):
                await IdempotencyKey.filter(id=self.row.id).update(status_code=status_code, response=body)

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            await asyncio.gather(self._keepalive, return_exceptions=True)
        if self.owned and not self.bound and self.row is not None:  # no task made: release
            with contextlib.suppress(Exception):  # a key with a task (a commit we saw fail) stays
                await IdempotencyKey.filter(id=self.row.id, task_id=None, status_code=None).delete()
        self.row = None


@contextlib.asynccontextmanager
async def scope(request: Request, user: User, idle_s: float) -> AsyncIterator[Scope]:
    """The upload's key scope; a header key is claimed before the body is read."""
    current = Scope(user, idle_s)
    try:
        key = checked_key(request.headers.get(HEADER), HEADER)
        if key is not None:
            await current.claim(key)
        yield current
    finally:
        await asyncio.shield(current.close())
