from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" ADD "dispatch_due_at" TIMESTAMPTZ;
        CREATE INDEX IF NOT EXISTS "idx_tasks_dispatc_274234" ON "tasks" ("dispatch_due_at");
        CREATE TABLE IF NOT EXISTS "idempotency_keys" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "key" VARCHAR(255) NOT NULL,
    "fingerprint" VARCHAR(64),
    "status_code" INT,
    "response" JSONB,
    "claimed_at" TIMESTAMPTZ NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "owner_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    "task_id" UUID REFERENCES "tasks" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_idempotency_owner_i_32142d" UNIQUE ("owner_id", "key")
);
        CREATE INDEX IF NOT EXISTS "idx_idempotency_created_944834" ON "idempotency_keys" ("created_at");
COMMENT ON TABLE "idempotency_keys" IS 'A client''s Idempotency-Key on an upload (see api.idempotency): claimed before the body';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_tasks_dispatc_274234";
        ALTER TABLE "tasks" DROP COLUMN "dispatch_due_at";
        DROP TABLE IF EXISTS "idempotency_keys";"""


MODELS_STATE = (
    "eJztXVtv2zgW/iuEXyYF0iBxbt3sYgEncTveSZ0il53BxIVKS7StiUxqRKqJ0e1/30NKli"
    "XqUsmNXVvVQxuZ5CHF7/BybqS+tKbMIg7f6/hicks4txltnaEvLYqnBB6ysndRC7vuIlMm"
    "CDx0VHkMBQ0elFQ5eMiFh00BmSPscAJJFuGmZ7siaKt1TQni9pi+tukZEhMC5aa2M0NshG"
    "zBkUdGHuETJNgjoXwPdbE5iRI9JrAgHH0yfc8jVBh/CfvTP2Utsm2LmdC4Tcera2ZAFQFU"
    "AYVdB5vEQlzgGUc+l5igEfMQRiPyhDgxGbU42hFPDJmODfVEzcI7IiwQoyZ5tYswhddyLO"
    "INKIO3tjnUoGqfQZYFj5+hTa46EUK9h67YmPkiyoP3EYxBVaYJJcJeIZuajm8Ra0+i41P7"
    "b58Ygo0J1OQBRg8fIdmmFnkmfP7TfTRGNnGsxKiwLVmBSjfEzFVpFxPsvVUlJfJDw2SOP6"
    "WL0u5MTBiNigNjZOqYUOIBtlZsfFDfccLxNE8K3hUShOeT6CWtRYJFRth35CiT1MEbLNJa"
    "htG/vjNuu3eG0UqNwDlFbLSEScAwOXpt4JTq/xQ/Gw6hYzGBn4ftr0E7CxyCUrLB/3ZuLn"
    "7t3Owctl/JBhlMgWCC9MOctsr6qqrAAgeVKNQXMMdGWxW8NbKXAX6esEB+MZ23FvoF1C5M"
    "HJv5vCrWOt1SYIdj+GfBOlhNLQOLNNKXkCPsKclGO0mpYW2FpHvzh+1DvgDpu9777u1d5/"
    "0HWf2U878dBVfnritz2ip1pqXunGhciSpBv/fufkXyJ/rzut9VaDIuxp5qcVHu7s+WfCfY"
    "1ZlB2ZOBrTgm8+R5UpLLaidaissJyobLm8xl0yNLzuUk5QtweeO2LOigdU2dWTgCt4Tt4W"
    "Qp5LrPiWdkCYE9KrK5HaPQWA1wbSNzx/IlXrcPjk6P3hyeHL2BIupFo5TTAn73+newJ0rx"
    "evSYKflJuNLovmUeAQ3mNzJTIPfgjTBoDBmghmrbfVjNloH7dT565qmLYenhp0gfiQ8q6D"
    "v0mIhAXOvcXnQuuy2F8BCbj0/Ys4wE1DKHtZmWEpVNZ03bUz0FUzxW4MheyHcOUX/rARcv"
    "4V1MobTgDH1aL7JbpFOPZGHoXqJ0KbXaY0/IJaCAUuzMOKimqqozUCcdBhrnZ9siDMllii"
    "PZddAPgxKIeaB97iIXOoiGM/V3L1OjftEWBnRA79UYBE0Y9GTMH3eD4oYaiaAac6Z0YXgH"
    "aMvzKWKfiffk2ULpvFy+j1RzuYAmpWoPqBJqwQtD5Z/Y8C+AkH8KNGrH5kIW+TJowUQgzg"
    "A6OGhxEyZZ8DhkzwPJ7OeDXTSDf89t+Nv++FV2gnn22IY+vw5649rPkq05avVDS3ZFzedF"
    "Z1ofv0fbPrfHuWtt2WU2nFKbq24Ha+w/2u3Dw9P2/uHJm+Oj09PjN/vRYpvOKlp1z3vv5M"
    "Kb2DSDlXi3QAmPs6z8fqdRNXtehPQCWSnXwQ42dTN2OofhHGQTVBquI0m2hcgWwHZ5fX9+"
    "1UUfbroXvdvedT8pC6pMmQQJdrD53XQ7VxrQ4bqXhvk/t9f9bJRjJLpobpsC/U+tnqtCuv"
    "WvkU/VXoeGvu0IWM/3ZHv/bq0ffwlRQiqfWzZ23nf+0I0eF1fX57q4LSs410c+bAeZ8vP9"
    "fe8yZ9gvSDSG+L5t7UnCeg38wK4UKDlxPFVPC4XnaLP9PuH5LqxmOyH9pvAcG1CbJDz3LD"
    "J1mSDUnAGrsmRnrUSh6GwvyhqPZFZSdO6E7plfOIo19hpak3Ippsh3YaOx0A4nBCRMey/W"
    "zKszIMawR1loSEYw5pSbZsisWUp+Xk0zA2pzJXHvyiRYQZlPLSSYKiCZLn1DU2wR5UuSiT"
    "CxXBgtRGaMmYgJ2TP0ZItJ4GgCJgwoYCgzfI9K9xMWMdqYzB26ulRreyiU6KWWwJ6o1BVM"
    "j3GuPFq2iQukZlVc5kKzKXH5IW5B+tgIzxspPD8GE7SsNyUsXkOPVfv4uIQbBUrl+lFUXl"
    "KMGEH7xHO9cHiWRVkjq5/L6uSoBNYnR7lQy6wk0iArCJ8DhhapoARqVEspgZsG9AvrgPP9"
    "o4puEqf5LuVkw7BdtxYSChDL+G4SlDX03WyJr6Zx0TUuuhyuK9m5mo8uTtIYLLMMlj/KbL"
    "M9G9XyVptI2Wt8nkVmm/gkzbbb6CN2faawzRym22oJU6Bn2L/mzMi3eskOlTN15WP57ejg"
    "h8RYTMoKkAalH0INKHiG6nw1xsLEJJEqYtncxcKcGBY0Xdmsk78Kv7zd/Nu2nZgTQ7Uk/z"
    "v6ER6MbyzJuwXmmwWn0raFLvWnqeUjQ/1dr0Gn9aHbv+z131XEeU52hsKHAb257/dVSvgw"
    "oLf3Fxfd7mX38gxFjwP6ttO7kknB3wG96PQvulcqKXrUTb9ljBgHJyWMGAe6hLkwYsispP"
    "iiVooqhqKIoIYGuYP9/TL47u/nAyzztChy7OFpJT/rgmIz3Kyy2dq4WVX0keF7lSL6E0S1"
    "HPjtMuZRWaxg6LdTJtIAN/WrMtpzqjXuE6sa4+sw+8vYIg6imcAZy3lxSFKMrDFHpzX8EC"
    "OL0Sp2fo1qfbaT/S2BlXgey9Dt78hzDqIRQR2cU0VWxe4fd8XbXmRUvLruv5sX1/dCza6P"
    "HUeqoLCJVRL3dLo6YK8tx/tHb8qsx1Asf0FWmUnEk7HZZWW/JFUj/724/AdZzPdMouQL7m"
    "KzkmiSTV3DSXF8WEpGOSyQUQ5TZzzj4C2NegN4acAbL18++vX18nGBveW4nqRsDtlusgd/"
    "ZFObT5Zis0ba8HmT+ewQzKXfQ5Cpm8HpXP0zRddooLoGGkA0UbfqVBFHdLo6SiMrMFEFsJ"
    "Fn14bpscSylUXfrF2bvHZNCMgTQ5Akl+C2TttwepM5TcmzMJTJs8IWlSRq9id9fwJxfEwM"
    "6TGvFAqtkTXR0Msbi6LwlLKiQURQP5ng5Q9QBFc2ZJhHc1eMGEWzXKSPTQhvttTVWgu6Zp"
    "fd5F1WD4WryOgM8obfm8zvJl5/5ZdqNRHmLxRhnh8PrUdSpNE+D+ne/nZDHCzCC6Wzgc64"
    "JasmmCemftYlBcuDlr4eYSsX9WLInshwwtijHJz2Z5ItWVYB7fegvsugujKobc1IW+URBb"
    "USZhxRmK+Q+UcU5NV9qz+iUOn4wM9yJcR3KiH5pwXIFNuVAo4ighreDV8muhxKFVybnYou"
    "H9keF5UDKpJUtYuwPTguFcd/XBDHf5xC2sFLAJ0ganAug7OLOX9isAtNMJ9UwTpFWMNA/Z"
    "U45tSHQAyQceafcim5B6boGpucbpOby6ScmB6pdCFPmrJ+JuWDdpnIWyiVv360U3G3TdBb"
    "Pvr1CnpLmXXK2CDi36FaXjfUvn21ZeNgGywQW4lZdMh+eaBqdsPoSk0NuoUmw+qQYcTJN0"
    "BkW5BKXKvviyF7ltdcmmzqOkQdn5ifnOFnSN5FL+QH4Wh0bSaAgynHwUkLzKOLOH/hKLib"
    "frel4b6aVgZUXuxJw5/yEnxKoOvIgeVZfcwOdT70oHgIyQwymIs4kR+tC747pzyyyBYlvx"
    "/30AqrijbaMf5MDF9d3a0iQsKYxegCiHl+c5/nZt7nWfFE2fccJNu0VW89J8nCCVElUCJO"
    "0mhlulamLzMV9YQM8hoqC1uiHJQLnNC2nEpRExptEzKxyZyOCROaPMCYQzDN5nGMSmPvEM"
    "hWNXmjlPXy9Pz6+irBzvOefoD8/v1592bnQPFx8RWRjBMU0rxd+SB/kqoOZq21n+ZvbFw/"
    "iY1rI64a3TQeL3+xXUEkWPOFmDKBYBt6L2aHeLY5aWUYgMKc3SK7D16UaSJP1rZQrzjyJN"
    "efWXDxWK4rsxbmiVX4juWkqoBwWLyG6K7k7khoUZCsD7nkn/6Kkaz/9qAfs+e/2NGvCg7F"
    "l9/Mvv4fEdWGtw=="
)
