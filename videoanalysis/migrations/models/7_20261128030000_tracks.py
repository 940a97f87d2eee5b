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
    "u2sYlNQwquf2hjJK0sf7Re7a525W+1MbOII/YarhxdEyFsRmun6FuN4jGBi7TqXVTDk8m8"
    "UhVI3Hd0ewwNDeG11DW4LyTHpoTKAXYEgSKLCJPbE+ndq3ZJCRL2kL626SmSIwLtxrYzQ2"
    "yAbCkQJwNOxAhJdkeo2EMtbI7CQs4klkSgW9PlnFBpfJX27a+qF3Vvi5lwc5sO13ebHtUE"
    "0AU0njjYJBYSEs8EcoXCBA0YRxgNyBQJYjJqCbQjpwyZjg39hLeFMSIsEaMmebWLMIVhOR"
    "bhPcpg1LaAHnTvM6iy4PIe7in0Q/hQ76ELNmSuDOtgPJIx6Mo0oYX/VMimpuNaxNpT6LjU"
    "/sclhmRDAj1xwOjzFyi2qUUeiAh+Tu6MgU0cK8YVtqU60OWGnE102dkI83e6pUK+b5jMcc"
    "d03noykyNGw+YwMap0SCjhgK0V4Q/qOo7PT0GRN1YokNwl4SCteYFFBth1FJcpam8E87Ka"
    "YXQuu8Z1q2sYtQUODCgi3OIXwYQp7rVhpvTzj/GD4RA6lCP4eVh/9O4zx8FrpW7438bV2W"
    "+Nq53D+it1QwavgPeCdPyauq561F1gib1ONOpzmCPcVgTvBNnzAB8UzJGfv85bC/0c6gm8"
    "ODZzRVGsk3Qrge3z8M+CtSdNLQPLRaTPoUbaY5KOdpwygbXlk+4FF9uH/BKku+0Pretu48"
    "NH1f1YiH8cDVej21I1dV06S5TunCRmJewEfWp3f0PqJ/r7stPSaDIhh1zfcd6u+3dNjQlW"
    "dWZQNjWwFcUkKA6K4rOsV6KVZjlGWc3yJs+yycmK73Kc8hlmeeOWLHhA65I6M58Dt2Ta/Z"
    "dl6ay7gnAjTQlsU5k+2xGKxFQDXNs4uUM1iNf1g6M3R28PT47eQhM90LDkzZL5bne6sCYq"
    "9Xpwl6r5KbgW0X3HOAEL5g8y0yC3YUQYLIYUUH2z7cbvZsvAfQy4JyidsyXH09AeiTIVPD"
    "s8MZGeuta4Pmuct2oa4T4276aYW0YMalXD6ixRErZdrBrXx8kSTPFQg6OeQo3ZR/0dh1k8"
    "h7GYUlvBKfZ0ssnuMpt6oBrD48Va5zKrOZuiCQEDlGJnJsA01V2dgjnpMLA4722LMKTElE"
    "Dq0cE+9FogxsH63EUTeEDUn+m/e6kW9bPeoUd79EbzIFjCYCdjcbfrNTc0J4JpLJi2hWEM"
    "cC/uUsTuCZ9yW2qbV6jxKDNXSLilMu0BVUItGDB0fsv6XwFCcetZ1I4tpGryrVeDF4E4PX"
    "jAXk2Y8JJ5l3320FOT/XCwi2bw76EOf+tfVJXC/g5Yr1d7hLuBmc7toQ0QvPYebmI/wCSi"
    "ndug3a3P6coZ0BdgnCkg9FhhANrUR/Ac2mlyilyqyYj1KstO/1xT2GgBMUen9uV7zPemPc"
    "wU3nnltv+Obq797gntX+r1w8M39f3Dk7fHR2/eHL/dD6X3YtUyMd5sv1eSPLYKe6J9d4lV"
    "H52y/AtogqpaREOk58gqRRGWxPEkZel0GM5ANkaVwHWgyLYQ2SWwnV/eNC9a6ONV66x93b"
    "7sxJVLXamKoMD2VtOrVuMiAbQvSBdh/v36spOOcoQkqevbpkT/0+J4XUjX/j1wqV48Ud+1"
    "HQkLxJ66339qL4+/giim5geukp0PjT+TXpSzi8tmUn9XHTSTnA/LQapCfnPTPs9g+zlJYk"
    "Jc17b2FGG5GN9zVHlWUxRP/aRLtfFwsf0+bbzrd7OdkD6pjUcYapO0cY16igoezEa23q0e"
    "KJ+ynY3l05ssn2tsSkM7Ju4VgTJo/bkGnCVd4V1Dd65mMr8wTvSlkNKXLR2eXzA8rflFpL"
    "S+k/rv6EeI6CckxTLlbj4pizsILeqOF0RFDPU59ctt2tQ+tjrn7c77gjgHZKfIv+jRq5tO"
    "R5f4Fz16fXN21mqdt85PUXjZo+8a7QtV5P3t0bNG56x1oYvCy6SxmWen4uAkx07FQdJtNt"
    "+pUFXxZVULhSLbQSFBCTfdDvb38+C7v58NsKpL7LthsGsKKZJzis3QI9VtS6NHan+N4fJC"
    "e6AxolIyfv0oF+fXj5awvqpMA1v/Kox2QPWC68S6eDwOdv34OAfW0CoTal0XR1o7TwRoYR"
    "KniPPlPpcI2UpOlw3bfHxun4uPkcVoChc/hWxA9XLerP0tgZVwzlJ2gLrkIQPRkKAMESjL"
    "tkpbf3aXL3uhM+visvM+aJ5cC+Nom9hxlLUJi1ghdS9JVwbsE+J4/+htHnkMzbIFsq6MIx"
    "7fzcqr+8WpKv3v2fW/H+jY3bDX4KWRhyrmcpNozU5MsFlIKUynLqE4Oj7MpR0eLtEODxfi"
    "EaPgrYx6BXhuwKugsWz0yxs0JiTmq816nLIKCN3kgNCBTW0xWmmaE6TVPG/yPDsECwIzJc"
    "l4kjLTmZb/Al1l+ydtfw+ikQ4LK6KOJOnKqI2swTnowUYeJja8HiuIrTT6SnZtsuwaEdAn"
    "+qBJrjDbSdpqpjd5pil5kIZ2NhdYouJE1fqUXJ9AHR8SQ8UqpKCa7ShKkFXOotWdRWEMUF"
    "7VICQon05wkmdv9iR7Z/ZkYV/WSy9IcYJmSowIRSUukuJCgTNbKQ10Tletspu8ykYDGHO+"
    "MVGSKpfh6YRAjdcivlVGYDwGOcpWRYOQkzENi2g3fbp3f1wRB0v/MJx0oFMy/EqCeTzxQG"
    "WqfSdUXdVHWQGakv6IsTvFivY9SdcrioD1yevv3OtuVibY1poFoHksLQ0gYL4leQAhj+fL"
    "uvV2xNGAOQ6bEgthkzOhMk5VQsG/hJfRKtAOFOg8Tw5ltqWSW93xGHNb+Ac0LSTbPkfHKs"
    "f2E7elJFTl3aozpL6yvkpHJerEqz6W5gjIoAMqsJZdu2hMOICKprYcoekIS2jKHZtwrzXc"
    "ccqZJCo5t0exysql6jwrNSgkRjohVwpvSEIl8A4w30O3OudWp+KqMYzxVwaj0sdxeVXiFu"
    "1801cwmY+vfu3RWzlyx32KbcfP4BVj7Djo94+t94pMddMnQvoJxoDNZKJA4sylFrpVVUaf"
    "PdzqJGJbqi5gMbwnVo+qJ1OnZ+kTtfSWrpe5/HT+bZDgWyXfbkfybThf+VXVKEmlqqbtV6"
    "iXtNBGRUBQymDxNWRJeAKxiLNtTlFFyT27+21gc1HcrZygqkRJqihZAdg4UYVrWpS+5r3V"
    "zkdIoa1OSchzSoLmy9UwXyStIM8DuZ9XIgihRSRznKqSICkSRJtP+nCkQowcJ6uYOA8Ta8"
    "yKLoJxooqFs1i4z1JOXcrWo6M0m6FJl+rcmjHBVMFrYE5wIcGyQFnJljyyJXShpTmhKOaz"
    "DB9IlCyBdH8mSZ79je3ZgG363BuyOnB6s91pXP2VnmTYTOH25l/dVqM6pakw9tUpTT/lKU"
    "16XzpleybYr87enVGHwK7/lKZC7vyfxZf/nZpZtpeejFNXqGyPckhQwq+M5PEnQ6slH2BY"
    "8Cd7Lp2i6Y5xqtKdPHJwnMtzf7zEc3+c4rlfAegYUYVzHpwnWIgpg1VohMWoCNYLhCXck1"
    "pL2oz+pJThn1pdYA1coKsiZpOOiiBmSBCTk5S42WxuXqQsX8D3QT3PiSTQKlt+1BfOI6lS"
    "0rPRL1dK+oIFmSciNPpFw9Vj9xJfUdwyPsgXDxqcmfsd4aDlMsDXGtaYjAZNsaBTAkazje"
    "n0aNUcYY+u7LMHFYVnsvHEIdplHZyOJU7R1I84tKkXY6cC9CIhhgh7UYB+HKP3xY7dWgL3"
    "9dylR9U3Raj/U0UFUgKPjhwQNfoTn6jxsQ3NfUhmUMEmSBD1KU/va5w69wfZMudXNT/X/K"
    "7CRWOI74nh6m1enXvoZ8fr85zVkc9BfbHDnaugQlX3EkGFBU+N+57D4jZN6r3MaXH+C1Ek"
    "JS9KUlkYSQsjKWYK6rwp5CVUfLdE0Q0wWZqil1xyisx2krZKxtzkmY4oEwl9gDGHYJo+xx"
    "Gq5PYukK3r5Q1LXnh/9/LyIjadzXbykNibD83W1c6Bnsf5hnpGwGrhw3rjVGVw0Sx7g9Zy"
    "Ym/lr/lJ/DVVAEUVQFEFUNSe8gQ1CLfNUS3FAeTX7C7z++B5myqK4sUE9ZqjKDL35pZ8XC"
    "RzW64U7ol17IOql6oAwn7zEqK7lsxHuKMkNEXJyw7ZjpC8fMT2j1nzny02u8Dm2PMvZo//"
    "BxvxHGQ="
)
