"""FastAPI dependencies in one place: settings, dispatcher, the current user, an owned task."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from api.auth.tokens import InvalidToken
from api.config import ApiSettings
from api.dispatchers.base import Dispatcher
from api.reads import Prepared
from videoanalysis.tables import Task, User

# tokenUrl makes Swagger's Authorize button sign in through /signin (username = email).
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/signin", auto_error=False)


# `async def` on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread hop
# per request for a dictionary read.
async def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


async def get_dispatcher(request: Request) -> Dispatcher:
    return request.app.state.dispatcher


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"})


async def get_current_user(request: Request, token: TokenDep) -> User:
    """The user of a valid, current access token of a live session; 401 otherwise. The user row
    and the session's state come from the replica's short-lived cache (`api.auth.user_cache`),
    not the database, on most requests."""
    if not token:
        raise unauthorized("not authenticated: send Authorization: Bearer <access token>")
    try:
        claims = request.app.state.verified_tokens.access_claims(token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None
    cache = request.app.state.user_cache
    user = await cache.get(claims.user_id)
    if user is None or user.token_version != claims.version:
        raise unauthorized("token is no longer valid")
    if claims.session_id is not None and not await cache.session_live(claims.session_id, claims.user_id):
        raise unauthorized("the session has ended: sign in again")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


OWNED_TASK = Prepared(
    Task, {"id": uuid.UUID, "owner_id": int}, lambda id, owner_id: Task.filter(id=id, owner_id=owner_id)
)


async def get_owned_task(task_id: str, user: CurrentUser) -> Task:
    """The caller's task; unknown, malformed and other users' ids all give the same 404."""
    try:
        key = uuid.UUID(task_id)
    except ValueError:
        key = None
    task = await OWNED_TASK.first(id=key, owner_id=user.id) if key else None
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"task {task_id} not found")
    return task


OwnedTask = Annotated[Task, Depends(get_owned_task)]
