"""Signing up: the one helper every test uses for a fresh account, with an async face (a
client of the app or of a server) and a sync one (a server's URL)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

PASSWORD = "correct horse battery"
_numbers = itertools.count()

SignedUp = tuple[dict, dict[str, str]]


def new_account(password: str = PASSWORD, **fields: str) -> dict[str, str]:
    """The sign-up body of an account no other test has (unique email); `fields` override."""
    return {
        "email": f"user{next(_numbers)}-{uuid.uuid4().hex[:6]}@example.com",
        "password": password,
        "first_name": "Ada",
        "last_name": "Lovelace",
        **fields,
    }


def _signed_up(resp: httpx.Response) -> SignedUp:
    if resp.status_code != 201:
        raise RuntimeError(f"signup failed: {resp.status_code} {resp.text}")
    data = resp.json()
    return data, {"Authorization": f"Bearer {data['access_token']}"}


async def sign_up(client: httpx.AsyncClient, password: str = PASSWORD, **fields: str) -> SignedUp:
    """Sign a fresh user up: `data` is the answer ({user, access_token, refresh_token,
    token_type}), `headers` carry its access token."""
    return _signed_up(await client.post("/signup", json=new_account(password, **fields)))


def sign_up_sync(url: str, password: str = PASSWORD, **fields: str) -> SignedUp:
    """`sign_up` against the server at `url`, for sync tests and session fixtures."""
    return _signed_up(httpx.post(f"{url}/signup", json=new_account(password, **fields), timeout=30))


@pytest.fixture
def signup_user() -> Callable[..., Awaitable[SignedUp]]:
    """`data, headers = await signup_user(client)`: `sign_up`, for tests that take it as a fixture."""
    return sign_up
