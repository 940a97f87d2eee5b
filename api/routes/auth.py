"""Accounts: sign-up, sign-in (OAuth2 form, original form or JSON), token refresh (rotating),
logout, password change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from tortoise.exceptions import IntegrityError

from api.auth.passwords import PasswordHasher
from api.auth.sessions import revoke, rotate, start_session
from api.auth.signin_limits import SigninLimiter, TooManyAttempts
from api.auth.tokens import InvalidToken, TokenType, decode_token
from api.deps import CurrentUser, SettingsDep, TokenDep, unauthorized
from api.forms import body_doc, parse_as, read_fields
from api.schemas import (
    AuthOut,
    PasswordChangeIn,
    PasswordChangeOut,
    RefreshIn,
    SigninIn,
    SignupIn,
    TokenPair,
    UserOut,
)
from videoanalysis.tables import User

router = APIRouter(tags=["auth"])
auth_router = APIRouter(prefix="/authentication", tags=["auth"])

_PASSWORD = {"type": "string", "format": "password"}
SIGNIN_DOC = body_doc(
    "Signin",
    {
        "email": {"type": "string"},
        "username": {"type": "string", "description": "same as email"},
        "password": _PASSWORD,
    },
    ["password"],
)
CHANGE_DOC = body_doc(
    "PasswordChange",
    {"old_password": _PASSWORD, "new_password": {**_PASSWORD, "minLength": 8}},
    ["old_password", "new_password"],
)


#: What OAuth2's password flow sends besides `username` and `password` (Swagger UI's Authorize
#: dialog, OAuth2 client libraries): accepted at sign-in and not used.
OAUTH2_FORM_FIELDS = ("grant_type", "scope", "client_id", "client_secret", "username")

BUSY: dict[int | str, dict[str, Any]] = {503: {"description": "the password-hashing queue is full; see Retry-After"}}


def hasher(request: Request) -> PasswordHasher:
    found: PasswordHasher = request.app.state.password_hasher
    return found


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=AuthOut, responses=BUSY)
async def signup(request: Request, body: SignupIn, settings: SettingsDep) -> AuthOut:
    """Create an account (email is the identity) and sign it in."""
    if await User.exists(email=body.email):
        raise HTTPException(status.HTTP_409_CONFLICT, detail="a user with this email already exists")
    try:
        user = await User.create(
            email=body.email,
            first_name=body.first_name,
            last_name=body.last_name,
            password_hash=await hasher(request).hash_async(body.password),
        )
    except IntegrityError:  # a concurrent sign-up with the same email won the race
        raise HTTPException(status.HTTP_409_CONFLICT, detail="a user with this email already exists") from None
    return AuthOut(user=UserOut.of(user), **await start_session(user, settings))


@router.post(
    "/signin",
    response_model=AuthOut,
    openapi_extra=SIGNIN_DOC,
    responses={429: {"description": "too many sign-ins (failed or in progress); see Retry-After"}, **BUSY},
)
async def signin(request: Request, settings: SettingsDep) -> AuthOut:
    """Sign in with `email` (or OAuth2's `username`) and `password`, as a form or JSON; the
    OAuth2 password form's other fields are accepted, any other field is a 422."""
    fields = await read_fields(request)
    if "email" not in fields and "username" in fields:
        fields["email"] = fields["username"]
    body = parse_as(SigninIn, fields, ignored=OAUTH2_FORM_FIELDS)
    email = body.email.strip().lower()
    address = request.client.host if request.client else "unknown"
    limiter: SigninLimiter = request.app.state.signin_limiter
    try:
        attempt = limiter.reserve(email, address)  # counted as in flight before any await
    except TooManyAttempts as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, detail=str(exc), headers={"Retry-After": str(exc.retry_after_s)}
        ) from None
    with attempt:  # an error or a busy hashing queue releases it uncounted
        user = await User.get_or_none(email=email)
        if not await hasher(request).verify_async(body.password, user.password_hash if user else None) or user is None:
            attempt.failed()
            raise unauthorized("wrong email or password")
        attempt.succeeded()
    return AuthOut(user=UserOut.of(user), **await start_session(user, settings))


@auth_router.post("/token-refresh", response_model=TokenPair)
async def token_refresh(body: RefreshIn, settings: SettingsDep) -> TokenPair:
    """Trade a refresh token for a new access token and a new refresh token. A refresh token
    is good once: presenting a used one again revokes its session (both answer 401), except for
    the token just replaced, answered again for a few seconds (two clients refreshing at once)."""
    try:
        return TokenPair(**await rotate(body.refresh_token, settings))
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(token: TokenDep, user: CurrentUser, settings: SettingsDep) -> Response:
    """End the session of this access token: it and its refresh tokens stop working."""
    claims = decode_token(token or "", TokenType.ACCESS, settings.secret_key)
    if claims.session_id is not None:
        await revoke(claims.session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post("/password/change/", response_model=PasswordChangeOut, openapi_extra=CHANGE_DOC, responses=BUSY)
async def password_change(request: Request, user: CurrentUser, settings: SettingsDep) -> PasswordChangeOut:
    """Change the password; every token issued before the change stops working."""
    body = parse_as(PasswordChangeIn, await read_fields(request))
    if not await hasher(request).verify_async(body.old_password, user.password_hash):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="the old password is wrong")
    user.password_hash = await hasher(request).hash_async(body.new_password)
    user.token_version += 1
    await user.save(update_fields=["password_hash", "token_version"])
    return PasswordChangeOut(**await start_session(user, settings))
