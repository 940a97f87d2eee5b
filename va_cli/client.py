"""The HTTP client of the API: bearer auth with silent token refresh, one-line errors.

Every failure leaves here as a :class:`CliError` whose message is fit for one line on stderr:
the server's `detail` for a 4xx, `server unreachable at <url>` when nothing answers.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from va_cli.credentials import Credentials, CredentialStore, normalize_url
from va_cli.errors import EXIT_AUTH, EXIT_ERROR, EXIT_NOT_FOUND, EXIT_UNREACHABLE, CliError

REFRESH_MARGIN_S = 30  # refresh a token this close to its expiry instead of sending it


def token_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, read without verifying it (only the server can verify)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def error_detail(response: httpx.Response) -> str:
    """The server's explanation of a refused request, flattened to one line."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # FastAPI's validation errors
        items = []
        for err in detail:
            loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            items.append(f"{loc}: {err.get('msg', '')}" if loc else str(err.get("msg", "")))
        detail = "; ".join(items)
    if not detail:
        detail = response.reason_phrase or f"HTTP {response.status_code}"
    return " ".join(str(detail).split())


class ApiClient:
    """A synchronous client bound to one server and the credentials stored for it."""

    def __init__(self, url: str, store: CredentialStore, timeout: float = 60.0) -> None:
        self.url = normalize_url(url)
        self.store = store
        self.http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=5.0))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------
    def send(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        not_found: str | None = None,
        body: Callable[[], Iterable[bytes]] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request; `body` builds a fresh streamed body per attempt (for a retry after refresh)."""
        extra_headers = dict(kwargs.pop("headers", None) or {})
        for attempt in (1, 2):
            headers = dict(extra_headers)
            if auth:
                headers["Authorization"] = f"Bearer {self._access_token(force_refresh=attempt == 2)}"
            if body is not None:
                stream = body()
                headers.update(getattr(stream, "headers", {}))
                kwargs["content"] = iter(stream)
            response = self._transport(method, path, headers=headers, **kwargs)
            if response.status_code != 401 or not auth or attempt == 2:
                break
        return self._check(response, not_found, auth)

    def _transport(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise CliError(f"server unreachable at {self.url}", EXIT_UNREACHABLE) from None
        except httpx.TimeoutException:
            raise CliError(f"server at {self.url} did not answer in time", EXIT_UNREACHABLE) from None
        except httpx.TransportError as exc:
            raise CliError(f"connection to {self.url} failed: {exc}", EXIT_UNREACHABLE) from None

    def _check(self, response: httpx.Response, not_found: str | None, auth: bool) -> httpx.Response:
        code = response.status_code
        if code < 400:
            return response
        if code == 401 and auth:
            raise CliError(
                f"not logged in to {self.url} (or the session expired): run `videoanalysis login`", EXIT_AUTH
            )
        if code == 404 and not_found:
            raise CliError(not_found, EXIT_NOT_FOUND)
        if code >= 500:
            raise CliError(f"server error at {self.url}: HTTP {code}", EXIT_ERROR)
        raise CliError(error_detail(response), EXIT_NOT_FOUND if code == 404 else EXIT_ERROR)

    # -- tokens ----------------------------------------------------------------------------
    def _access_token(self, force_refresh: bool = False) -> str:
        creds = self.store.get(self.url)
        if creds is None:
            raise CliError(
                f"not logged in to {self.url}: run `videoanalysis login` (or `videoanalysis signup`)", EXIT_AUTH
            )
        expiry = token_expiry(creds.access_token)
        if force_refresh or (expiry is not None and expiry < time.time() + REFRESH_MARGIN_S):
            creds = self.refresh(creds)
        return creds.access_token

    def refresh(self, creds: Credentials) -> Credentials:
        """Trade the refresh token for new tokens and store them, under the store's lock: a
        refresh token is good once, so a command that finds it already traded by another takes
        the tokens that one stored."""
        with self.store.locked():
            stored = self.store.get(self.url)
            if stored is not None and stored.refresh_token != creds.refresh_token:
                return stored
            response = self._transport(
                "POST", "/authentication/token-refresh", json={"refresh_token": creds.refresh_token}
            )
            if response.status_code >= 400:
                raise CliError(f"session at {self.url} expired: run `videoanalysis login`", EXIT_AUTH)
            data = response.json()
            new = Credentials(creds.email, data["access_token"], data.get("refresh_token") or creds.refresh_token)
            self.store.save(self.url, new)
            return new

    def logout(self) -> bool:
        """End the session on the server (best effort: an expired one has ended anyway) and
        forget the stored tokens; False when none were stored."""
        creds = self.store.get(self.url)
        if creds is None:
            return False
        with contextlib.suppress(httpx.TransportError):
            self.http.post("/authentication/logout", headers={"Authorization": f"Bearer {creds.access_token}"})
        return self.store.forget(self.url)

    def authenticate(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Sign up or sign in; store the tokens; return the server's answer."""
        data = self.send("POST", path, auth=False, json=payload).json()
        email = (data.get("user") or {}).get("email") or payload["email"]
        self.store.save(self.url, Credentials(email, data["access_token"], data["refresh_token"]))
        return data
