"""Prepared read shapes and the per-replica user cache, on the real PostgreSQL. (SQLite: the
embedded smoke test runs the same reads in a server process of its own, since a second
Tortoise set-up in this process would rebind the models' SQL dialect.)"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.auth.user_cache import USER_BY_ID, UserCache
from api.reads import Prepared
from videoanalysis.tables import Task, User

# Parameters declared in another order than the SQL uses them, and a constant (LIMIT) between.
NEWEST = Prepared(
    Task,
    {"limit": int, "owner_id": int, "not_id": uuid.UUID},
    lambda limit, owner_id, not_id: (
        Task.filter(owner_id=owner_id).exclude(id=not_id).order_by("-created_at", "-id").limit(limit)
    ),
)


async def _user_with_tasks(n: int) -> tuple[User, list[Task]]:
    user = await User.create(email=f"r-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    tasks = [await Task.create(owner=user, model="opencv-face", video_uri=f"videos://{i}.mp4") for i in range(n)]
    return user, tasks


async def test_prepared_shape_puts_each_value_in_its_place(db):
    user, tasks = await _user_with_tasks(4)
    other, _ = await _user_with_tasks(2)
    got = await NEWEST.all(limit=2, owner_id=user.id, not_id=tasks[-1].id)
    assert [t.id for t in got] == [tasks[2].id, tasks[1].id]  # newest first, the excluded one left out
    assert all(isinstance(t, Task) and t.owner_id == user.id for t in got)
    assert await NEWEST.all(limit=10, owner_id=other.id + 1000, not_id=uuid.uuid4()) == []


async def test_prepared_shape_refuses_a_value_written_into_the_sql(db):
    bad = Prepared(Task, {"owner_id": int}, lambda owner_id: Task.all())  # the value never reaches the SQL
    with pytest.raises(RuntimeError, match="owner_id"):
        await bad.all(owner_id=1)


async def test_user_cache_forgets_a_saved_user_and_shares_one_read(db, monkeypatch):
    user = await User.create(email=f"c-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    cache = UserCache(ttl_seconds=60)
    reads = 0
    real_rows = USER_BY_ID.rows

    async def counted(**values):
        nonlocal reads
        reads += 1
        return await real_rows(**values)

    monkeypatch.setattr(USER_BY_ID, "rows", counted)
    first = await asyncio.gather(*(cache.get(user.id) for _ in range(50)))
    assert reads == 1 and {u.email for u in first} == {user.email}
    assert len({id(u) for u in first}) == 50  # a fresh instance each: callers may change theirs
    await User.filter(id=user.id).update(first_name="elsewhere")  # another replica: not seen yet
    assert (await cache.get(user.id)).first_name == "" and reads == 1
    user.token_version += 1
    await user.save(update_fields=["token_version"])  # a save here is seen at once
    fresh = await cache.get(user.id)
    assert (fresh.token_version, fresh.first_name, reads) == (1, "elsewhere", 2)
    assert await cache.get(user.id + 10_000) is None


async def test_without_the_cache_a_change_elsewhere_is_seen_at_once(open_api_client, signup_user):
    async with open_api_client(auth_cache_seconds=0) as client:
        data, headers = await signup_user(client)
        assert (await client.get("/me/", headers=headers)).status_code == 200
        await User.filter(id=data["user"]["id"]).update(token_version=5)  # a password change on another replica
        resp = await client.get("/me/", headers=headers)
        assert resp.status_code == 401 and resp.json()["detail"] == "token is no longer valid"
