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
    "eJztXW1z2zYS/isYfrl0xvHY8uv5bm5GtpVUV0fK2PK10yjDQCQksaYAlQAta9L89y5Aii"
    "8QKZOK5ZMYfmhNAVi8PAssdhcL5KsxYTZx+X7TF+M7wrnDqHGBvhoUTwh8ZGXvIQNPp3Gm"
    "TBB44KryGAqaPCipcvCACw9bAjKH2OUEkmzCLc+ZiqAto0sJ4s6IvnXoBRJjAuUmjjtHbI"
    "gcwZFHhh7hYyTYA6F8H7WwNY4SPSawIBx9sXzPI1SYfwjny79kLbJtm1nQuENHm2umTxUB"
    "VAGFpy62iI24wHOOfC4xQUPmIYyGZIY4sRi1OXojZgxZrgP1RM1CHxEWiFGL/LSHMIVuuT"
    "bx+pRBrx0ONaja55Blw+cjtMnVIEKo99ENGzFfRHnQH8EYVGVZUCIcFXKo5fo2sfclOj51"
    "/vSJKdiIQE0eYPTpMyQ71CZPhC9+Th/MoUNcOzUrHFtWoNJNMZ+qtKsx9t6pkhL5gWkx15"
    "/QuPR0LsaMRsWBMTJ1RCjxAFs7MT+o77rhfFokBX2FBOH5JOqkHSfYZIh9V84ySR30IE4z"
    "TLPT7Zl3rZ5pGkszcEGRmC1hEjBMzl4HOKXGP8FPpkvoSIzh51HjW9BOjENQSjb4v+bt1c"
    "/N2zdHjZ9kgwyWQLBAOmFOQ2V9U1VggYNKFOoxzInZVgZvjexlgF8kxMjHy3lnoY+hnsLC"
    "cZjPy2Kt060FdjiHfxSsA2lqm1gsI30NOcKZkGy005Qa1nZIur/42D3kVyDda39o3fWaHz"
    "7K6iec/+kquJq9lsxpqNS5lvrmVONKVAn6td37Gcmf6Pdup6XQZFyMPNViXK73uyH7BLs6"
    "MymbmdhOYrJIXiSluax2orW4nKKsubzNXLY8suZaTlO+AJe3bsuCAdpd6s7DGbgjbA8Xy0"
    "qu+5x4ZpYS2KYim9sJCo3VANcuMnckO/G2cXh8dnx+dHp8DkVUR6OUsxX8bnd6sCdK9Xr4"
    "kKn5SbiW0X3HPAIWzC9krkBuQ48wWAwZoIZm231YzY6B+20xexap8bT08CyyR5KTCsYOIy"
    "YiUNead1fN65ahEB5g62GGPdtMQS1zWINpKVHZ5axJY6KnYIpHChw5CtnnEPV3HnDxGvpi"
    "CWUFZ9jTepG9VTb1UBaG4aVKFzKrPTZDUwIGKMXunINpqqq6AHPSZWBxPjo2YUiKKY7k0M"
    "E+DEog5oH1uYemMEA0mKu/+5kW9Yu20Kd9eq/mIFjCYCdj/rAXFDfVTATTmDNlC0MfoC3P"
    "p4g9Em/mOULZvFz2R5q5XECT0rQHVAm1ocNQ+Rc2+AMg5F8Ci9p1uJBFvvYNWAjE7cMA+w"
    "a3YJEFnwP21JfMfjrcQ3P476kBfxufv8lBMM8ZOTDmt8Fops6TZGuOWf3JkENR6zkejPH5"
    "e6ztS2eUK2uLitlwSW2vuR3I2H82GkdHZ42Do9Pzk+Ozs5Pzg0jYLmetkrqX7fdS8KY2zU"
    "AS760wwpMsK77faVT1nhchHSMr9TrYwSbTjJ3OZTgH2RSVhutQku0gsitgu+7eX9600Mfb"
    "1lX7rt3tpHVBlSmTIMEJNr/bVvNGAzqUe8sw//eu28lGOUGiq+aOJdBfSnpuCmnj30Ofqr"
    "0ODXzHFSDP92V7/zFeH38JUUorX3g23nxo/qY7Pa5uupe6ui0ruNRnPmwHmfrz/X37Omfa"
    "xyQaQ3zfsfclYbUmfuBXCoycJJ5qpCuV52iz/T7luRdWs5uQPqs8JybUNinPCvUMjXnBjX"
    "w1WQ6omG6cj+XzZyKfDDajkdmRdmJAGpT+ZMDMEj4PvqE6X02yMDFN9LmU0pcvHV5eMDyv"
    "+SWktGpJ/u/4/yGin5EUq5S7mCnLDv8W9SdLoiKFekz9emcsxsdW57rdeV8S5wXZBQo/+v"
    "T2vtNRKeFHn97dX121Wtet6wsUffbpu2b7RiYFf/v0qtm5at2opOhTtw2LHCwcnhY4WDjU"
    "vVzxwYLMSm+rSiiUOb2JCCp4RnZ4cFAE34ODfIBlnnZMhsGuKaVIxhTboUfKZiujRyr3iu"
    "l7pY4sU0SVnPiN40Izv3G8YurLzCyw1a/SaC+oXnGf2NQcT4PdODkpgDWUyoVa5aWRVs4T"
    "DlqYwBnifLXPJUG2ltNly84KX9rnEmJkM5oxi59DdkH1et6sgx2BlXgeyziw6ZGnHEQjgi"
    "oEjKw62Wz91lu97UXOrJtu5/2iuL4XptG2sOtKaxM2sVLqnk5XBew1cXxwfF5EHkOxfIGs"
    "MtOIpw+fiup+aapa/3tx/Q+ymO9ZROkXfIqtUqpJNnUFF8XJUSEd5WiFjnK0FMSWBG9t1G"
    "vACwNeRxrlo1/dSCMusLce19OUdRThNkcRDh3q8PFabNZIaz5vM59dgjkBTgkymWZwOtf+"
    "XKKrLVDdAg0gGqtrQ2XUEZ2uitrIBlxUAWzkaerA8lhDbGXR17Jrm2XXmIA+MQBNcg1u67"
    "Q1p7eZ05Q8CVO5PEtsUWmien/S9ydQx0fElCfmGajmu5A0su/yIe3OktmIsyiKRCmqGkQE"
    "1dMJToucEJ7mnw+eLp0OBjHpGe7RXImRoKjFhS4uJDjzte4OxnT1LrvNu2wyjK7gikmS1B"
    "H1z98iU3gt41tfI0tHwianVdlQWP1kfRnty5Du3S+3xMUifEElG+iMa2EVwTy19GdkMGbs"
    "QSLtPJLsbbMMbL8G9V0H1c2rBNsmQ63Vss4ItV4s9/xQa3nxcvOh1qVio3+U23DfqWHlh0"
    "KTCXZKRVNEBBV82adI6CyUWvHoyVLo7NDxuCh9Wpymqlz44OFJoSDlkxVByidLSLt4DaBT"
    "RDXORXCeYs5nDHahMebjMlgvEVYwCnkjpw7qGTcTdJzFQ3wF98AlutrhoDscFjopJ5ZHMt"
    "wO+bN5mbJ6/rLDRpGwQiiVLz8aS0GFdURPPvrViuhZ8lEUMaiTr4iubxtqL5fu2DwoZE5H"
    "F1/XR6lid503ajbr3oYMCzrDIZFvTGd7Qwo88OOLAXuSL9hYbDJ1iYpzXoS48wskX8UR8m"
    "laGrwUK9+pgSopx0FINA5ekJWz5x8cBa/k7Bka7ptppU/lOz40/Cmf46EEho5cEDXqWV3U"
    "/NiG4iEkc8hgU8SJfD43eAFXHZ0gRxR8yfaTEVYVbRoj/EhMXz0ioo5uw+AidSlb3tte5J"
    "e7oV0/yyPzXuNZnpJXP77nxse2Sb3XufIRLogyJ5pJktrC0C0MXcyU1HkzyCuo+O6Iolvo"
    "hFPfcspwW6etz7K3mdMJZULTBxhzCabZPE5QaewdANmmFm+U8ro8vex2b1LsvGzrNz3vP1"
    "y2bt8cKj7G75llhDpLV23pG7dpqiq4aF792m3tr/lB/DX1W3Xlllv9Vt0P+VZdk3iONTay"
    "/r2kIGdv5T+VFJepoyheTVBvOIoi92xuxQtBucdylXBPbOIcVC6qEgiHxSuI7kYeeYMWBa"
    "EZSl7+NY0Eyes/87HjdzRKHI69/Gb27W8mOuya"
)
