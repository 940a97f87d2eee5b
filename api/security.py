"""Password hashing (argon2 through passlib) and JWTs (python-jose, HS256).

argon2 costs tens of milliseconds of CPU by design: the async handlers call `hash_password_async`
and `verify_password_async`, which run it in a small thread pool of its own (argon2 releases the
GIL), never on the event loop. An unknown email is verified against a dummy hash, so it takes
as long as a wrong password.

A token carries `sub` (the user id), `type` (access, refresh or viewer), `exp`, `iat`, `jti` and
`ver`, the user's token version: a password change bumps the version, so every earlier token
fails. Access, refresh and viewer tokens also carry `sid`, their sign-in session (`api.sessions`;
a viewer token's is that of the access token that made it), so a logout or a replayed refresh
token ends them; a viewer token carries `task`, the one task whose browser routes it opens.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from jose import JWTError, jwt
from passlib.context import CryptContext

from videoanalysis.models import AuthSession, User

ALGORITHM = "HS256"

pwd_context = CryptContext(schemes=["argon2"], deprecated="auto")
HASH_THREADS = 2  # argon2 runs in at most this many threads at once; more requests wait their turn
_hash_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="va-password-hash")


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    VIEWER = "viewer"


class InvalidToken(Exception):
    """The token is malformed, forged, expired, of the wrong type or outdated."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    type: TokenType
    version: int
    jti: str = ""
    session_id: str | None = None
    task_id: str | None = None


def hash_password(password: str) -> str:
    return pwd_context.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return pwd_context.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password, verified in place of an unknown account's."""
    return hash_password(secrets.token_urlsafe(16))


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, hash_password, password)


async def verify_password_async(password: str, password_hash: str | None) -> bool:
    """Verify off the event loop; `None` (no such account) costs the same and is False."""
    loop = asyncio.get_running_loop()
    if password_hash is None:
        await loop.run_in_executor(_hash_pool, verify_password, password, await _dummy_async())
        return False
    return await loop.run_in_executor(_hash_pool, verify_password, password, password_hash)


async def _dummy_async() -> str:
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, dummy_hash)


def create_token(
    user: User,
    token_type: TokenType,
    lifetime: timedelta,
    secret_key: str,
    *,
    jti: str | None = None,
    session_id: str | None = None,
    task_id: str | None = None,
) -> str:
    """Sign a token for `user`; a negative lifetime gives an already expired one (tests)."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(user.id),
        "type": token_type.value,
        "ver": user.token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": jti or uuid.uuid4().hex,
    }
    if session_id:
        claims["sid"] = session_id
    if task_id:
        claims["task"] = task_id
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


def decode_token(token: str, expected: TokenType, secret_key: str) -> TokenClaims:
    """Verify signature (HS256 only: `alg: none` is refused), expiry and type."""
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            options={"require_exp": True, "require_iat": True, "require_sub": True},
        )
    except JWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    if claims.get("type") != expected.value:
        raise InvalidToken(f"expected an {expected.value} token")
    try:
        return TokenClaims(
            int(claims["sub"]),
            TokenType(claims["type"]),
            int(claims["ver"]),
            str(claims.get("jti") or ""),
            _optional_str(claims.get("sid")),
            _optional_str(claims.get("task")),
        )
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("invalid token claims") from None


def _optional_str(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("claim must be a string")
    return value


async def user_of(claims: TokenClaims) -> User:
    """The user of decoded claims, in one query: through the session when the token has one
    (a revoked session gives no user)."""
    if claims.session_id is not None:
        session = (
            await AuthSession.filter(id=claims.session_id, revoked_at=None, user_id=claims.user_id)
            .select_related("user")
            .first()
        )
        user = session.user if session else None
    else:
        user = await User.get_or_none(id=claims.user_id)
    if user is None or user.token_version != claims.version:
        raise InvalidToken("token is no longer valid")
    return user


async def user_from_token(token: str, expected: TokenType, secret_key: str) -> User:
    """The user a valid, current token belongs to."""
    return await user_of(decode_token(token, expected, secret_key))
