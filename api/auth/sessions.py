"""Sign-in sessions and refresh-token rotation (OAuth 2.0 security best practice).

Each sign-in starts an `AuthSession`, the family of its refresh tokens. A refresh token is
good once: using it rotates the session to a new one. Presenting an already used token is a
replay (a stolen copy, or the thief's copy after the owner refreshed): the whole session is
revoked, its access tokens and the viewer links they made included. One exception keeps two
clients of the same user that refresh at once (two CLI commands) signed in: the token just
replaced is answered again with the current one for `ROTATION_GRACE`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from api.auth.tokens import InvalidToken, TokenType, create_token, decode_token
from api.auth.user_cache import forget_session
from api.config import ApiSettings
from videoanalysis.clock import db_now
from videoanalysis.tables import AuthSession, User

ROTATION_GRACE = timedelta(seconds=10)


def _pair(user: User, session_id: str, jti: str, settings: ApiSettings) -> dict[str, str]:
    key = settings.secret_key
    return {
        "access_token": create_token(
            user, TokenType.ACCESS, timedelta(minutes=settings.access_token_minutes), key, session_id=session_id
        ),
        "refresh_token": create_token(
            user,
            TokenType.REFRESH,
            timedelta(days=settings.refresh_token_days),
            key,
            jti=jti,
            session_id=session_id,
        ),
        "token_type": "bearer",
    }


async def start_session(user: User, settings: ApiSettings) -> dict[str, str]:
    """A new session for a sign-in (or sign-up, or password change): its first token pair."""
    session = await AuthSession.create(id=uuid.uuid4().hex, user=user, current_jti=uuid.uuid4().hex)
    return _pair(user, session.id, session.current_jti, settings)


async def rotate(refresh_token: str, settings: ApiSettings) -> dict[str, str]:
    """Trade a refresh token for a new pair; InvalidToken for a used, revoked or stale one."""
    claims = decode_token(refresh_token, TokenType.REFRESH, settings.secret_key)
    if claims.session_id is None:
        raise InvalidToken("refresh token has no session: sign in again")
    session = await AuthSession.filter(id=claims.session_id, user_id=claims.user_id).select_related("user").first()
    if session is None or session.revoked_at is not None:
        raise InvalidToken("the session has ended: sign in again")
    user = session.user
    if user.token_version != claims.version:
        raise InvalidToken("token is no longer valid")
    if claims.jti == session.current_jti:
        new_jti = uuid.uuid4().hex
        now = await db_now()
        moved = await AuthSession.filter(id=session.id, current_jti=claims.jti, revoked_at=None).update(
            current_jti=new_jti, previous_jti=claims.jti, rotated_at=now
        )
        if moved:
            return _pair(user, session.id, new_jti, settings)
        await session.refresh_from_db()  # another request rotated it just now: the grace applies
    if (
        claims.jti == session.previous_jti
        and session.revoked_at is None
        and session.rotated_at is not None
        and await db_now() - session.rotated_at <= ROTATION_GRACE
    ):
        return _pair(user, session.id, session.current_jti, settings)
    await revoke(session.id)
    raise InvalidToken("refresh token was already used: the session is revoked, sign in again")


async def revoke(session_id: str) -> bool:
    """End a session: its refresh, access and viewer tokens stop working (on this replica at
    once, on the others within `VA_AUTH_CACHE_SECONDS`). False if it had ended."""
    ended = bool(await AuthSession.filter(id=session_id, revoked_at=None).update(revoked_at=await db_now()))
    forget_session(session_id)
    return ended
