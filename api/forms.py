"""Bodies that may come as JSON or as form fields (the original clients send forms).

A field no endpoint knows is refused (422 naming it, with the closest known name), never
dropped: a misspelt optional field would otherwise fall back to its default unnoticed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

M = TypeVar("M", bound=BaseModel)

MAX_FIELD_BYTES = 8 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_fields(request: Request) -> dict[str, Any]:
    """The body's fields, from JSON or a form; 422 when it is neither."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in FORM_TYPES:
        max_fields = request.app.state.settings.max_form_fields
        try:
            form = await request.form(max_fields=max_fields, max_files=0, max_part_size=MAX_FIELD_BYTES)
        except StarletteHTTPException as exc:  # python-multipart's limits, raised as 400
            if "Too many fields" in str(exc.detail):
                raise HTTPException(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    detail=f"the form has more than {max_fields} fields (VA_MAX_FORM_FIELDS)",
                ) from None
            raise
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


def unknown_field(name: str, known: Collection[str]) -> str:
    """Why `name` is refused, with the closest of the `known` names when one is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    shown = name if len(name) <= 64 else f"{name[:64]}..."
    return f"unknown field {shown!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def parse_as(model: type[M], fields: dict[str, Any], *, ignored: Collection[str] = ()) -> M:
    """Validate into `model`; errors, an unknown field among them, become a 422 in FastAPI's
    usual shape. `ignored`: names accepted and dropped (OAuth2's form fields at sign-in)."""
    known = {field.alias or name for name, field in model.model_fields.items()}
    errors = [
        {"type": "extra_forbidden", "loc": [name], "msg": unknown_field(name, known)}
        for name in fields
        if name not in known and name not in ignored
    ]
    try:
        parsed = model.model_validate({k: v for k, v in fields.items() if k in known})
    except ValidationError as exc:
        # No input echoed back: it may be a password, or text that cannot even be encoded.
        errors += jsonable_encoder(exc.errors(include_url=False, include_context=False, include_input=False))
    if errors:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=errors)
    return parsed


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


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 for typed bodies and queries, without the input echoed back."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{k: v for k, v in error.items() if k not in ("input", "ctx", "url")} for error in errors]
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": jsonable_encoder(detail)})
