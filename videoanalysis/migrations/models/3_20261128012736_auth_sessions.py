from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "auth_sessions" (
    "id" VARCHAR(32) NOT NULL PRIMARY KEY,
    "current_jti" VARCHAR(32) NOT NULL,
    "previous_jti" VARCHAR(32),
    "rotated_at" TIMESTAMPTZ,
    "revoked_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
COMMENT ON TABLE "auth_sessions" IS 'One sign-in: the family of its refresh tokens. Each refresh rotates `current_jti`; the';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "auth_sessions";"""


MODELS_STATE = (
    "eJztXG1T4zgS/isqfzm2iqEgwMBxV1cVIMxml0mmINxu7WTKo9hK4sWRspZMSM3x368lvy"
    "t2sIFkk5APMzgttWQ93ZL6RfIPY8Rs4vK9ui+Gt4Rzh1HjDP0wKB4ReMgr3kUGHo+TQkkQ"
    "uOeq+hgqmjyoqUpwjwsPWwIK+9jlBEg24ZbnjEXQl9GmBHFnQD849AyJIYF6I8edItZHju"
    "DII32P8CES7J5Qvoca2BrGRI8JLAhH3y3f8wgV5p/C+f4v2Yrs22YWdO7QweK66VLFAE1A"
    "5bGLLWIjLvCUI59LTFCfeQijPpkgTixGbY52xIQhy3WgnbhbeEeEBWLUIj/tIkzhtVybeF"
    "3K4K0dDi2o1qdQZMPjA/TJ1SBCqPfQNRswX8Rl8D6CMWjKsqBGOCrkUMv1bWLvSXR86vzl"
    "E1OwAYGWPMDo6zcgO9Qmj4RHP8f3Zt8hrp3RCseWDSi6KaZjRbsYYu9K1ZTI90yLuf6IJr"
    "XHUzFkNK4OgpHUAaHEA2ztlH5Q33VDfYpIwbsCQXg+iV/STgg26WPflVomuYM3SGiGabba"
    "HfO20TFNY0YDI46UtoQkEJjUXgckpcY/wo+mS+hADOHnYe0p6CfBIaglO/xv/ebi5/rNzm"
    "HtJ9khgykQTJBWWFJTRU+qCSxw0IhCPYE5pW1V8NbY3gb4iJAgn0zntYU+gXoME8dhPq+K"
    "tc73IrBDHX4vWAerqW1iMYv0JZQIZ0Ty0c5yaljbIete9LB+yM9ButP83Ljt1D9/kc2POP"
    "/LVXDVOw1ZUlPUqUbd+ahJJW4E/dbs/IzkT/RHu9VQaDIuBp7qManX+cOQ7wS7OjMpm5jY"
    "TmMSkSNSVspqJ3qRlDOcWymvspQtj7xwLmc530DKK7dlwQDtNnWnoQauidjDyTJX6j4nnp"
    "lnBDapyJd2ikMTNcC1jsIdyJf4UDs4Ojk6Pfx4dApV1IvGlJM58m62OrAnSvO6f59r+Um4"
    "ZtG9Yh4BD+ZXMlUgN+GNMHgMOaCGbttd2MyagfsUaU9ETdTSw5PYH0krFYwdRkxEYK7Vby"
    "/qlw1DIdzD1v0Ee7aZgVqWsBrTKHHd2aJRbaRTMMUDBY4chXznEPUrD6R4Ce9iCeUF5/jT"
    "epXdeT51X1aG4WVql3KrPTZBYwIOKMXulINrqpo6A3fSZeBxPjg2YUguUxzJoYN/GNRAzA"
    "PvcxeNYYCoN1V/93I96jftoUu79E7pIHjC4Cdjfr8bVDeVJoJrzJnyheEdoC/Pp4g9EG/i"
    "OUL5vFy+j3RzuYAupWsPqBJqwwtD499Z70+AkH8PPGrX4UJW+dE1YCIQtwsD7BrcgkkWPP"
    "bYY1cK+/FgF03h32MN/ta+PclBMM8ZODDmD8Foxs6jFGuBW/3VkENR8zkZjPHtNd72uTMo"
    "XGvLLrPhlFpddztYY/9Zqx0entT2Dz+eHh+dnByf7seL7WzRvFX3vPlJLryZTTNYiXfnOO"
    "FpkZXf7zSu7Z4XI50gK+062MFG45ydzmW4ANkMl4ZrX7KtIbJzYLts351fN9CXm8ZF87bZ"
    "bmVtQVUoSUBwgs3vplG/1oAO171ZmH+5bbfyUU6x6Ka5Ywn0P7V6Lgpp4999n6q9DvV8xx"
    "Wwnu/J/v5jLB9/CVHGKo8iGzuf67/rQY+L6/a5bm7LBs51zYftINd+vrtrXhaofcKiCcT3"
    "HXtPMm6W4gdxpcDJSeOpRjrXeI4329cZz52wmfWE9FnjOaVQq2Q8K9RzLOZIGsVmshxQOd"
    "u4GMvncyJfDTahsduRCmJ8q2S/FU/0t5/jzxtxqQVX9ST/O/o7VttnJv08Ow2ms/Bz9jgZ"
    "u29QfzQz6zOoJ9zLS5cYXxqty2brU0WcI7YzFD506c1dq6Uo4UOX3t5dXDQal43LMxQ/du"
    "lVvXktScHfLr2oty4a14oUP+puXpkcwcHHEjmCAz1gleQIZFF2h1Tzu0oiJmbYwHTXwf5+"
    "GXz394sBlmVaxguDi1LJJkw4VsMklN1ujEmoIiWm71XKPmaYNlLxa0elNL92NEf1ZWEe2O"
    "pXZbQjriXuE4vS8SzYtePjElhDrUKoVVkWaRUH4WBQCZyznM8Pn6TYXhQ/WbG031uHT0KM"
    "bEZztPg5ZCOu5QWm9tcEVuJ5LCf30iGPBYjGDJtw9mNekrLxe2f+thfHpa7brU9RdX0vzK"
    "JtYdeVjiNsYpXMPZ1vE7DXluP9o9My6zFUK16QVaGG+DZj/w4z9uDfei+TepZzexpnlU/j"
    "9B3q8OGLxKyxbuW8ynJOhyBL2n1plm028vkTOAqvN8gibPgRnLRaVU0j6K7MLNrnId/Vrz"
    "fExSK8fZIPdM6Rmg3BPDP1J6Q3ZOxeIu08EM95LWy/Be1dBs1NNwm2Raap1LTOSVNF0704"
    "TSUPrS0+TVUpGfVeThK9MkZQnHsiI+xUcl9jhg28FVUmVwG15lwYmclV9B2Pi8rx2izXxs"
    "VrD45LZYWO52SFjmeQdvELgM4wbXEug/MYcz5hsAsNMR9WwXqGcQPTPgvJRKgrsCbYONEl"
    "5pJ74AzfNmSuh8wjm5QTyyM5kYdibZ7l3LxA7kGtTBwXahWvH7VtFPfdRnFnYhRlHOr0Fx"
    "he7htqX31YMz0o5U7HhwZfjtKGnRNdqNusRxtyPOicgESxM50fDSlxOcoXPfYob/9YbDR2"
    "iTpYFOUU+RmSN4qE/KwHDb6yIe/4QJOU4+AMEg6+viG15x8cBTeMdg0N98X00qXyDhQNf8"
    "qrTJTA0JELS436JAmqf2lC9RCSKRSwMeJEfnok+HqIvDwlb0uV/ArIVyNsKt40BviBmL66"
    "gEHJowCqIKOxqH4KdnuLSZYt4xZTxfT6a7Lqq7bQLSetHs6BnL2kUMPTLFunQncq9JWlop"
    "mbw76Btu6a2Lalkpr6LlNF2jrvNn29ypJO2Q+aPcCYSzDNl3GKSxNvD9gWNXljynJlet5u"
    "X2fEed7UT9PdfT5v3OwcKDkm1z9nF1IVna18qjHLtQlRmaUfbdyGaN5JiGZ7tXd7tXeVDu"
    "Ws6NXeOvEca2jkfV42KNmd+2XZpM724MTSFuoFH5woTMfNuYVVmInbiPDEIlKfclJVQDis"
    "voHoLuQiLfQoCM0x8opv0qZYln+V9u/Z89/s0myFfNjbb2ZP/wdsRO71"
)
