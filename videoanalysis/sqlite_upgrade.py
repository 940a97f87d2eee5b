"""The embedded SQLite file of an earlier version, brought up to the current models.

PostgreSQL gets its schema from the Aerich migrations; the embedded file is created by
`generate_schemas`, which never alters a table that exists. Here the columns and indexes added
since the first release are added where missing, in the order the migrations added them.
"""

from __future__ import annotations

from tortoise import Tortoise

# (table, column, SQLite column definition), oldest first; mirrors the migrations.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("users", "webhook_secret", "VARCHAR(128)"),
    ("tasks", "callback_url", "VARCHAR(2048)"),
    ("tasks", "lease_attempt", "INT NOT NULL DEFAULT 0"),
    ("tasks", "lease_holder", "VARCHAR(255)"),
    ("tasks", "lease_expires_at", "TIMESTAMP"),
    ("tasks", "heartbeat_at", "TIMESTAMP"),
    ("tasks", "next_frame", "INT NOT NULL DEFAULT 0"),
    ("tasks", "stage_state", "JSON"),
    ("tasks", "queue", "VARCHAR(64)"),
    ("tasks", "retries", "INT NOT NULL DEFAULT 0"),
    ("tasks", "retry_at", "TIMESTAMP"),
    ("tasks", "resource_namespace", "VARCHAR(253)"),
    ("tasks", "resource_name", "VARCHAR(253)"),
    ("tasks", "detections", "JSON NOT NULL DEFAULT '{}'"),
    ("tasks", "dispatch_due_at", "TIMESTAMP"),
    ("tasks", "objects", "JSON"),  # the tracks table is new: generate_schemas creates it
    ("tasks", "origin", "VARCHAR(16) NOT NULL DEFAULT 'api'"),
    ("tasks", "wait_reason", "VARCHAR(64)"),
    ("tasks", "wait_message", "TEXT"),
    ("tasks", "shards", "INT NOT NULL DEFAULT 1"),  # task_shards, seam_frames: generate_schemas
    ("tasks", "shard_plan", "JSON"),
    ("tasks", "merge_state", "JSON"),
    ("tasks", "zone_totals", "JSON"),  # zone_events: generate_schemas
)
INDEXES = (
    'CREATE INDEX IF NOT EXISTS "idx_tasks_queue_5f277a" ON "tasks" ("queue", "status", "created_at")',
    'DROP INDEX IF EXISTS "idx_tasks_owner_i_1ee8eb"',
    'CREATE INDEX IF NOT EXISTS "idx_tasks_owner_i_868b26" ON "tasks" ("owner_id", "created_at", "id")',
    'CREATE INDEX IF NOT EXISTS "idx_tasks_status_449504" ON "tasks" ("status")',
    'CREATE INDEX IF NOT EXISTS "idx_webhook_del_gave_up_6eef5c" ON "webhook_deliveries" ("gave_up")',
    'CREATE INDEX IF NOT EXISTS "idx_tasks_dispatc_274234" ON "tasks" ("dispatch_due_at")',
)
# Tasks left open by a version without queues belong to the embedded server's queue; tasks of
# a version without origins were the operator's when they name a resource (the API's did not).
AFTER = {
    ("tasks", "queue"): "UPDATE \"tasks\" SET \"queue\" = 'local' WHERE \"status\" IN ('PENDING', 'RUNNING')",
    ("tasks", "origin"): 'UPDATE "tasks" SET "origin" = \'manifest\' WHERE "resource_name" IS NOT NULL',
}


async def upgrade_sqlite() -> list[str]:
    """Add what is missing to the tables that exist (before `generate_schemas`, which creates
    the missing tables and indexes); returns the columns added (as table.column)."""
    conn = Tortoise.get_connection("default")
    added: list[str] = []
    present: dict[str, set[str]] = {}
    for table, column, ddl in COLUMNS:
        if table not in present:
            rows = await conn.execute_query_dict(f'PRAGMA table_info("{table}")')
            present[table] = {r["name"] for r in rows}
        if not present[table] or column in present[table]:
            continue  # a new file: generate_schemas creates the table whole
        await conn.execute_script(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}')
        if (table, column) in AFTER:
            await conn.execute_script(AFTER[(table, column)])
        added.append(f"{table}.{column}")
    if added:
        for sql in INDEXES:
            await conn.execute_script(sql)
    return added
