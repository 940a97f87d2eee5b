"""What the OpenAPI document says about the task routes beyond their signatures: the upload's
multipart body, which the route reads by hand (streamed, so FastAPI cannot describe it), and the
204 of an erasure."""

from __future__ import annotations

from typing import Any

from videoanalysis.params import MAX_SHARDS, TRACKERS

UPLOAD_DOC: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "the same key within 24 h answers the first response (same fields and file; "
            "else 422); 409 while the first request is still being received",
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,  # any other field is a 422 (uploads.UPLOAD_FIELDS)
                    "properties": {
                        "videofile": {
                            "type": "string",
                            "format": "binary",
                            "description": "the video (also accepted as `file`); or give `video_url`",
                        },
                        "video_url": {
                            "type": "string",
                            "description": "https:// URL of the video (a presigned URL is one), instead of a file",
                        },
                        "model": {"type": "string", "description": "model name; default VA_DEFAULT_MODEL"},
                        "score_threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
                        "frame_stride": {"type": "integer", "minimum": 1, "default": 1},
                        "batch_size": {"type": "integer", "minimum": 1, "maximum": 256},
                        "tracker": {"type": "string", "enum": list(TRACKERS), "default": "ocsort"},
                        "shards": {
                            "type": "string",
                            "default": "1",
                            "description": f"1 to {MAX_SHARDS} (at most VA_MAX_SHARDS) ranges analysed side by side, "
                            "or `auto` (uploaded files only: one per VA_SHARD_MIN_FRAMES analysed frames)",
                        },
                        "labels": {"type": "string", "description": "comma-separated labels to keep (all if empty)"},
                        "zones": {
                            "type": "string",
                            "description": "JSON list of named polygons counted per track (entries, exits, dwell), "
                            'e.g. `[{"name": "door", "polygon": [[0.1, 0.5], [0.4, 0.5], [0.4, 1], [0.1, 1]]}]`; '
                            "see the VideoAnalysis resource's `spec.zones` for every field",
                        },
                        "lines": {
                            "type": "string",
                            "description": "JSON list of named directed segments counted per track (crossings in and "
                            'out), e.g. `[{"name": "gate", "start": [0, 0.6], "end": [1, 0.6]}]`',
                        },
                        "callback_url": {
                            "type": "string",
                            "description": "POSTed a signed JSON body when the task ends",
                        },
                        "client_request_token": {
                            "type": "string",
                            "maxLength": 255,
                            "description": "as the Idempotency-Key header: a retry answers the first task",
                        },
                    },
                }
            }
        },
    },
}

ERASED: dict[int | str, dict[str, Any]] = {
    204: {"description": "erased (with `erase=true`): the task is a 404 from now on"}
}
