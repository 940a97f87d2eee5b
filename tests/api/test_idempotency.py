"""Idempotent uploads: a retry with the same key answers the first response, never a second
task; a reused key for another request is a 422; a key in flight is a 409 until that request
ends or is abandoned; keys are kept 24 h."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from tortoise import Tortoise
from tortoise.exceptions import OperationalError

from api.dispatchers.base import DispatchError
from api.routes import uploads as upload_routes
from tests.support.videos import noise_video
from videoanalysis.clock import local_now
from videoanalysis.tables import IdempotencyKey, Task, User

UPLOAD = "/tasks/video-objects-detection/"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("clips")
    return (
        noise_video(folder / "a.mp4", frames=6).read_bytes(),
        noise_video(folder / "b.mp4", frames=7).read_bytes(),
    )


async def post(client, headers: dict, clip: bytes, key: str | None = None, **data: str) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return await client.post(
        UPLOAD, headers={**headers, **extra}, files={"videofile": ("v.mp4", clip, "video/mp4")}, data=data
    )


async def tasks_of(signed_up: dict) -> int:
    return await Task.filter(owner__email=signed_up["user"]["email"]).count()


async def test_a_retry_with_the_same_key_answers_the_first_response(api_client, signup_user, clips) -> None:
    user, headers = await signup_user(api_client)
    first = await post(api_client, headers, clips[0], "k-1", frame_stride="2")
    again = await post(api_client, headers, clips[0], "k-1", frame_stride="2")
    assert first.status_code == again.status_code == 202, again.text
    assert again.json() == first.json()
    assert await tasks_of(user) == 1
    token = await post(api_client, headers, clips[0], client_request_token="t-1")
    token_again = await post(api_client, headers, clips[0], client_request_token="t-1")
    assert token_again.json() == token.json() and await tasks_of(user) == 2
    _, other_headers = await signup_user(api_client)
    assert (await post(api_client, other_headers, clips[0], "k-1")).json()["task_id"] != first.json()["task_id"]


async def test_the_same_key_for_another_request_is_refused(api_client, signup_user, clips) -> None:
    user, headers = await signup_user(api_client)
    assert (await post(api_client, headers, clips[0], "k-2", frame_stride="2")).status_code == 202
    for other in (
        await post(api_client, headers, clips[0], "k-2", frame_stride="3"),
        await post(api_client, headers, clips[1], "k-2", frame_stride="2"),
    ):
        assert other.status_code == 422, other.text
        assert "used for another request" in other.json()["detail"]
    assert await tasks_of(user) == 1
    bad = await post(api_client, headers, clips[0], "x" * 256)
    assert bad.status_code == 422 and "Idempotency-Key must be" in bad.json()["detail"]


def multipart(clip: bytes) -> tuple[bytes, dict[str, str]]:
    request = httpx.Request("POST", "http://api.test" + UPLOAD, files={"videofile": ("v.mp4", clip, "video/mp4")})
    return request.read(), dict(request.headers)


async def test_a_key_in_flight_is_409_until_that_upload_is_cut_off(api_client, signup_user, clips) -> None:
    user, headers = await signup_user(api_client)
    body, form_headers = multipart(clips[0])
    stalled, sent_half = asyncio.Event(), asyncio.Event()

    async def slow_body():
        yield body[: len(body) // 2]
        sent_half.set()
        await stalled.wait()  # the client's connection hangs mid-body
        yield body[len(body) // 2 :]

    first = asyncio.create_task(
        api_client.post(UPLOAD, headers={**headers, **form_headers, "Idempotency-Key": "k-3"}, content=slow_body())
    )
    await sent_half.wait()
    busy = await post(api_client, headers, clips[0], "k-3")
    assert busy.status_code == 409 and "still in progress" in busy.json()["detail"]
    first.cancel()  # the upload is cut off: its claim is released
    await asyncio.gather(first, return_exceptions=True)
    retry = await post(api_client, headers, clips[0], "k-3")
    assert retry.status_code == 202, retry.text
    assert await tasks_of(user) == 1


async def test_an_abandoned_claim_is_taken_over_and_old_keys_are_purged(api_client, signup_user, clips) -> None:
    user, headers = await signup_user(api_client)
    owner = await User.get(email=user["user"]["email"])
    idle = api_client.settings.upload_idle_seconds
    await IdempotencyKey.create(owner=owner, key="k-4", claimed_at=local_now() - timedelta(seconds=idle + 1))
    assert (await post(api_client, headers, clips[0], "k-4")).status_code == 202  # its process died
    await IdempotencyKey.create(owner=owner, key="k-5", claimed_at=local_now())
    await IdempotencyKey.filter(key="k-5").update(created_at=local_now() - timedelta(hours=25))
    fresh = await post(api_client, headers, clips[0], "k-5")
    assert fresh.status_code == 202  # the day-old key was purged, not in flight
    assert await IdempotencyKey.filter(owner=owner, key="k-5").count() == 1


# --- The key is bound in the transaction that INSERTs the task ----------------------------------


class QuietDispatcher:
    """Records the tasks it is handed; `stall` makes the next submit hang (the request never gets
    past the step after the INSERT: its process was killed there), `refuse` makes it fail."""

    name = "quiet"

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.stall = self.refuse = False
        self.stalled = asyncio.Event()

    async def submit(self, task: Task) -> None:
        if self.stall:
            self.stall = False
            self.stalled.set()
            await asyncio.Event().wait()
        if self.refuse:
            self.refuse = False
            raise DispatchError("the cluster API is unreachable")
        self.submitted.append(str(task.id))

    async def cancel(self, task: Task) -> None:
        return None

    async def close(self) -> None:
        return None


@contextlib.asynccontextmanager
async def as_server(client) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a server answers: an unhandled error is a 500 response, not raised here."""
    transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=60) as server:
        yield server


