from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" ADD "objects" JSONB;
        CREATE TABLE IF NOT EXISTS "tracks" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "track_id" INT NOT NULL,
    "label" VARCHAR(100) NOT NULL,
    "labels" JSONB NOT NULL,
    "first_frame" INT NOT NULL,
    "last_frame" INT NOT NULL,
    "first_timestamp" DOUBLE PRECISION NOT NULL,
    "last_timestamp" DOUBLE PRECISION NOT NULL,
    "frames_seen" INT NOT NULL,
    "best_score" DOUBLE PRECISION NOT NULL,
    "best_frame" INT NOT NULL,
    "best_box" JSONB NOT NULL,
    "mean_box_area" DOUBLE PRECISION NOT NULL,
    "thumbnail" BYTEA,
    "task_id" UUID NOT NULL REFERENCES "tasks" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_tracks_task_id_283af2" UNIQUE ("task_id", "track_id")
);
COMMENT ON TABLE "tracks" IS 'One object followed across a task''s frames (a tracker''s id), summarised.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" DROP COLUMN "objects";
        DROP TABLE IF EXISTS "tracks";"""


MODELS_STATE = (
    "eJztXW1T27gW/iuafCmdoQwEaHvpnTsTIO1ml4YOhNvdbTpGsZXExZGyktyQ6e1/v0fyS/"
    "ya2oHQxPWH3QZJR7IfHUnnTcffGhNmEUfstVw5viZC2Iw2TtC3BsUTAj+yqndRA0+ni0pV"
    "IPHA0e0xNDSE11LX4IGQHJsSKofYEQSKLCJMbk+lN1bjkhIk7BF9YdMTJMcE2k1sZ47YEN"
    "lSIE6GnIgxkuyOULGH2tgch4WcSSyJQLemyzmh0vgi7ds3qhc1tsVMGNymo/UN06eaALqA"
    "xlMHm8RCQuK5QK5QmKAh4wijIZkhQUxGLYF25Iwh07Ghn3BYeEaEJWLUJM93EabwWI5FeJ"
    "8yeGpbQA+69zlUWfDzK4wp9Ev4UO+hCzZirgzr4HkkY9CVaUIL/62QTU3HtYi1p9Bxqf2P"
    "SwzJRgR64oDRp89QbFOL3BMR/Dm9M4Y2cawYV9iW6kCXG3I+1WVnY8zf6pYK+YFhMsed0E"
    "Xr6VyOGQ2bw8So0hGhhAO2VoQ/qOs4Pj8FRd6zQoHkLgkf0loUWGSIXUdxmaL2nmBR1jCM"
    "7mXPuG73DKOR4sCAIsItfhFMmOJeG2ZKv/8E3xsOoSM5hj8Pm9+9cRY4eK3UgP9tXZ391r"
    "raOWw+VwMyWALeAun6NU1d9V13gSX2OtGoL2COcFsZvBNkjwN8ULBAfrGctxb6BdRTWDg2"
    "c0VZrJN0K4Ht8/CvgrW3m1oGlmmkz6FG2hOSjXacMoG15ZPuBT+2D/klSPc679vXvdb7D6"
    "r7iRD/OBquVq+tapq6dJ4o3XmZmJWwE/Sx0/sNqT/R35fdtkaTCTniesRFu97fDfVMcKoz"
    "g7KZga0oJkFxUBSfZX0SrTTLMcp6ljd5lk1OVlzLccpHmOWNO7LgBa1L6sx9DtySafcXy9"
    "JZdwXhRpYQ2KEye7YjFImpBri2cXJH6iFeNA+OXh29Pnx59Bqa6AcNS14tme9OtwdnohKv"
    "h3eZkp+CK43uW8YJaDB/kLkGuQNPhEFjyADVV9tu/G62DNzvAfcEpQu25HgW6iNRpoJ3hz"
    "cm0hPXWtdnrfN2QyM8wObdDHPLiEGtaliTJUrCtumqSXOSLMEUjzQ46i3UM/uov+Uwi+fw"
    "LKbUWnCGPp1ssrtMpx6qxvB6sdaF1GrOZmhKQAGl2JkLUE11VyegTjoMNM6vtkUYUtuUQO"
    "rVQT/0WiDGQfvcRVN4QTSY63/3MjXqRx2hT/v0RvMgaMKgJ2Nxt+s1NzQngmosmNaF4Rlg"
    "LO5SxL4SPuO21DqvUM+j1FwhYUil2gOqhFrwwND5LRt8AQjFradRO7aQqsm3fgMWAnH68I"
    "L9hjBhkXk/B+y+ryb7/mAXzeG/+yb82/ysqhT2d8B6/cZ3GA3UdG6PbIDghfdyU/seJhHt"
    "3Abtbn1OV8aAgQDlTAGhnxUeQKv6CN5DG01OkEs1GbGe5+npnxoKG71BLNBpfH6I+n5qj3"
    "I376L7tr9GN1d/9zbtfzWbh4evmvuHL18fH716dfx6P9y901XLtvHTzju1k8dOYW9r312i"
    "1UenrPgBmqCqD9EQ6QWySlCEI3EyzTg6HYZzkI1RJXAdKrItRHYJbOeXN6cXbfThqn3Wue"
    "5cduPCpa5URVBge6fpVbt1kQDa30jTMP9+fdnNRjlCkpT1bVOi/+nteF1IN/49dKk+PNHA"
    "tR0JB8SeGu8/jafHX0EUE/MDU8nO+9afSSvK2cXlaVJ+Vx2cJjkfjoNMgfzmpnOew/YLks"
    "SEuK5t7SnCajG+Z6jytKYonvpNl0rj4WH7MGm853eznZD+UBqPMNQmSeMdi0ymTBJqzmGq"
    "soTxRIulsri9aGvckXlBWbzl+3ueCRQZ7AWMpgRdTJE7hYPGQjuCEBBZ7b3IMM9PgBjDGW"
    "WhARkCz2m/z4BZ85RAvp5h+tQWWoTfVUWwgzKXWkgy3UBNunI2TbBFtHNKFcLCmgK3EFUx"
    "YjIitc/RzJZjz3MFk9CngKGqcDlV/iwsI7QRId73nenR9pCvIii1g82oUj5MzoTQLjLbxC"
    "JfatbNVS0MmxKXP0VNUp9r4Xkjhec7b4EWdc/4zSvoAmseHxfwy0CrXMeMrouLEUMYn/Ap"
    "99mzKMoJsur5wF4eFcD65VEu1KoqjjTICtIVgKFFSiiBCaqVlMBNA/qRdcDg/Cijm0RpHq"
    "ScbBi2T62F+ALEKs6gGGUFnUFb4vypfX61zy9n1rXsXM7pFyWpDZZZBsufZbbZnoNqdatN"
    "qOzVTtRlZpvoIs222yQ59ulMYZvJpttqCdOgZ9i/gsnIt3qpFypm6srH8sfhxp9ivBiXFa"
    "AMWn/yNSDvN3Tnah7zC+NEuolliymW5tiwYOjSZp38Xfjx7eY/tu1EnBh6JPW/o5/hwfjB"
    "lry7xHyzmKm0baFN3Ulq+8hQf5/WoNP40O6ed7rvSuIckJ0g/0efXt10u7rE/9Gn1zdnZ+"
    "32efv8BIU/+/Rtq3Ohirx/+/Ss1T1rX+ii8GfS9FvEiHHwsoAR4yApYS6MGKoqLr7onaKM"
    "oSgkqKBB7mB/vwi++/v5AKu6RFg65nhSys+6oNgMN6satjJuVh3OZLi81BWBGFElGb9ZxD"
    "yqmi1h/WbKROrhpv8qjXZA9YTnxLp4/CnM/iq2SIBoJnHGdr48JClCVpuj0xq+j5HFaBk7"
    "f4Lq6Wwn+1sCK+GcZej2PXKfg2hIUAXn1DKrYvvP3vJjLzQqXlx23wXNk2dhwq6PHUepoH"
    "CIlRL3knRVwD6xHe8fvS6yH0Oz/A1ZV8YRjwd7F5X94lS1/Pfo8t9PjHvcsGXw1MhDFXO5"
    "SbRkJ6bYLCUUZlNXcDs6PiwkHR4ukQ4PU9d1o+CtjHoNeGHAa/9qPvrV9a8Kiflqsx6nrO"
    "9Lb3LsxNCmthivNM0J0nqeN3meHYKF8jhJMplmzHSu5p+iq3X/pO7vQTTWtybLiCNJuipK"
    "I2swDnqwkfupDctjhW0ri77euzZ57xoTkCcGIEmuMNtJ2nqmN3mmKbmXhjY2lzii4kT1+Z"
    "Q8n0AcHxFDxSqUCkJPkNXGotWNRWFgUFHRICSonkzw+FdXvOwbGUbQ3B0jQlFvF+kLK5LP"
    "V8qStqCrT9lNPmWTQYglJzqDvJ7vTZ7v+qbE2vOj1bH9jxTbnx+JnoxhSaN96tO9/eOKOF"
    "j6ucGzgc5IeFYRzGNLPys9xOqgpRNTbOWmvhwynevsgUD1VB9V5akZGYwZu1Or1/5KskXv"
    "MmB99Po797orwlZbA9tab89oHsu6PhMw35L7MyGPF8vb6AWNoCFzHDYjVpDgBOsEKM+Elx"
    "NRoB0o0JkCOZTZlkqP6E4mmNvCT/GfStf4GB2rLI0fuS2lygUz17lcvrCBSmhI1DcTBkpW"
    "BTLogAqst/tdNCEcQPWSv8xUmheCuWMT7rWGEWcc9jmVKKZPscrrSNUXEXRyGTHWKR2l8B"
    "5JqGQyQ8z30K3O2qiTOapnmOAvDJ5Kf9DBqxK3aOeb/gWT+f35mz69lWN3MqDYdvwckGKC"
    "HQf9/qH9TpHpjDdESD9FJWAznSqQuM54c6uqjAG7v9UJbWypugD54Sux+lS9mfr+gs5so6"
    "MevNyXP87gGKSIrNM3bkcGmnC+ikv3UZJaus9y6alFWsqXFxBU8j7FGi4SeRtiGXv0gqIO"
    "JH10C/XQ5qK85yVBVW8lmVvJCsDGiWpcsy6yaN5bLcNuBm2dZ7dInl3Nl6thniatIS8CuX"
    "/1ShBCy+zMcap6B8nYQbT6pNPrl2LkOFnNxEWYWGNW9hCME9UsnMfCA5aRtz9fjo7SbIYk"
    "XanM5xOCqYLXwJzgUhtLirLeW4rsLaEJLcsIRTGf59hAomQJpAdzSYq4hDbTvZFpWvK5N2"
    "R14PTTTrd19Vf2PdzTDG4//avXbm1KwrgtYvI6z/8vmd1Mu/Iz3DOBiz/fO6M+I7b+7Gal"
    "zPm/ii3/gZJZvpWeTDJPqHyLckhQwe9UF7EnQ6sln/BN2ZM9k07ZG8Fxqsol5zk4LmS5P1"
    "5iuT/OsNyvAHSMqMa5CM5TLMSMwSk0xmJcBusUYQV9Umu5WSbZHaGG/93DEmdgiq4OKk8a"
    "KoKYIUFMTkp9yyNNWb07EQfNIkl7oFX+/tFMpeypszbko1+trA0pDbJIEK0gQmTncyoTu9"
    "dy5fja62kL+WAbQmi3ErMwP/cDQmirZbRYayhoMoI2w+qQEWSbb4DIjvAtECrqygG7V5GL"
    "JptMHaLN/EHSPXGCZn6Upk3DL+5FwzIRFuE3/J4J5H0ne7eRwH09o/Sp+iYg9f9UkZSUwK"
    "sjB7bnN7p960MHmvuQzKGCTZGA5kJ/ZtC/UohsmRdhmTC/fGr4XYUH7Qh/JYarXeP6SrOf"
    "dCPMHR/U158C3MxAzJLJKB+Sg3LTdr2nSULpL4gyN32jJLVWltTKkttMST0hg7yCysKWKA"
    "cBJstv/iaOnFLXfhO09Z3fTZ7piDCRkAcYcwim2XMcoUq6xIFsXYs3LHlin/jl5UVsOk87"
    "ydzTN+9P21c7B3oeF0EIOUG+pXOAx6mqYNZatoLWkgi8tnH9IjauOuikDjqpg04aP7IEtQ"
    "i3zXEjwwDk1+wus/vgRZs68uTJNuo1R57k+jOXfLMo15VZCfPEOnzHalGVQNhvXkF013Jb"
    "FEaUhGYIeflh7hGSp49y/zln/qPFs5dwKD7+Yfb9/9mZtnI="
)
