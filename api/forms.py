"""Bodies that may come as JSON or as form fields (the original clients send forms)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_fields(request: Request) -> dict[str, Any]:
    """The body's fields, from JSON or a form; 422 when it is neither."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in FORM_TYPES:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="send a JSON object or form fields (application/x-www-form-urlencoded)",
        )
    return data


def parse_as(model: type[M], fields: dict[str, Any]) -> M:
    """Validate into `model`; errors become a 422 in FastAPI's usual shape."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors = jsonable_encoder(exc.errors(include_url=False, include_context=False))
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=errors) from None


def body_doc(schema_name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """`openapi_extra` describing the same body as JSON and as a form, for Swagger UI."""
    schema = {"title": schema_name, "type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }
