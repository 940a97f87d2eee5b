"""JWTs (python-jose, HS256): access, refresh and viewer tokens.

A token carries `sub` (the user id), `type` (access, refresh or viewer), `exp`, `iat`, `jti` and
`ver`, the user's token version: a password change bumps the version, so every earlier token
fails. Access, refresh and viewer tokens also carry `sid`, their sign-in session
(`api.auth.sessions`; a viewer token's is that of the access token that made it), so a logout or
a replayed refresh token ends them; a viewer token carries `task`, the one task whose browser
routes it opens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from jose import JWTError, jwt

from videoanalysis.tables import User

ALGORITHM = "HS256"


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