async def key_row(owner_email: str, key: str) -> IdempotencyKey:
    return await IdempotencyKey.get(owner__email=owner_email, key=key)


async def test_a_process_killed_right_after_the_insert_leaves_the_key_with_its_task(
    open_api_client, signup_user, clips
) -> None:
    dispatcher = QuietDispatcher()
    async with open_api_client(dispatcher_instance=dispatcher) as client:
        user, headers = await signup_user(client)
        email, idle = user["user"]["email"], client.settings.upload_idle_seconds
        dispatcher.stall = True
        first = asyncio.create_task(post(client, headers, clips[0], "k-killed"))
        await dispatcher.stalled.wait()  # the row is written; nothing of this request runs again
        [task] = await Task.filter(owner__email=email)
        during = await post(client, headers, clips[0], "k-killed")  # no 409: the task exists
        assert during.status_code == 202 and during.json()["task_id"] == str(task.id), during.text
        # Nobody keeps the claim alive past the idle window: what a dead process leaves.
        await IdempotencyKey.filter(owner__email=email, key="k-killed").update(
            claimed_at=local_now() - timedelta(seconds=idle + 1)
        )
        retry = await post(client, headers, clips[0], "k-killed")
        assert retry.status_code == 202, retry.text
        assert retry.json() == during.json()  # a replay of the key, never a second task
        assert await tasks_of(user) == 1 and (await key_row(email, "k-killed")).task_id == task.id
        assert dispatcher.submitted == []  # no second dispatch either (the first one's is lost)
        # Cut off instead of killed (the client went away after the INSERT): the key stays too.
        dispatcher.stall, dispatcher.stalled = True, asyncio.Event()
        cut = asyncio.create_task(post(client, headers, clips[1], "k-cut"))
        await dispatcher.stalled.wait()
        cut.cancel()
        await asyncio.gather(cut, return_exceptions=True)
        again = await post(client, headers, clips[1], "k-cut")
        assert again.status_code == 202, again.text
        assert await tasks_of(user) == 2 and (await key_row(email, "k-cut")).task_id == uuid.UUID(
            again.json()["task_id"]
        )
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        assert await tasks_of(user) == 2 and (await key_row(email, "k-killed")).task_id == task.id


async def test_a_500_after_the_insert_answers_the_same_task_to_a_retry(
    open_api_client, signup_user, clips, monkeypatch
) -> None:
    dispatched = upload_routes._dispatch
    blips = []

    async def blip_once(task, dispatcher):  # a database error in the dispatch bookkeeping
        if not blips:
            blips.append(task.id)
            raise OperationalError("server closed the connection unexpectedly")
        return await dispatched(task, dispatcher)

    monkeypatch.setattr(upload_routes, "_dispatch", blip_once)
    async with open_api_client(dispatcher_instance=QuietDispatcher()) as client, as_server(client) as server:
        user, headers = await signup_user(client)
        failed = await post(server, headers, clips[0], "k-500")
        assert failed.status_code == 500 and len(blips) == 1
        retry = await post(server, headers, clips[0], "k-500")
        assert retry.status_code == 202, retry.text
        assert retry.json()["task_id"] == str(blips[0]) and retry.json()["status"] == "PENDING"
        assert await tasks_of(user) == 1
        # A dispatch that failed answers its 503 again, naming the task: never a second task.
        client.app.state.dispatcher.refuse = True
        refused = await post(server, headers, clips[1], "k-503")
        assert refused.status_code == 503 and "unreachable" in refused.json()["detail"], refused.text
        again = await post(server, headers, clips[1], "k-503")
        assert (again.status_code, again.json()) == (503, refused.json())
        assert await tasks_of(user) == 2
        failed_task = await Task.get(id=(await key_row(user["user"]["email"], "k-503")).task_id)
        assert failed_task.status == "FAILED" and str(failed_task.id) in refused.json()["detail"]


