from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "users" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "email" VARCHAR(320) NOT NULL UNIQUE,
    "first_name" VARCHAR(150) NOT NULL,
    "last_name" VARCHAR(150) NOT NULL,
    "password_hash" VARCHAR(255) NOT NULL,
    "token_version" INT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS "tasks" (
    "id" UUID NOT NULL PRIMARY KEY,
    "status" VARCHAR(16) NOT NULL,
    "model" VARCHAR(100) NOT NULL,
    "params" JSONB NOT NULL,
    "video_uri" VARCHAR(1024) NOT NULL,
    "video_name" VARCHAR(255) NOT NULL,
    "frames_total" INT,
    "frames_done" INT NOT NULL,
    "error" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "started_at" TIMESTAMPTZ,
    "finished_at" TIMESTAMPTZ,
    "owner_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_tasks_owner_i_1ee8eb" ON "tasks" ("owner_id", "created_at");
COMMENT ON COLUMN "tasks"."status" IS 'PENDING: PENDING\nRUNNING: RUNNING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED\nCANCELLED: CANCELLED';
CREATE TABLE IF NOT EXISTS "frame_detections" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "frame_index" INT NOT NULL,
    "timestamp" DOUBLE PRECISION NOT NULL,
    "objects" JSONB NOT NULL,
    "task_id" UUID NOT NULL REFERENCES "tasks" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_frame_detec_task_id_7dbe88" UNIQUE ("task_id", "frame_index")
);
COMMENT ON TABLE "frame_detections" IS 'One row per analysed frame: a long video reads back in frame order, page by page.';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztWm1z2jgQ/isaf2pn0gxxIMllbm6GgNNyl0IngbtOQ8YVWIAuRqKyXGB6/PeT5HdjO5"
    "ADmnB8SBCrXUt6dqVdPfiHNqYWsp3jawbHqI446nNMiaNdgh8aESLRyFM5AhqcTCIFKeCw"
    "ZyubgVQ2raR2z+EM9rnoH0DbQUJkIafP8ESqSKsWQYDRKZggBiCB9txBFlCPugQQ2JQMwX"
    "dsIQoYgpYDerD/CDDxNABlFmJHYAKHCPTm6vNYDmvRvhgXk+FWRuiSLukQ/M0V3QS84dB5"
    "PPLUTUwsNHt7BBwqHs2QmIMYi7kE0O+ITRnmyAGYO3I+okEcLoYEdAAEqohYYsLi4V9p72"
    "8BofMVYEdOEDtcqvzoajbsIbsrFtjVnD5lyGv26Kwr1nk/OzkCc/E308Wn/rCQi6AMD7FY"
    "8ztvNRM8k26VELlqASanQ8RHiMkH3GtyKbIzthjt4UEIVBPJGLmXXyeP5gAj20rEDLaUqZ"
    "SbfD5Rsis8bBB+rXSlX3pmn9rumET6kzkfURIaYMKldIgIYpAjOQJnrowb4tq2H2pBKHlr"
    "iFS8WcZsLDSAri2jT1p7E4hkmmk2W23zzmibprYUmYFFLJR8UV8Et4hqMVVv0wzlFN79ou"
    "unp+d66fTsolI+P69clC6Erprvctf5wptMhJb3KIVZ432j2ZYTomLreHtLChbKBnLoWSln"
    "ROjHXbbkhlwfpKyedkYAfZE3AkHkjmjv784f+kn5vHxxelYO3RBKitAPkI6Q5XiMHA7Hk2"
    "Vcr20Kc5BNWKVwHUizV4hsAWz1VufqxgCfbo1a467RaspRxnPnmx11SpEQiDNQym6N6k0K"
    "aP/cW4b597tWMxvlmEkKYwv3OfhHnZ7bQlr7deASletAz8U2F+f5sRzvN233+EuIFOaOj3"
    "nzz+pt7UP19s3H6ue3ycOkWbtpXSnIqMOHTD1FPeAqHfkiHZhZx3qn06jnhH1kknKI62Lr"
    "WBruV+ArjE/P3qbxVCtdLGS2HDxmnthhsk0eKSKv4yH5A80VwA0xD0j6KANQv0Zr+495nZ"
    "BG0ihrMzgNy4t4QIm1ixUj7/yoVe9q1bqhKYRlzTaFzDITUMseqtOUJNRd7hrr47REFIxD"
    "BY5chZxzHPWMijnwRn6ZLBe0Wm2cj2VG8Zaq0u41OhXx4CPXF6WtiAxTZJ2Hteq3/I2++T"
    "3+dBEXO3DVSPJf+Wectk9s+qI6TWxn7mbkuNoIMoO446Vdn0A9sk4hLya+tTT3yWjWG833"
    "a+IcmF0Cv9Elt51mU0n8RpfcdWo1w6gb9UsQNrvkutq4kSLvs0tq1WbNuFGisJm+5uXUgm"
    "M4M21Ehnwkvp6cFfg0yJcnZ+l06ffoqiuZIdX+znZm9rYJDXbnv22W2kl4S6VV8C2V8gGW"
    "fUmEJ1BcUdaqCSOLl1ESymH3piRUTInpMrxO0CeM9jLw9fJKka+XC0JfdmaBrb6tjXZgtc"
    "M8sa0YT4KtVyorYC20cqFWfUmkFQ/iiIKKw4zjvJg+iZk9iz/xy5wXE9obpk98jCxKMqL4"
    "KWQDq90RU6VXAitijLJlQNtoloNoaPCsE+GFBWkBVG3jc7s47YW81E2r+T5QT+fCJNqxC9"
    "QS5HXRI9m+bNiTlumKxDc9DhqvMRXKn01axJ77UVLkmsZH465d/fgp4Z96tW3IHj3JGfrS"
    "N+lyPHwI+KvR/gDkV/Cl1TTS1Uuo1/6iyTlBl4usSKcmtGKXy0AaoJbwurhtsed5PWm5Aa"
    "+/ov33gpwcYFLo5QEm2Bk9y80p04OfX7Kf44TYilVI3OTw25hfhRRQ2gqvDXDaHQe9xlvh"
    "qpx2PKzWJbXThfUy2le+3fUft8iGag25QGe84LEnmC+2yf6r+Mxg/4O4zWf/XaGxffZ/LY"
    "7///KCxn+8euVT+mgM8VokcGiwGXLm54KbIGdO9VUoYKGVS86ovhSDgJnD16bBklZ7R4Od"
    "VFYi2ysFZHtlCWkbPgPohNEB51VwnkDHmVKRhUbQGa2D9ZLhHrLpWyF4OX1ExPwukq9fD6"
    "2YA5fsDkxkmok8cGP5UO8XN7Z081vlmhK+7/L8W8qeveK01atJFTHcH2kZlxO/56joegIj"
    "ncP9ZGenxJbvJ7lZr+A35NyEd6gwcioMuanWQNhX30N0t/IakBiRI5JRYeS/BxQz2f2LQD"
    "+Hk9/YKz9rZPrNJ7PFv3TIdeo="
)
