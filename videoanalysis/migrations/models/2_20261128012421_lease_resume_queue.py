from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" ADD "lease_expires_at" TIMESTAMPTZ;
        ALTER TABLE "tasks" ADD "stage_state" JSONB;
        ALTER TABLE "tasks" ADD "next_frame" INT NOT NULL DEFAULT 0;
        ALTER TABLE "tasks" ADD "queue" VARCHAR(64);
        ALTER TABLE "tasks" ADD "retries" INT NOT NULL DEFAULT 0;
        ALTER TABLE "tasks" ADD "lease_holder" VARCHAR(255);
        ALTER TABLE "tasks" ADD "heartbeat_at" TIMESTAMPTZ;
        ALTER TABLE "tasks" ADD "retry_at" TIMESTAMPTZ;
        ALTER TABLE "tasks" ADD "lease_attempt" INT NOT NULL DEFAULT 0;
        CREATE INDEX IF NOT EXISTS "idx_tasks_queue_5f277a" ON "tasks" ("queue", "status", "created_at");
        UPDATE "tasks" SET "queue" = 'local' WHERE "status" IN ('PENDING', 'RUNNING');"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_tasks_queue_5f277a";
        ALTER TABLE "tasks" DROP COLUMN "lease_expires_at";
        ALTER TABLE "tasks" DROP COLUMN "stage_state";
        ALTER TABLE "tasks" DROP COLUMN "next_frame";
        ALTER TABLE "tasks" DROP COLUMN "queue";
        ALTER TABLE "tasks" DROP COLUMN "retries";
        ALTER TABLE "tasks" DROP COLUMN "lease_holder";
        ALTER TABLE "tasks" DROP COLUMN "heartbeat_at";
        ALTER TABLE "tasks" DROP COLUMN "retry_at";
        ALTER TABLE "tasks" DROP COLUMN "lease_attempt";"""


MODELS_STATE = (
    "eJztXP9z2rgS/1c0/uW1M7lMQr6+3Js3Q4D0eJdCJyF3nYaOT2ABfjESZ9kNTC//+63k77"
    "JNbRo4oP6hjZF2bemzq9VqtdJXbcoMYvHDGxtPSZM4ZOiYjHLtCn3VKBTBQx7JAdLwbBYR"
    "iAIHDyzJMxLEupGkHnDHxkMH6kfY4gSKDMKHtjkTJIKrSwmy2TOaERthiq0FJwaSr7pCGF"
    "mMjtEX0yAM2QQbHA3w8AmZ1KNAzDaIfYBmeEzQYCH/HorPGmwI3zXpeC1f6NM+faDmny5U"
    "U/TGwfzpwCPXTWqQ+dsDxBm82ibQBviW7VLEvhD72TYdwpHpcNEeeKDcgU8iNkKAKqEGNB"
    "he/gcb/B8g5H8gk4sGmtwRJF/7moUHxOpDB/saHzKbeI8DNu9DPx/nxwdoAf/mNfhb+/wi"
    "OsFsc2xCn3/yejMz50KsAiJXdkB32Jg4E2KLFzxqoiuiMtYZ7fNnKJCPROjIo/g5e9JHJr"
    "GMhM6YhmQV5bqzmMmya3Pcps6NpBVyGehDZrlTGtHPFs6E0ZDBpI4oHRNKbOwQ8QXHdoXe"
    "UNeyfFULVMnrQ0TitTLGY5ARdi2hfYLba0BUpul6p9vT71s9XddSmhlwxFTJLxqCcoNWQ1"
    "O9QTMWTfjp37XayclF7ejk/PLs9OLi7PLoEmhle9NVFy9eYyK0vFdJzNrv2p2eaBCDoeON"
    "LVHwInmwgz0uKYwI/bjIUmLIlYHC9W1hBNAvk0ZQEIkjGvubk0ft+PTi9PLk/DQUQ1iyDP"
    "0A6QhZx5wS7uDpLI3rjcVwDrIJLgXXkWDbQWSXwNbsPlzfttCHu1ajfd/udsRXpgv+pxVV"
    "iiIoABsoyu5a9VsFaN/upWH+3323k41yjEXB2DCHDvpLWs91Ia39Z+RSOdehgWtaDtjzQ/"
    "G9/2qbx19AJDHnPuad3+p3jV/qd2/e1z++TRqTTuO2ey0hY9wZ2/It8gXXqubDdKBnmfWH"
    "h3YzR+0jFkUgrmsah4JxvxRfYnxy/lbFU/b05UXMlqOnTIsdTrZJkwLzujmmv5KFBLgN7c"
    "B0SDIA9X20nv+a3YQ0Ko1mbRs/h+5FXKGg79Bj4tmPRv2+UW+2NImw8NmesW3oCahFDasx"
    "pSSkTVdNa1O1BBzGsQRH9EK0OY56hsccSCPfTRYdKuYb52OZ4bwpXtqjxp5BH3zkhuDagm"
    "boMOsA3aMGzK5UKVAux+UqSSkXL98WvL4Z+LafF7PJ8kviv9N/wiB/wy4sc+UioSSRbkyw"
    "3aLuNGUYEqhH3Ary0PC1zYQfWp1mu/OuJM4B2xXyH/r07qHTkSX+Q5/ePzQarVaz1bxC4W"
    "Of3tTbt6LI+9unjXqn0bqVReGjuhLMcReneK5bhI6dCfw8Pl8i02BKPT5XZ1S/piarkpOo"
    "NAHZwsweNiHD5uS3Tm88Ce/RURF8j47yARZ1SYRnGFYxpdzGiGM7vEbx2b3xGmUwRXdts4"
    "zSJ5j2UvFrp4U0v3a6RPVFZRbY8ldptAOuDc4T69LxJNi1s7MCWANVLtSyLom0DJVw8Lkc"
    "nGHOl0dYYmwrhVh8N2drVPuVIyw+RgajGVr8LWQDrs3Fro52BFZi28xOA9oj8xxEQ4aVLM"
    "KWKekSqHqtj73l014Yurrtdt4F5OpcmER7iC1LrC1hEivl7ql8+4C9Yo6PTi+L2GMgyzfI"
    "slJBPFqypvBuQo0IweZgnuBUfUCf9TB42EXnQ+xldam18HVj2WBov2/d9+rvPyRGRLPea4"
    "maWjKQ65e+URdA4UvQ7+3eL0j8RJ+6nZbqL4Z0vU+aaBN2HfBD2LOOjdhyPigNUEtIHda3"
    "9mpST3K+gtS3bNTtiJADTJZKeWRSk09WErPCWsl5m+VsEcwJSMoh01mGpHOdvxRf5f6p7p"
    "8H0YRZBsnwAvMdEpVvDx2SdawPPdjIfGbC8FjBbGXxV7Zrm23XhIA/MQBPcgVpq7yVpLdZ"
    "0hSWzLqMN5SYopJM1fykzk/gjo+JLrarMlDNj90rbN8VwN+dIbOWSH24DVzUNQgZ9s8nOC"
    "8Snj/PD86fp0LzXvpnxr5UrsWIcVTmQjUXApzFCjNtnK+aZbd5lo1nrBQcMXGWKnnVHzVL"
    "cs4kXml8SyedPXCyi3uyRZPO4mpVNutM3dZKo33t8938ekcsLPuQC3TGCYw9wTwx9J/JYM"
    "LYk0Da/EKyp80ysP3uva/pvW6xT7CtM6tRDuuMrMZguOdnNbpAsf6sxlKJiT/KwZPv9LDy"
    "8xDJFJultjJDhtfJKPlnwU2sDk5qRfLWgCp3fSDrlLQH0+ZO6dydJNfe5e4cnxXKEDxbki"
    "F4lkLawisAnWCqcC6C8wxz/sxgFppgPimDdYpxD1MA17Lr4LAnQnXwcbjvDxWcA1N8VcBB"
    "DTgEPiknQ5tkhB3ytTnNuX/xsuNakZweoMq3H7Uqo+eHzehJxSiKLKjDo1OrLwz37LTcWl"
    "eD6iI6Y2GYsc7OXyNmL/ILXBHhOgM2F3cgDNl0ZhF5diJIm+RXSNyr4BAq7juAdSPi4qYD"
    "eCXl2DtmgbksF9rzL468exYONAX39XylT8VNENT/KS50oAS6jiwYQT9L+vqHNpD7kCyggs"
    "0QB3IObIZ/hYS4MyLv0obUuT//VaEtHOMvRHflMXS5I+nnzJQ/6Ffd5SDqNnGXQ8kM4u9J"
    "HN42Q7eZzGF/DJTZm4uzVL6y6iurlqWk95bBvocu3I64bIX26tRZpoy0Vd5qV3abJR3zHx"
    "R/gDGLYJot4xiXIt4BsK1r8IYlm5Xpdbd7mxDndVs9MPTw/roFy2Epx+gSnIykXRF0LH1w"
    "K8m1D8GGjZ/eqiIPP0jkobrgqLrgaJtyTbb0gqM6sc3hRMuI+fg1B8tCPTiiqfIBNmao15"
    "wPkLvLtOSiidwNpr0IT6xjR08MqhII++R7iO5a7gqCLzqEZjh5+QcOYiybvy1ox08blNjm"
    "ef3J7OVvYCIWKw=="
)
