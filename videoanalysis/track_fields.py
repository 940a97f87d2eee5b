"""The fields of a track as `GET /tasks/{id}/tracks/` returns them, in order: one list for the
API and for the CLI's tracks-csv columns. It is the one module of the core the CLI imports, so
it imports nothing (an import-linter contract in pyproject.toml keeps it so)."""

TRACK_FIELDS = (
    "track_id",
    "label",
    "first_frame",
    "last_frame",
    "first_timestamp",
    "last_timestamp",
    "frames_seen",
    "best_score",
    "best_frame",
    "best_box",
    "mean_box_area",
)
