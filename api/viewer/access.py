"""Who may open a task's browser routes (page, result, video, frames): the Authorization header's
access token, or a viewer token in the `viewer_token` query parameter.

A navigation and a <video src> cannot send a header, so the token must sit in the URL, where
it can end up in logs, history and screenshots. A viewer token (`POST /tasks/{id}/viewer-link`)
is short-lived and opens the GET routes of one task only; the account's access token is
refused in a URL, and query tokens are redacted from the access log.

A viewer token belongs to the sign-in session of the access token that made it and is checked
like that access token (the replica's user and session cache, `api.auth.user_cache`): a logout
or a replayed refresh token ends its links too, and a stolen access token cannot make links that
outlive its session. A link holder reads the task without its `callback_url`, which often
carries the receiver's secret.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status

from api.auth.tokens import InvalidToken, TokenClaims, TokenType, decode_token
from api.deps import SettingsDep, TokenDep, get_current_user, get_owned_task, unauthorized
from videoanalysis.tables import Task, User

QUERY_TOKEN = re.compile(r"((?:access_|viewer_)?token=)[^&\s\"]*", re.IGNORECASE)
NO_QUERY_ACCESS_TOKEN = (
    "the account's access token is not accepted in a URL: send it as Authorization: Bearer, "
    "or open a link from POST /tasks/{task_id}/viewer-link"
)
NO_SESSION = "this viewer link belongs to no sign-in session: make a new one with POST /tasks/{task_id}/viewer-link"
SESSION_ENDED = (
    "the sign-in session that made this viewer link has ended (logout, or a refresh token used twice): "
    "sign in again and make a new link"
)


def _same_task(a: str | None, b: str) -> bool:
    try:
        return a is not None and uuid.UUID(a) == uuid.UUID(b)
    except ValueError:
        return False


async def _viewer_user(request: Request, viewer_token: str, secret_key: str) -> tuple[User, TokenClaims]:
    """The user and claims of a viewer token whose user, token version and sign-in session are
    all current, read as `get_current_user` reads them for an access token; 401 otherwise."""
    try:
        claims = decode_token(viewer_token, TokenType.VIEWER, secret_key)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None
    if claims.session_id is None:
        raise unauthorized(NO_SESSION)
    cache = request.app.state.user_cache
    user = await cache.get(claims.user_id)
    if user is None or user.token_version != claims.version:
        raise unauthorized("token is no longer valid")
    if not await cache.session_live(claims.session_id, claims.user_id):
        raise unauthorized(SESSION_ENDED)
    return user, claims


async def get_viewer_task(
    request: Request,
    task_id: str,
    token: TokenDep,
    settings: SettingsDep,
    viewer_token: Annotated[str | None, Query(description="token of a viewer link (browser navigation)")] = None,
    access_token: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Task:
    """The caller's task, by header or viewer token; a viewer token of another task is a 404.
    By viewer token, the task comes without its `callback_url` (cleared on this request's copy
    only: the routes behind this dependency read, never save)."""
    if access_token is not None:
        raise unauthorized(NO_QUERY_ACCESS_TOKEN)
    if token:
        return await get_owned_task(task_id, await get_current_user(request, token))
    if not viewer_token:
        raise unauthorized("not authenticated: send Authorization: Bearer <access token> or open a viewer link")
    user, claims = await _viewer_user(request, viewer_token, settings.secret_key)
    if not _same_task(claims.task_id, task_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"task {task_id} not found")
    task = await get_owned_task(task_id, user)
    task.callback_url = None
    return task


ViewerTask = Annotated[Task, Depends(get_viewer_task)]


class RedactQueryTokens(logging.Filter):
    """Replace token values in the access log's request line with `REDACTED`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(QUERY_TOKEN.sub(r"\1REDACTED", a) if isinstance(a, str) else a for a in record.args)
        return True


def install_log_redaction(logger_name: str = "uvicorn.access") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactQueryTokens) for f in logger.filters):
        logger.addFilter(RedactQueryTokens())
