from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_tasks_owner_i_1ee8eb";
        CREATE INDEX IF NOT EXISTS "idx_tasks_status_449504" ON "tasks" ("status");
        CREATE INDEX IF NOT EXISTS "idx_tasks_owner_i_868b26" ON "tasks" ("owner_id", "created_at", "id");
        CREATE INDEX IF NOT EXISTS "idx_webhook_del_gave_up_6eef5c" ON "webhook_deliveries" ("gave_up");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_webhook_del_gave_up_6eef5c";
        DROP INDEX IF EXISTS "idx_tasks_owner_i_868b26";
        DROP INDEX IF EXISTS "idx_tasks_status_449504";
        CREATE INDEX IF NOT EXISTS "idx_tasks_owner_i_1ee8eb" ON "tasks" ("owner_id", "created_at");"""


MODELS_STATE = (
    "eJztW21z2jgQ/isaf7l2Js0k5PVyNzdDgLTcpdBJyLXT0HEFFuCLkThLbmB6+e+3kt9lm+"
    "I0UEL50MasdvXy7Epa7UpfjTGziMN3L1w8JnUiSF/YjHLjDH01KJDgo4hlBxl4MokZJEHg"
    "nqNkBpLZtNLcPS5c3BdQPsAOJ0CyCO+79kSySKk2Jchl92hCXIQpdmacWEhVdYYwchgdoi"
    "+2RRhyCbY46uH+HbKpz4GYaxF3B03wkKDeTP3dlc1arA/t2nS4lBa6tEtvqP2vB8UUvRCY"
    "3+347KZNLTJ9uYM4g6pdAn2AtlyPIvaFuPeuLQhHtuCyP/BBuYAmERsgQJVQCzoMlX9mvX"
    "8AQv4Z2Vx20OZCsnztGg7uEacLA+wavM9c4n/22LQL47yd7u+gGfybVuBv5dODHARz7aEN"
    "Y37lj2ZiT6VaJUSeGoAp2JCIEXFlBbeGHIosTAzG+PQJCOqTSBu5lT8nd+bAJo6VshnbUq"
    "KSborZRNHO7WGTigvFK/XSM/vM8cY05p/MxIjRSMCmQlKHhBIXCyJbEK4n7YZ6jhOYWmhK"
    "/hhiFr+XCRmLDLDnSOuT0n4HYpphmq12x7xudEzTyFhmKJEwpYDUB+MGq4au+pNmKLvw6t"
    "dK5eDgpLJ3cHx6dHhycnS6dwq8qr/ZopMHvzMxWn5VCrPm62arIzvEYOr4c0sSHpQMFtiX"
    "UsqI0U+qLKOGQh1oUt9WRgj9PG2EhFgd8dxfnT4q+4cnh6cHx4eRGiLKPPRDpGNkhT0mXO"
    "DxJIvrhcNwAbIpKQ3XgRR7hsjOga3evjm/bKB3V41a87rZbslWxjP+rxMXShIQYA2UtKtG"
    "9VIDOlj3sjD/ed1u5aOcENEwtuy+QP+p1XNZSBu/Dzyq9jrU82xHwHq+K9v7w1g9/hIihT"
    "kPMG/9Xb2qvalevXhb/fAyvZi0apftcwUZ42LoqlpUBee65cN2YOYt6zc3zXqB2ccimkI8"
    "z7Z2peBmGb7C+OD4pY6nGunDg9wtB3e5K3a02aaXFNjX7SH9i8wUwE3oB6Z9kgNo4KN1gm"
    "qeJ6QxNd61XXwfuRdJg4Kxw4iJv37Uqte1ar1hKISlz3aPXctMQS1LWIVplIg3WzSujHUK"
    "OIxDBY4chexzEvUcjznURrGbLAe0mG9cjGWO86Z5abcGuwd7CJDrg2sLlmH6uw7QgPvWAM"
    "sSHvcdvIU9uuKp//Sz/ttuXWIJVi3J/w5/xPr7jWVgnucWqCGDdG2E3Qb1xpl1IIV6LK0h"
    "Dx1f2sb3rtGqN1uvS+Icip2h4KNLr25aLUUJPrr0+qZWazTqjfoZij679KLavJQk/2+X1q"
    "qtWuNSkaJP/eBX4B2O8dR0CB2KEfzcP56j03AH3T/WN9CgpKKK0nummvH5ysyfNpHA6vS3"
    "TOc7De/e3iL47u0VAyzL0ghPMBxaSnmJscR6OImy2Y1xElXsxPRcu4zRp4Q20vArhwtZfu"
    "VwjunLwjyw1a/SaIdSK9wnlmXjabArR0cLYA1chVCrsjTSKjLCwcUSOGc5nx9QSYg9KqIS"
    "uDlrY9pPHFAJMLIYzbHibyEbSq0uVLX3TGAlrsvcLKAdMi1ANBJ41IqwZkY6B6pO40Nn/r"
    "YXRaou263XIbu+F6bR7mPHkUdJ2MRKuXu63CZgry3He4eni6zHwFa8IKtCDfHUITaNdx1K"
    "ZMS1APOUpO4DBqK74cdzdD5k6qpNnVlgG/MmQ/Nt47pTffsuNSPq1U5DllTScduA+kI/AE"
    "WVoPfNzhskf6KP7VZD9xcjvs5HQ/YJewL8EHZvYitxnA+pIWoprcP51n2c1tOST6D1NZt1"
    "z0TJISZztTywqc1Hj1KzJrrV8zrrORmUXNDvS4ps85OB3zcnraDweoK8wg0nz/EcvmheIW"
    "lWZRML+lEmi/Z5IHfx1xVxsBpDIdA5l2w2BPPU1L8nvRFjdxJp+wtx7e+F7b1fX92vbrZJ"
    "sC0zcaWmdU7iKpzuxYkrDziWn7gqlYz6We4WfWeMoDj3RMbYLnV8jQSeJor4Y8FNHVsPKo"
    "vkKoCr8NCqyrRQl+1yUTpem5bauHjt/tFCWaGjOVmhowzSDn4E0CmhLc6L4DzBnN8z2IVG"
    "mI/KYJ0R3MC0z1IyEYLdEWqCj8MDf2jBPTAjtw2Z6yHz0CflpO+SnMhDsTVnJTcvkLtfWS"
    "SOC1zF60dlG8X9aaO4mRjFIgfq6Hbc4w+GG3YhcqmnQf0QnXMwzDlnF58R8w/5C7wC8kSP"
    "TeUzlz4bTxyi7suEqTJ+huTTGUGofNIC50bE5WMWqJJy7F+twVzRpfX8wpH/lGbH0HBfTi"
    "tdKh/70OCnfLNDCQwdOTCDflP81XdNYA8gmUEBmyAO7BzErOCVkHwWVPQuJ3O1M6gqWguH"
    "+AsxPfXSgJKpAKog44n861/0DMvL3fTcvt2RZat4u1Myhfw9meN1W/VWkzoOJkTOxlJo4U"
    "mRreOsO876MlPSlcsR30B/7pn4bwsl7vQtp4y2ddltinadNZ1wJjR/gDGHYJqv44SUpt4e"
    "iC1r8kaU1er0vN2+TKnzvKnfGLt5e96As7HSY/zoMbuQqghk6Zt7aalNiDys/PreNgzxk4"
    "Qhtg9atw9a1+niyZo+aK0S1+6PjJwAUFCyMy/ug2Oe7eWAlS3US74cUJhymvPSqDDbtBHh"
    "iWWk9+SkKoFwwL6B6C7lsSi0KAjNcfKKX4smRFb/XPTH7PlP9jC0RM7n6Tezh/8Ba8meNw"
    "=="
)
