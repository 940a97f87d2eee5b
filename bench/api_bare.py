"""`python -m bench.api_bare`: the benchmark's yardstick, a bare FastAPI app answering `GET /me/`
with the same JSON as the project's `/me/` (no token, no database, no middleware), served by the
project's own uvicorn call (`api.__main__.serve`) so the two differ only in what the app does."""

from __future__ import annotations

import os

from fastapi import FastAPI

from api.__main__ import serve

ME = {"id": 1, "email": "bench@example.com", "first_name": "Ada", "last_name": "Lovelace"}

app = FastAPI()


@app.get("/me/")
async def me() -> dict[str, object]:
    return ME


if __name__ == "__main__":
    serve(app, os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"]))
