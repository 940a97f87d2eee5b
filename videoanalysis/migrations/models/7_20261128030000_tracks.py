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
    "eJztXf9z2rgS/1c0/PLSmTSTkC/t5d68GUhoj7uUdBLyenel4whbgBsjcZIcwvTlf38r+Q"
    "u2sYlNQwquf2hjJK1sfbRe7a525W+1MbOII/YarhxdEyFsRmun6FuN4jGBi7TqXVTDk8m8"
    "UhVI3Hd0ewwNDeG11DW4LyTHpoTKAXYEgSKLCJPbE+ndq3ZJCRL2kL626SmSIwLtxrYzQ2"
    "yAbCkQJwNOxAhJdkeo2EMtbI7CQs4klkSgW9PlnFBpfJX27a+qF3Vvi5lwc5sO13ebHtUE"
    "0AU0njjYJBYSEs8EcoXCBA0YRxgNyBQJYjJqCbQjpwyZjg39hLeFZ0RYIkZN8moXYQqP5V"
    "iE9yiDp7YF9KB7n0GVBZf3cE+hB+FDvYcu2JC5MqyD55GMQVemCS38USGbmo5rEWtPoeNS"
    "+x+XGJINCfTEAaPPX6DYphZ5ICL4ObkzBjZxrBhX2JbqQJcbcjbRZWcjzN/plgr5vmEyxx"
    "3TeevJTI4YDZvDxKjSIaGEA7ZWhD+o6zg+PwVF3rNCgeQuCR/SmhdYZIBdR3GZovaeYF5W"
    "M4zOZde4bnUNo7bAgQFFhFv8Ipgwxb02zJQe/xg/GA6hQzmCn4f1R+8+cxy8VuqG/21cnf"
    "3WuNo5rL9SN2TwCngvSMevqeuqR90FltjrRKM+hznCbUXwTpA9D/BBwRz5+eu8tdDPoZ7A"
    "i2MzVxTFOkm3Etg+D/8sWHvS1DKwXET6HGqkPSbpaMcpE1hbPulecLF9yC9Butv+0LruNj"
    "58VN2PhfjH0XA1ui1VU9els0TpzkliVsJO0Kd29zekfqK/LzstjSYTcsj1Heftun/X1DPB"
    "qs4MyqYGtqKYBMVBUXyW9Uq00izHKKtZ3uRZNjlZ8V2OUz7DLG/ckgUDtC6pM/M5cEum3X"
    "9Zls66Kwg30pTANpXpsx2hSEw1wLWNkztUD/G6fnD05ujt4cnRW2iiHzQsebNkvtudLqyJ"
    "Sr0e3KVqfgquRXTfMU7AgvmDzDTIbXgiDBZDCqi+2Xbjd7Nl4D4G3BOUztmS42loj0SZCs"
    "YOIybSU9ca12eN81ZNI9zH5t0Uc8uIQa1qWJ0lSsK2i1Xj+jhZgikeanDUKNQz+6i/4zCL"
    "5/AsptRWcIo9nWyyu8ymHqjGMLxY61xmNWdTNCFggFLszASYprqrUzAnHQYW571tEYaUmB"
    "JIDR3sQ68FYhysz100gQGi/kz/3Uu1qJ/1Dj3aozeaB8ESBjsZi7tdr7mhORFMY8G0LQzP"
    "APfiLkXsnvApt6W2eYV6HmXmCgm3VKY9oEqoBQ8Mnd+y/leAUNx6FrVjC6mafOvV4EUgTg"
    "8G2KsJE14y77LPHnpqsh8OdtEM/j3U4W/9y6MaBOP20IYxv/ZGM7Ef1LRmmNWfa2oo+n2e"
    "D6b25Xus7aY9zJS1ecWs/0ptrrntydhf6vXDwzf1/cOTt8dHb94cv90Phe1i1TKp22y/V4"
    "I3tmh6knh3iREenbL8612CqlrzQqTnyCq9Dlaw8SRlpXMYzkA2RpXAdaDIthDZJbCdX940"
    "L1ro41XrrH3dvuzEdUFdqYqgwPYWv6tW4yIBtC/3FmH+/fqyk45yhCSpmtumRP/T0nNdSN"
    "f+PXCpXutQ37UdCfJ8T93vP7WXx19BFNPKA8/GzofGn0mnx9nFZTOpbqsOmknOh+UgVX++"
    "uWmfZ7D9nCQxIa5rW3uKsFyM7/mVPCMniqce6VLlOVxsv0957vrdbCekTyrPEYbaJOVZo5"
    "6iMQezka0mqwHl042zsXx6T+RzjU1paHbEnRhQBq0/14CzpCu8a+jO1UzmF8aJvhRS+rKl"
    "w/MLhqc1v4iU1ndS/x39CBH9hKRYptzNJ2XR4d+i7nhBVMRQn1O/3B5L7WOrc97uvC+Ic0"
    "B2ivyLHr266XR0iX/Ro9c3Z2et1nnr/BSFlz36rtG+UEXe3x49a3TOWhe6KLxM2oZ5NhYO"
    "TnJsLBwkvVzzjQVVFV9WtVAosnsTEpRwj+xgfz8Pvvv72QCrusQ2GQa7ppAiOafYDD1S3b"
    "Y0eqR2rxguL7RlGSMqJePXj3Jxfv1oCeuryjSw9a/CaAdUL7hOrIvH42DXj49zYA2tMqHW"
    "dXGktfNEgBYmcYo4X+5ziZCt5HTZsL3C5/a5+BhZjKZw8VPIBlQv583a3xJYCecsZcOmSx"
    "4yEA0JyhAwsmxns/Vnd/myFzqzLi4774PmybUwjraJHUdZm7CIFVL3knRlwD4hjveP3uaR"
    "x9AsWyDryjji8c2nvLpfnKrS/55d//uBjt0New1eGnmoYi43idbsxASbhZTCdOoSiqPjw1"
    "za4eES7fBwIXwwCt7KqFeA5wa8ivHKRr+8MV5CYr7arMcpq/jNTY7fHNjUFqOVpjlBWs3z"
    "Js+zQ7AgMFOSjCcpM51p+S/QVbZ/0vb3IBrphK0i6kiSrozayBqcgx5s5GFiw+uxgthKo6"
    "9k1ybLrhEBfaIPmuQKs52krWZ6k2eakgdpaGdzgSUqTlStT8n1CdTxITFUrEIKqtmOogRZ"
    "5Sxa3VkUxgDlVQ1CgvLpBCd59mZPsndmTxb2Zb1sgBQnaKbEiFBU4iIpLhQ4s5WyNud01S"
    "q7yatsNIAx5xsTJalyGZ7O39N4LeJbJfDFY5CjbFU0CDkZ07CIdtOne/fHFXGw9M+uSQc6"
    "JSGvJJjHEw9A4Nx9J1Rd1UdZAZqS/oixO8WK9j1J1yuKgPXJ6+/c625WJtjWmgWgeSwtDS"
    "BgviV5ACGP50uS9XbE0YA5DpsSC2GTM6ESRFVCwb+El4Aq0A4UqJ4JhzLbUrmo7niMuS38"
    "85QWcmOfo2OVEvuJ21ISqtJk1ZFPX1lfZaASdUBVH0tzBGTQARVYy65dNCYcQEVTW47QdI"
    "QlNOWOTbjXGu445UwSlUvbo1gl0VJ1/JR6KCRGOn9WCu+RhMq3HWC+h251iqzOnFXPMMZf"
    "GTyVPj3LqxK3aOebvoLJfHz1a4/eypE77lNsO37CrRhjx0G/f2y9V2Sqmz4R0s8HBmwmEw"
    "USZy610K2qMvrs4Vbn/NpSdQGL4T2xelSNTB12pQ/A0lu6XqLx0/m3elRqwamSb7ci+Tac"
    "r/yqapSkUlXT9ivUS1pooyIgKGWw+BqyJDyBWMTZNqeoouSe3f02sLko7lZOUFWiJFWUrA"
    "BsnKjCNS1KX/PeaucjpNBWpyTkOSVB8+VqmC+SVpDngdzPKxGE0CKSOU5VSZAUCaLNJ32W"
    "USFGjpNVTJyHiTVmRRfBOFHFwlks3Gcppy5l69FRms3QpEt1bs2YYKrgNTAnuJBgWaCsZE"
    "se2RK60NKcUBTzWYYPJEqWQLo/kyTP/sb2bMA2fe4NWR04vdnuNK7+Sk8ybKZwe/OvbqtR"
    "ndJUGPvqlKaf8pQmvS+dsj0T7Fdn786oM1vXf0pTIXf+z+LL/07NLNtLT8apK1S2RzkkKO"
    "FHQfL4k6HVku8lLPiTPZdO0XTHOFXpTh45OM7luT9e4rk/TvHcrwB0jKjCOQ/OEyzElMEq"
    "NMJiVATrBcIS7kmtJW1GfwHKuIfF149XybudmqSrImaTjoogZkgQk5OUuNlsbl6kLF/A90"
    "E9z4kk0CpbftQXziOpUtKz0S9XSvqCBZknIjT6AcLVY/cSHz3cMj7IFw8anJn7HeGg5TLA"
    "1xrWmIwGTbGgUwJGs43p9GjVHGGPruyzBxWFZ7LxxCHaZR2cjiVO0dSPOLSpF2OnAvQiIY"
    "YIe1GAfhyj94GN3VoC9/XcpUfVJ0Co/1NFBVICQ0cOiBr9RU7U+NiG5j4kM6hgEySI+vKm"
    "9/FMnfuDbJnzI5ifa35X4aIxxPfEcPU2r8499LPj9XnO6sjnoL7Y4c5VUKGqe4mgwoKnxn"
    "3PYXGbJvVe5rQ4/4UokpIXJaksjKSFkRQzBXXeFPISKr5bougGmCxN0UsuOUVmO0lbJWNu"
    "8kxHlImEPsCYQzBNn+MIVXJ7F8jW9fKGJS+8v3t5eRGbzmY7eUjszYdm62rnQM/jfEM9I2"
    "C18GG9caoyuGiWvUFrObG38tf8JP6aKoCiCqCoAihqT3mCGoTb5qiW4gDya3aX+X3wvE0V"
    "RfFignrNURSZe3NLPi6SuS1XCvfEOvZB1UtVAGG/eQnRXUvmI9xREpqi5GWHbEdIXj5i+8"
    "es+c8Wm11gc+z5F7PH/wOEOv9K"
)
