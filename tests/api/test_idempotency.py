"""Idempotent uploads: a retry with the same key answers the first response, never a second
task; a reused key for another request is a 422; a key in flight is a 409 until that request
ends or is abandoned; keys are kept 24 h."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from tests.videos import noise_video
from videoanalysis.models import IdempotencyKey, Task, User
from videoanalysis.tasks import utcnow

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
    await IdempotencyKey.create(owner=owner, key="k-4", claimed_at=utcnow() - timedelta(seconds=idle + 1))
    assert (await post(api_client, headers, clips[0], "k-4")).status_code == 202  # its process died
    await IdempotencyKey.create(owner=owner, key="k-5", claimed_at=utcnow())
    await IdempotencyKey.filter(key="k-5").update(created_at=utcnow() - timedelta(hours=25))
    fresh = await post(api_client, headers, clips[0], "k-5")
    assert fresh.status_code == 202  # the day-old key was purged, not in flight
    assert await IdempotencyKey.filter(owner=owner, key="k-5").count() == 1
