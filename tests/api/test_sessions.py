"""Refresh tokens rotate; a replay revokes the session; logout ends it; two refreshes at once
both succeed; the viewer links a session made end with it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from api.auth import sessions
from videoanalysis.tables import AuthSession, Task

REFRESH = "/authentication/token-refresh"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def viewer_link(client, access_token: str, owner_id: int) -> tuple[str, str]:
    """(task id, viewer token) of a new task of the owner and a link made with `access_token`."""
    task = await Task.create(owner_id=owner_id, model="opencv-face", video_uri="videos://x.mp4")
    resp = await client.post(f"/tasks/{task.id}/viewer-link", headers=bearer(access_token))
    assert resp.status_code == 200, resp.text
    return str(task.id), resp.json()["viewer_token"]


async def viewer_get(client, task_id: str, viewer_token: str, path: str = "/tasks/video-analysis-result/{id}/"):
    return await client.get(path.format(id=task_id), params={"viewer_token": viewer_token})


async def test_a_replayed_refresh_token_is_401_and_revokes_the_whole_session(api_client, signup_user, monkeypatch):
    monkeypatch.setattr(sessions, "ROTATION_GRACE", timedelta(0))  # a replay long after the rotation
    data, _ = await signup_user(api_client)
    first = await api_client.post(REFRESH, json={"refresh_token": data["refresh_token"]})
    assert first.status_code == 200
    pair = first.json()
    replay = await api_client.post(REFRESH, json={"refresh_token": data["refresh_token"]})
    assert replay.status_code == 401 and "already used" in replay.json()["detail"]
    # the thief's replay ended the session: the owner's current tokens are refused too
    assert (await api_client.get("/me/", headers=bearer(pair["access_token"]))).status_code == 401
    again = await api_client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401 and "session has ended" in again.json()["detail"]
    # another sign-in of the same user is a session of its own, untouched
    other = await api_client.post("/signin", json={"email": data["user"]["email"], "password": "correct horse battery"})
    assert (await api_client.get("/me/", headers=bearer(other.json()["access_token"]))).status_code == 200


async def test_the_same_token_presented_twice_at_once_gives_both_the_current_pair(api_client, signup_user):
    data, _ = await signup_user(api_client)
    body = {"refresh_token": data["refresh_token"]}
    one, two = await asyncio.gather(api_client.post(REFRESH, json=body), api_client.post(REFRESH, json=body))
    assert one.status_code == 200 and two.status_code == 200, (one.text, two.text)
    for pair in (one.json(), two.json()):
        assert (await api_client.get("/me/", headers=bearer(pair["access_token"]))).status_code == 200
    session = await AuthSession.get(user_id=data["user"]["id"])
    assert session.revoked_at is None
    # both answers name the same next token: either client's next refresh works
    nxt = await api_client.post(REFRESH, json={"refresh_token": one.json()["refresh_token"]})
    assert nxt.status_code == 200


async def test_logout_ends_the_session_and_only_it(api_client, signup_user):
    data, headers = await signup_user(api_client)
    other = await api_client.post("/signin", json={"email": data["user"]["email"], "password": "correct horse battery"})
    out = await api_client.post("/authentication/logout", headers=headers)
    assert out.status_code == 204
    assert (await api_client.get("/me/", headers=headers)).status_code == 401
    refresh = await api_client.post(REFRESH, json={"refresh_token": data["refresh_token"]})
    assert refresh.status_code == 401
    assert (await api_client.get("/me/", headers=bearer(other.json()["access_token"]))).status_code == 200
    assert (await api_client.post("/authentication/logout")).status_code == 401


async def test_logout_ends_the_viewer_links_of_its_session(api_client, signup_user):
    data, headers = await signup_user(api_client)
    task_id, link = await viewer_link(api_client, data["access_token"], data["user"]["id"])
    assert (await viewer_get(api_client, task_id, link)).status_code == 200  # the session is now cached live
    assert (await api_client.post("/authentication/logout", headers=headers)).status_code == 204
    for path in ("/tasks/video-analysis-result/{id}/", "/tasks/{id}/tracks/", "/tasks/{id}/view"):
        refused = await viewer_get(api_client, task_id, link, path)
        assert refused.status_code == 401, path
        assert "session that made this viewer link has ended" in refused.text, path


async def test_a_replayed_refresh_token_ends_the_viewer_links_of_the_session(api_client, signup_user, monkeypatch):
    monkeypatch.setattr(sessions, "ROTATION_GRACE", timedelta(0))
    data, _ = await signup_user(api_client)
    first = await api_client.post(REFRESH, json={"refresh_token": data["refresh_token"]})
    task_id, link = await viewer_link(api_client, first.json()["access_token"], data["user"]["id"])
    assert (await viewer_get(api_client, task_id, link)).status_code == 200
    replay = await api_client.post(REFRESH, json={"refresh_token": data["refresh_token"]})
    assert replay.status_code == 401 and "already used" in replay.json()["detail"]
    refused = await viewer_get(api_client, task_id, link)
    assert refused.status_code == 401 and "session that made this viewer link has ended" in refused.json()["detail"]
    # a link of another sign-in of the same user is untouched
    other = await api_client.post("/signin", json={"email": data["user"]["email"], "password": "correct horse battery"})
    other_task, other_link = await viewer_link(api_client, other.json()["access_token"], data["user"]["id"])
    assert (await viewer_get(api_client, other_task, other_link)).status_code == 200
