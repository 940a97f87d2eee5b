"""FastAPI dependencies in one place: settings, dispatcher, the current user, an owned task."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from api.config import ApiSettings
from api.dispatchers.base import Dispatcher
from api.security import InvalidToken, TokenType, user_from_token
from videoanalysis.models import Task, User

# tokenUrl makes Swagger's Authorize button sign in through /signin (username = email).
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/signin", auto_error=False)


def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


def get_dispatcher(request: Request) -> Dispatcher:
    return request.app.state.dispatcher


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"})


async def get_current_user(token: TokenDep, settings: SettingsDep) -> User:
    """The user of a valid, current access token; 401 otherwise."""
    if not token:
        raise unauthorized("not authenticated: send Authorization: Bearer <access token>")
    try:
        return await user_from_token(token, TokenType.ACCESS, settings.secret_key)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_owned_task(task_id: str, user: CurrentUser) -> Task:
    """The caller's task; unknown, malformed and other users' ids all give the same 404."""
    try:
        key = uuid.UUID(task_id)
    except ValueError:
        key = None
    task = await Task.get_or_none(id=key, owner_id=user.id) if key else None
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"task {task_id} not found")
    return task


OwnedTask = Annotated[Task, Depends(get_owned_task)]
