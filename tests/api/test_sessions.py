"""Refresh tokens rotate; a replay revokes the session; logout ends it; two refreshes at once
both succeed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from api import sessions
from videoanalysis.models import AuthSession

REFRESH = "/authentication/token-refresh"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
