from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "url" VARCHAR(2048) NOT NULL,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMPTZ NOT NULL,
    "delivered_at" TIMESTAMPTZ,
    "gave_up" BOOL NOT NULL,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "task_id" UUID NOT NULL REFERENCES "tasks" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_webhook_del_deliver_612665" ON "webhook_deliveries" ("delivered_at", "gave_up", "next_attempt_at");
COMMENT ON TABLE "webhook_deliveries" IS 'Outbox of completion callbacks: written in the same transaction as the task''s ending,';
        ALTER TABLE "tasks" ADD "callback_url" VARCHAR(2048);
        ALTER TABLE "users" ADD "webhook_secret" VARCHAR(128);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" DROP COLUMN "callback_url";
        ALTER TABLE "users" DROP COLUMN "webhook_secret";
        DROP TABLE IF EXISTS "webhook_deliveries";"""


MODELS_STATE = (
    "eJztW21z2jgQ/isaf7l2Js0k5PVyNzdDgLRcU+gk5Npp6bgCC/DFSNSSG5he/vut5HfZpj"
    "gNlFA+tDGrXb08u5JWu9I3Y8ws4vDdCxePSZ0I0hc2o9w4Q98MCiT4KGLZQQaeTGIGSRC4"
    "5yiZgWQ2rTR3jwsX9wWUD7DDCZAswvuuPZEsUqpNCXLZHZoQF2GKnRknFlJVnSGMHEaH6K"
    "ttEYZcgi2Oerh/i2zqcyDmWsTdQRM8JKg3U393ZbMW60O7Nh0upYUu7dIban/xoJiiZwLz"
    "2x2f3bSpRabPdxBnULVLoA/QlutRxL4S9861BeHIFlz2Bz4oF9AkYgMEqBJqQYeh8s+s9y"
    "9AyD8jm8sO2lxIlm9dw8E94nRhgF2D95lL/M8em3ZhnB+n+ztoBv+mFfhb+XQvB8Fce2jD"
    "mF/4o5nYU6lWCZGnBmAKNiRiRFxZwUdDDkUWJgZjfPoEBPVJpI18lD8nt+bAJo6VshnbUq"
    "KSborZRNHO7WGTigvFK/XSM/vM8cY05p/MxIjRSMCmQlKHhBIXCyJbEK4n7YZ6jhOYWmhK"
    "/hhiFr+XCRmLDLDnSOuT0n4HYpphmq12x7xudEzTyFhmKJEwpYDUB+MGq4au+pNmKLvw4v"
    "dK5eDgpLJ3cHx6dHhycnS6dwq8qr/ZopN7vzMxWn5VCrPmy2arIzvEYOr4c0sS7pUMFtiX"
    "UsqI0U+qLKOGQh1oUt9XRgj9PG2EhFgd8dxfnT4q+4cnh6cHx4eRGiLKPPRDpGNkhT0mXO"
    "DxJIvrhcNwAbIpKQ3XgRR7gsjOga3evjm/bKC3V41a87rZbslWxjP+xYkLJQkIsAZK2lWj"
    "eqkBHax7WZj/vm638lFOiGgYW3ZfoP/U6rkspI0/Bx5Vex3qebYjYD3fle39ZawefwmRwp"
    "wHmLf+qV7VXlWvnr2pvn+eXkxatcv2uYKMcTF0VS2qgnPd8mE7MPOW9ZubZr3A7GMRTSGe"
    "Z1u7UnCzDF9hfHD8XMdTjfT+Xu6Wg9vcFTvabNNLCuzr9pC+JjMFcBP6gWmf5AAa+GidoJ"
    "qnCWlMjXdtF99F7kXSoGDsMGLirx+16nWtWm8YCmHps91h1zJTUMsSVmEaJeLNFo0rY50C"
    "DuNQgSNHIfucRD3HYw61UewmywEt5hsXY5njvGle2keD3YE9BMj1wbUFyzBh1/lUyn8rnu"
    "iPP8e/78QlFlzVkvzv8Gestt+Z9PP8NJjOwsvZ42oj7DaoN87M+hTqsbSGPHR8advc20ar"
    "3my9LIlzKHaGgo8uvbpptRQl+OjS65tardGoN+pnKPrs0otq81KS/L9dWqu2ao1LRYo+9W"
    "NegS84xlPTIXQoRvBz/3iOTsP9cv9Y3y6DkooqSu+Qan7nKzN/2kQCq9PfMl3tNLx7e4vg"
    "u7dXDLAsSyM8wXBEKeUTxhLr4RLKZjfGJVSREtNz7TJGnxLaSMOvHC5k+ZXDOaYvC/PAVr"
    "9Kox1KrXCfWJaNp8GuHB0tgDVwFUKtytJIqzgIB4dK4JzlfH74JCH2oPhJ4OasjWk/cvgk"
    "wMhiNMeKv4dsKLW6wNTeE4GVuC5zs4B2yLQA0UjgQSvCmhnpHKg6jfed+dteFJe6bLdehu"
    "z6XphGu48dRx4cYRMr5e7pcpuAvbYc7x2eLrIeA1vxgqwKNcTjI2sG7zqUyPhqAeYpSd0H"
    "DER3w4+n6HzIRFWbOrPANuZNhuabxnWn+uZtakbUq52GLKmko7QB9Zl+AIoqQe+anVdI/k"
    "Qf2q2G7i9GfJ0PhuwT9gT4IezOxFbiOB9SQ9RSWofzrfswraclH0HrazbrnoiSQ0zmanlg"
    "U5uPHqRmTXSr53XWczIEuaDflxTZZiMDv29OEkHh9QhZhBtOnuI5fNEsQtKsyqYR9KNMFu"
    "3zQO7i9RVxsBpDIdA5V2o2BPPU1L8jvRFjtxJp+ytx7R+F7Z1fX92vbrZJsC0zTaWmdU6a"
    "KpzuxWkqDziWn6YqlYz6VW4S/WCMoDj3RMbYLnV8jQQeJ4r4c8FNHVsPKovkKoCr8NCqyr"
    "RQl+1yUTpem5bauHjt/tFCWaGjOVmhowzSDn4A0CmhLc6L4DzBnN8x2IVGmI/KYJ0R3MC0"
    "z1IyEYLdEmqCj8MDf2jBPTAjtw2Z6yHz0CflpO+SnMhDsTVnJTcvkLtfWSSOC1zF60dlG8"
    "X9ZaO4mRjFIgfq6C7cww+GG3b9camnQf0QnXMwzDlnF58R8w/5C7z58USPTeWjlj4bTxyi"
    "7suEqTJ+huRDGUGofMAC50bE5dMVqJJy7F+twVzRpfX8xpH/cGbH0HBfTitdKp/20OCnfK"
    "FDCQwdOTCD/lD81bdNYA8gmUEBmyAO7BzErOBNkHwEVPQKJ3ORM6gqWguH+CsxPfWugJKp"
    "AKog44kof7lz+zhHlq3icU7JrPGPJIvXbaFbTbY4mAM5e0mhhSdFtr6y7ivrK0tJ7y1HfA"
    "NduCfisi2Uq9N3mTLa1mW3Wdl11nTCf9D8AcYcgmm+jhNSmnp7ILasyRtRVqvT83b7MqXO"
    "86Z+SezmzXkDjsNKj/GrxuxCqoKOpS/rpaU2Idiw8ht728jDLxJ52L5Y3b5YXae7Jmv6Yr"
    "VKXLs/MnJiPkHJzrxQD455tvcBVrZQL/k+QGGWac7josIE00aEJ5aR0ZOTqgTCAfsGoruU"
    "96HQoiA0x8krfiCaEFn9C9Gfs+c/2lvQEmmex9/M7v8HB3qUvw=="
)