async def test_a_failure_before_the_task_exists_releases_the_key(api_client, signup_user, clips) -> None:
    user, headers = await signup_user(api_client)
    email = user["user"]["email"]
    bad = await post(api_client, headers, clips[0], "k-early", frame_stride="0")  # refused before the INSERT
    assert bad.status_code == 422 and not await IdempotencyKey.filter(owner__email=email, key="k-early").exists()
    good = await post(api_client, headers, clips[0], "k-early", frame_stride="2")
    assert good.status_code == 202 and await tasks_of(user) == 1
    # The binding fails in the database: the INSERT is rolled back with it, so no task was made,
    # the key is released and the video removed; the retry makes the one task.
    conn = Tortoise.get_connection("default")
    owner = await User.get(email=email)
    await conn.execute_script(
        f"""CREATE FUNCTION va_test_refuse_bind() RETURNS trigger AS $$ BEGIN
                RAISE EXCEPTION 'the database went away mid-transaction'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER va_test_refuse_bind BEFORE UPDATE ON idempotency_keys FOR EACH ROW
                WHEN (NEW.owner_id = {owner.id} AND NEW.task_id IS NOT NULL)
                EXECUTE FUNCTION va_test_refuse_bind();"""
    )
    try:
        async with as_server(api_client) as server:
            failed = await post(server, headers, clips[1], "k-rollback")
    finally:
        await conn.execute_script(
            "DROP TRIGGER va_test_refuse_bind ON idempotency_keys; DROP FUNCTION va_test_refuse_bind();"
        )
    assert failed.status_code == 500
    assert await tasks_of(user) == 1 and not await IdempotencyKey.filter(owner=owner, key="k-rollback").exists()
    retry = await post(api_client, headers, clips[1], "k-rollback")
    assert retry.status_code == 202, retry.text
    assert await tasks_of(user) == 2
    assert (await key_row(email, "k-rollback")).task_id == uuid.UUID(retry.json()["task_id"])
    videos = {p.name for p in api_client.settings.resolved_videos_dir.iterdir() if p.is_file()}
    assert len(videos) == 2  # the rolled-back upload left no file


async def test_a_claim_taken_over_before_its_insert_answers_the_task_the_other_request_made(
    open_api_client, signup_user, clips, monkeypatch
) -> None:
    """A first request stalled so long (before its INSERT) that a retry took its claim over and
    made the task: the first one's INSERT is rolled back, and it answers that task too."""
    check, entered, resume = upload_routes.check_upload, threading.Event(), threading.Event()

    def stalled_check(path):  # the first request stalls here, after its claim, before its task
        if not entered.is_set():
            entered.set()
            resume.wait(30)
        return check(path)

    monkeypatch.setattr(upload_routes, "check_upload", stalled_check)
    async with open_api_client(dispatcher_instance=QuietDispatcher()) as client:
        user, headers = await signup_user(client)
        email, idle = user["user"]["email"], client.settings.upload_idle_seconds
        first = asyncio.create_task(post(client, headers, clips[0], "k-race"))
        await asyncio.to_thread(entered.wait, 30)
        await IdempotencyKey.filter(owner__email=email, key="k-race").update(
            claimed_at=local_now() - timedelta(seconds=idle + 1)
        )
        retry = await post(client, headers, clips[0], "k-race")  # takes the abandoned claim over
        assert retry.status_code == 202, retry.text
        resume.set()
        late = await first
        assert late.status_code == 202 and late.json() == retry.json(), late.text
        assert await tasks_of(user) == 1 and (await key_row(email, "k-race")).task_id == uuid.UUID(
            retry.json()["task_id"]
        )
