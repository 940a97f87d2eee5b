"""The signed-in user's own account."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from tortoise.exceptions import IntegrityError

from api.deps import CurrentUser
from api.schemas import UserOut, UserPatch, WebhookSecretOut
from videoanalysis.tables import User
from videoanalysis.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, user_secret

router = APIRouter(prefix="/me", tags=["me"])


@router.get("/", response_model=UserOut)
async def read_me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)


@router.patch("/", response_model=UserOut)
async def update_me(body: UserPatch, user: CurrentUser) -> UserOut:
    """Change any of first_name, last_name, email; an email taken by another user gives 409."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    taken = HTTPException(status.HTTP_409_CONFLICT, detail="this email belongs to another user")
    if "email" in changes and await User.filter(email=changes["email"]).exclude(id=user.id).exists():
        raise taken
    if changes:
        for name, value in changes.items():
            setattr(user, name, value)
        try:
            await user.save(update_fields=list(changes))
        except IntegrityError:
            raise taken from None
    return UserOut.of(user)


@router.get("/webhook-secret", response_model=WebhookSecretOut)
async def read_webhook_secret(user: CurrentUser) -> WebhookSecretOut:
    """The key that signs your completion webhooks (HMAC-SHA256 of "<timestamp>." + body)."""
    return WebhookSecretOut(
        secret=await user_secret(user), signature_header=SIGNATURE_HEADER, timestamp_header=TIMESTAMP_HEADER
    )
