from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" ADD "resource_namespace" VARCHAR(253);
        ALTER TABLE "tasks" ADD "detections" JSONB NOT NULL DEFAULT '{}';
        ALTER TABLE "tasks" ALTER COLUMN "detections" DROP DEFAULT;
        ALTER TABLE "tasks" ADD "resource_name" VARCHAR(253);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" DROP COLUMN "resource_namespace";
        ALTER TABLE "tasks" DROP COLUMN "detections";
        ALTER TABLE "tasks" DROP COLUMN "resource_name";"""


MODELS_STATE = (
    "eJztXFtT4zgW/isqvyxTRVMQoGHZra0KEHoyQyddEHamhnS5FVtJPDhSxpJJUr389z2SL7"
    "EdO9iBZBK3H7pxJB1dvnMknYuk79qImcTmB3VXDO8J5xaj2gX6rlE8IvCRlr2PNDwezzNl"
    "gsA9W5XHUFDnXkmVg3tcONgQkNnHNieQZBJuONZYeG1pbUoQtwb0g0UvkBgSKDey7BlifW"
    "QJjhzSdwgfIsGeCOUHqIGNYZjoMIEF4eib4ToOoUL/U1jf/iVrkW2bzIDGLTpYXzNdqgig"
    "Cig8trFBTMQFnnHkcokJ6jMHYdQnE8SJwajJ0Z6YMGTYFtQTNgt9RFggRg3y0z7CFLplm8"
    "TpUga9tjjUoGqfQZYJn8/QJleD8KE+QLdswFwR5kF/BGNQlWFACX9UyKKG7ZrEPJDouNT6"
    "yyW6YAMCNTmA0eNXSLaoSaaEBz/HT3rfIrYZkwrLlBWodF3MxirtaoidG1VSIt/TDWa7Iz"
    "ovPZ6JIaNhcWCMTB0QShzA1ozIB3Vt25enIMnrKyQIxyVhJ815gkn62LWllElqrwfzNE3X"
    "W+2Oft/o6Lq2IIEBRURa/CRgmJReCzilxj/CU90mdCCG8PO49uK1M8fBKyUb/G/97urn+t"
    "3ece0n2SCDKeBNkJafU1NZL6oKLLBXiUJ9DnNE2orgnSB7H+CDhDny8+m8s9DPoR7DxLGY"
    "y4tinaRbCWxfhn8UrL3V1NSxWET6GnKENSLpaMcpE1ibPulB8LF7yC9ButP83Ljv1D9/kd"
    "WPOP/LVnDVOw2ZU1Ops0Tq3scEV8JK0G/Nzs9I/kR/tFsNhSbjYuCoFuflOn9osk+wqzOd"
    "somOzSgmQXKQFOey2olW4nKMsuLyNnPZcMiKczlO+Q5c3rotCwZotqk98yVwR9juT5alXH"
    "c5cfQ0JbBJRTq3IxQJVgNcu8jcgezEh9rRydnJ+fHHk3Moojoappwt4Xez1YE9UarX/adU"
    "zU/CtYjuDXMIWDC/kpkCuQk9wmAxpIDqm20PfjU7Bu5LID1B6lwsHTwJ7ZGoUMHYYcREeO"
    "pa/f6qft3QFMI9bDxNsGPqMahlDquxREpYdjFrVBslUzDFAwWOHIXss4/6jQNcvIa+GEJZ"
    "wSn2dLLI/jKbui8Lw/BipXOZ1Q6boDEBA5Rie8bBNFVVXYA5aTOwOJ8tkzAklymO5NDBPv"
    "RKIOaA9bmPxjBA1JupvwepFvW7ttClXfqgZBAsYbCTMX/a94rrShLBNOZM2cLQB2jLcSli"
    "z8SZOJZQNi+X/ZFmLhfQpDTtAVVCTegwVP6N9f4ECPk3z6K2LS5kke9dDSYCsbswwK7GDZ"
    "hk3mePTbuS2dOjfTSDf9Ma/K19fZGDYI41sGDMH7zRjK2pZGuGWf2oyaGo+TwfjPb1Ldb2"
    "pTXIXGvzLrP+lNpec9tbY/9Zqx0fn9UOjz+en56cnZ2eH4aL7WLWslX3svlJLryxTdNbif"
    "eXGOFRluXf7xJU1Z4XIj1HVup1sIONxik7nc1wBrIxqgSufUm2g8guge26/XB520Bf7hpX"
    "zftmuxXXBVWmTIIEy9v87hr12wTQ/rq3CPMv9+1WOsoRkqRqbhkC/U+tnutCWvt336Vqr0"
    "M917IFrOcHsr3/aJvHX0IU08oDz8be5/rvSafH1W37Mqluywouk5IP20Gq/vzw0LzOEPs5"
    "SYIhrmuZB5KwXILv+ZU8IyeKpxrpUuU53Gzfpjx3/Gp2E9JXleeIQG2T8qxQT9GYA25kq8"
    "lyQPl042wsX4+JPGpsQkOzI+7EgDQo/aiBZAmXewpebo0ue+q//6x/Xa2LLMGqJfnfyd+x"
    "/r6yDCzT3Hw2LCAtvfkN6o4W1oEY6nPqzQVQtC+N1nWz9akgzgHZBfI/uvTuodVSKf5Hl9"
    "4/XF01GteN6wsUfnbpTb15K5O8v116VW9dNW5VUviZNPzyRA2OPuaIGhwlXVjzqIHMiu+Z"
    "asYXCc2EBCUMgB0dHubB9/AwG2CZl4iBYTBaCmmJc4rtUBJls6VREpXvRHedQvHIGFEpBb"
    "92kkvyaydLRF9mpoGtfhVGO6Da4D6xLhmPg107Pc2BNZTKhFrlxZFWnhEOKpbAKcv5codK"
    "hGwlj8qWBQLf26HiY2QymiLFryEbUG3OVXW4I7ASx2Ep0ZgOmWYgGhKU4TTIsrBl4/fO8m"
    "0v9FTdtlufguLJvTCOtoFtW5qSsIkVUveSdGXAPrEcH56c51mPoVj2gqwy44jHI0t5db84"
    "VaX/vbv+B1nMdQyi9As+xkYh1SSduoST4vQ4l45yvERHOV44oRYFb2XUK8BzA14dI8pGv7"
    "zHiLjAzmpcj1NWRwS3+Yhg36IWH67E5gRpxedt5nM0LpLT9IySVEckXj8WqPBaxLc6FxgP"
    "bUbFqmhsM+lNWUT70qe7+fWO2Fj4V+LSgU4551cSzGNTf0J6Q8aeJNLWM3Gst8L2m1fftV"
    "fdrEywrTN2rqZ1Suw8mO7ZsXN5knb9sfNC8fAf5XjjG92U2eFvMsJWIQ9aSFDCq5p5wqVQ"
    "askttoVwad9yuCjsIYhTlS5kdHSaKzB9uiQwfbqAtI1XADpGVOGcB+cx5nzCYBcaYj4sgv"
    "UCYQkjz2sJhqp7+TroOMHLCjn3wAW6KmqXjNoFOiknhkNSPA/Z0rxIWT4v7lEtTygJSmWv"
    "H7WFQFLlxc1Gv1xe3AUfRR6DOvoszOq2YeIpmh2Tg1zmdHiSeXWUSnZ4fa1mc9LbkGJBpz"
    "gkso3pdG9IjhubruixqbySaLDR2CYqth0ca+AXSF5zFPKtIeo9/SMvHkKVlGMvDI69J4Gk"
    "9PyDI+/a476WwH09rXSpvJhJ/Z/yfiUlMHRkw1Kj3klC9S9NKO5DMoMMNkacyPeQvCeN5I"
    "1OeYUz59NEj5pfVbhpDPAz0V11K4ySqYBUQUZj+dc7lB/kFzuVX92zlHmbuGdZ8LjPW075"
    "bNuqt5ljPv6ESNlYMiU8SlJZGEkLI7nMFNR5U8hLqPjuiKKbK8KZ3HKKcDtJW8Wyt5nTEW"
    "UioQ8wZhNM03kcoUqwtwdk65q8YcpmeXrZbt/G2HnZTJ7uffh82bjbO1J8nF9QX1xIlau2"
    "8CnrOFUZXDQbP2pd+Wt+EH9N9fhA9fjANp3Q2dLHB+rEsYyhlvYAtpezv/Tt63mZ6hTFxh"
    "bqNZ+iyIzNLbkVmhmWK4V7Yh1xUDmpCiDsFy8humu52A8tCkJTlLzs210Rks1f7fp79vx3"
    "u8RVIDj2/pvZy/8BuWtrPQ=="
)
