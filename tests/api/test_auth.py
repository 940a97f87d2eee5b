"""Accounts over HTTP: sign-up, sign-in in its three forms, token refresh, password change, /me/."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from jose import jwt

from api.auth.tokens import TokenType, create_token
from videoanalysis.tables import User

PASSWORD = "correct horse battery"


async def test_signup_returns_user_and_tokens_never_the_hash(api_client, signup_user):
    data, headers = await signup_user(api_client, first_name="Grace", last_name="Hopper")
    assert set(data) == {"user", "access_token", "refresh_token", "token_type"}
    assert data["token_type"] == "bearer"
    assert set(data["user"]) == {"id", "email", "first_name", "last_name"}
    assert data["user"]["first_name"] == "Grace"
    stored = await User.get(id=data["user"]["id"])
    assert stored.password_hash.startswith("$argon2") and PASSWORD not in stored.password_hash
    me = await api_client.get("/me/", headers=headers)
    assert me.status_code == 200 and me.json() == data["user"]


async def test_signup_rejects_duplicates_bad_email_and_short_password(api_client, signup_user):
    data, _ = await signup_user(api_client)
    email = data["user"]["email"]
    dup = await api_client.post("/signup", json={"email": email.upper(), "password": PASSWORD})
    assert dup.status_code == 409, dup.text
    bad = await api_client.post("/signup", json={"email": "not-an-email", "password": PASSWORD})
    assert bad.status_code == 422
    short = await api_client.post("/signup", json={"email": "short@example.com", "password": "1234567"})
    assert short.status_code == 422
    assert not await User.exists(email="short@example.com")


async def test_signin_accepts_oauth2_form_original_form_and_json(api_client, signup_user):
    data, _ = await signup_user(api_client)
    email = data["user"]["email"]
    bodies = [
        {"data": {"username": email, "password": PASSWORD}},
        {"data": {"email": email, "password": PASSWORD}},
        {"json": {"email": email.upper(), "password": PASSWORD}},
        {"files": {"email": (None, email), "password": (None, PASSWORD)}},
    ]
    for body in bodies:
        resp = await api_client.post("/signin", **body)
        assert resp.status_code == 200, (body, resp.text)
        out = resp.json()
        assert out["user"] == data["user"] and out["token_type"] == "bearer"
        me = await api_client.get("/me/", headers={"Authorization": f"Bearer {out['access_token']}"})
        assert me.status_code == 200


async def test_signin_takes_the_oauth2_form_and_refuses_other_unknown_fields(api_client, signup_user):
    data, _ = await signup_user(api_client)
    email = data["user"]["email"]
    oauth2 = {"grant_type": "password", "scope": "", "client_id": "swagger", "client_secret": "s"}
    resp = await api_client.post("/signin", data={"username": email, "password": PASSWORD, **oauth2})
    assert resp.status_code == 200, resp.text
    extra = await api_client.post("/signin", json={"email": email, "password": PASSWORD, "remember_me": "1"})
    assert extra.status_code == 422, extra.text
    assert extra.json()["detail"] == [
        {"type": "extra_forbidden", "loc": ["remember_me"], "msg": "unknown field 'remember_me'"}
    ]
    typo = await api_client.post("/signin", data={"email": email, "password": PASSWORD, "emial": email})
    assert typo.status_code == 422 and "did you mean 'email'?" in typo.json()["detail"][0]["msg"]
    resp = await api_client.post("/signin", json={"email": email, "pasword": PASSWORD})
    assert resp.status_code == 422
    assert "unknown field 'pasword' (did you mean 'password'?)" in str(resp.json()["detail"])
    assert PASSWORD not in resp.text


async def test_signin_failures(api_client, signup_user):
    data, _ = await signup_user(api_client)
    email = data["user"]["email"]
    wrong = await api_client.post("/signin", data={"username": email, "password": "wrong password"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    nobody = await api_client.post("/signin", json={"email": "nobody@example.com", "password": PASSWORD})
    assert nobody.status_code == 401
    missing = await api_client.post("/signin", json={"email": email})
    assert missing.status_code == 422
    garbage = await api_client.post("/signin", content=b"[1, 2", headers={"content-type": "application/json"})
    assert garbage.status_code == 422


async def test_token_refresh_rotates_and_refuses_access_tokens(api_client, signup_user):
    data, _ = await signup_user(api_client)
    resp = await api_client.post("/authentication/token-refresh", json={"refresh_token": data["refresh_token"]})
    assert resp.status_code == 200, resp.text
    pair = resp.json()
    assert pair["refresh_token"] != data["refresh_token"]
    me = await api_client.get("/me/", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    as_refresh = await api_client.post("/authentication/token-refresh", json={"refresh_token": data["access_token"]})
    assert as_refresh.status_code == 401
    as_access = await api_client.get("/me/", headers={"Authorization": f"Bearer {data['refresh_token']}"})
    assert as_access.status_code == 401


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


async def test_token_misuse_is_401(api_client, signup_user):
    data, _ = await signup_user(api_client)
    user = await User.get(id=data["user"]["id"])
    secret = api_client.settings.secret_key
    claims = jwt.get_unverified_claims(data["access_token"])
    tokens = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "expired": create_token(user, TokenType.ACCESS, timedelta(seconds=-5), secret),
        "forged": create_token(user, TokenType.ACCESS, timedelta(minutes=5), "another-secret-" + "x" * 32),
        "tampered": jwt.encode({**claims, "sub": "999999"}, "wrong-key", algorithm="HS256"),
        "garbage": "not.a.token",
    }
    for name, token in tokens.items():
        resp = await api_client.get("/me/", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, name
    assert (await api_client.get("/me/")).status_code == 401


async def test_password_change_invalidates_earlier_tokens(api_client, signup_user):
    data, headers = await signup_user(api_client)
    email = data["user"]["email"]
    wrong = await api_client.post(
        "/authentication/password/change/",
        headers=headers,
        data={"old_password": "not it at all", "new_password": "new password 1"},
    )
    assert wrong.status_code == 400
    short = await api_client.post(
        "/authentication/password/change/", headers=headers, json={"old_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422
    confirm = {"old_password": PASSWORD, "new_password": "new password 1", "new_password_confirm": "other one"}
    extra = await api_client.post("/authentication/password/change/", headers=headers, data=confirm)
    assert extra.status_code == 422 and "unknown field 'new_password_confirm'" in extra.json()["detail"][0]["msg"]
    assert (await api_client.get("/me/", headers=headers)).status_code == 200  # nothing changed
    resp = await api_client.post(
        "/authentication/password/change/",
        headers=headers,
        data={"old_password": PASSWORD, "new_password": "new password 1"},
    )
    assert resp.status_code == 200, resp.text
    assert (await api_client.get("/me/", headers=headers)).status_code == 401
    old_refresh = await api_client.post("/authentication/token-refresh", json={"refresh_token": data["refresh_token"]})
    assert old_refresh.status_code == 401
    new_headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    assert (await api_client.get("/me/", headers=new_headers)).status_code == 200
    assert (await api_client.post("/signin", json={"email": email, "password": PASSWORD})).status_code == 401
    again = await api_client.post(
        "/authentication/password/change/",
        headers=new_headers,
        json={"old_password": "new password 1", "new_password": PASSWORD},
    )
    assert again.status_code == 200
    assert (await api_client.post("/signin", json={"email": email, "password": PASSWORD})).status_code == 200


async def test_me_patch(api_client, signup_user):
    other, _ = await signup_user(api_client)
    data, headers = await signup_user(api_client)
    resp = await api_client.patch(
        "/me/", headers=headers, json={"first_name": "Ada B.", "email": "Ada.New@Example.com"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {**data["user"], "first_name": "Ada B.", "email": "ada.new@example.com"}
    assert (await api_client.get("/me/", headers=headers)).json()["email"] == "ada.new@example.com"
    taken = await api_client.patch("/me/", headers=headers, json={"email": other["user"]["email"]})
    assert taken.status_code == 409
    assert (await api_client.patch("/me/", headers=headers, json={"email": "nope"})).status_code == 422
    assert (await api_client.patch("/me/", headers=headers, json={"password_hash": "x"})).status_code == 422
    assert (await api_client.patch("/me/", json={"first_name": "X"})).status_code == 401
    signin = await api_client.post("/signin", json={"email": "ada.new@example.com", "password": PASSWORD})
    assert signin.status_code == 200


async def test_text_the_database_cannot_store_is_a_422_not_a_500(api_client, signup_user):
    """NUL and lone surrogates (both valid in JSON) are refused with the field's name."""
    _, headers = await signup_user(api_client)
    nul = await api_client.patch("/me/", headers=headers, json={"first_name": "Ada\u0000"})
    assert nul.status_code == 422 and "control characters" in nul.text
    surrogate = b'{"email": "x@example.com", "password": "pw\\ud800pw"}'
    resp = await api_client.post("/signin", content=surrogate, headers={"content-type": "application/json"})
    assert resp.status_code == 422 and "password" in resp.text and "pw" not in resp.text  # never echoed
    signup = await api_client.post(
        "/signup", json={"email": "nul@example.com", "password": "long enough", "last_name": "\u0007"}
    )
    assert signup.status_code == 422 and "last_name" in signup.text
    assert (await api_client.get("/me/", headers=headers)).json()["first_name"] == "Ada"
