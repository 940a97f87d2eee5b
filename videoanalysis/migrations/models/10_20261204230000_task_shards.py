from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" ADD "shards" INT NOT NULL DEFAULT 1;
        ALTER TABLE "tasks" ADD "shard_plan" JSONB;
        ALTER TABLE "tasks" ADD "merge_state" JSONB;
        CREATE TABLE IF NOT EXISTS "task_shards" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "index" INT NOT NULL,
    "start_frame" INT NOT NULL,
    "end_frame" INT NOT NULL,
    "preroll_start" INT NOT NULL,
    "start_seconds" DOUBLE PRECISION NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "frames_total" INT NOT NULL,
    "frames_done" INT NOT NULL,
    "error" TEXT,
    "lease_attempt" INT NOT NULL,
    "lease_holder" VARCHAR(255),
    "lease_expires_at" TIMESTAMPTZ,
    "heartbeat_at" TIMESTAMPTZ,
    "next_frame" INT NOT NULL,
    "stage_state" JSONB,
    "started_at" TIMESTAMPTZ,
    "finished_at" TIMESTAMPTZ,
    "task_id" UUID NOT NULL REFERENCES "tasks" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_task_shards_task_id_b17419" UNIQUE ("task_id", "index")
);
COMMENT ON COLUMN "task_shards"."status" IS 'PENDING: PENDING\nRUNNING: RUNNING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED\nCANCELLED: CANCELLED';
COMMENT ON TABLE "task_shards" IS 'One range of a sharded task''s frames, analysed by one run at a time: its own lease,';
        CREATE TABLE IF NOT EXISTS "seam_frames" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shard" INT NOT NULL,
    "frame_index" INT NOT NULL,
    "objects" JSONB NOT NULL,
    "task_id" UUID NOT NULL REFERENCES "tasks" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_seam_frames_task_id_a60460" UNIQUE ("task_id", "shard", "frame_index")
);
COMMENT ON TABLE "seam_frames" IS 'What a shard''s tracker made of a frame of its pre-roll (owned by the shard before it):';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" DROP COLUMN "merge_state";
        ALTER TABLE "tasks" DROP COLUMN "shard_plan";
        ALTER TABLE "tasks" DROP COLUMN "shards";
        DROP TABLE IF EXISTS "seam_frames";
        DROP TABLE IF EXISTS "task_shards";"""


MODELS_STATE = (
    "eJztXW1z2rgW/isavjSZSTMJ6dtN79wZktAuu2nSycvt7paOEViAGyOxll3C9Pa/3yPJNr"
    "aRiU0DAVcfdkskHcl+JB+dNx19r42YTVy+3wj84TXh3GG0doy+1ygeEfihq95DNTwezypF"
    "gY+7rmyPoaHFVUtZg7vc93DPh8o+djmBIpvwnueMfTVW7ZISxJ0Bfe7QY+QPCbQbOe4UsT"
    "5yfI480vcIHyKf3RHK91ET94Zxocd87BOOOr3A8wj1ra++03krehFj26wHgzt0sLph2lQS"
    "QBfQeOziHrER9/GUo4ALTFCfeQijPpkgTnqM2hzt+BOGeq4D/cTDwjMi7CNGe2R3D2EKj+"
    "XaxGtTBk/tcOhB9j6FKht+foMxuXyJEOp9dM4GLPDjOngenzHoqteDFuFbIYf23MAm9r5A"
    "J6DOPwGxfDYg0JMHGH3+AsUOtck94dGf4zur7xDXTq0KxxYdyHLLn45l2ekQe+9kS4F81+"
    "oxNxjRWevx1B8yGjeHiRGlA0KJB9jaifVBA9cN11NUpJ4VCnwvIPFD2rMCm/Rx4IpVJqjV"
    "E8zKapZ1cXljXTdvLKs2twIjisRqCYtgwsTqdWCm5PuP8L3lEjrwh/DnUf2HGmeGg2olBv"
    "xv4+r0t8bVzlF9VwzI4BNQH8hFWFOXVT9kF9jHqhOJ+gzmxGorg3eG7HGAjwpmyM8+562F"
    "fgb1GD4chwW8LNZZuqXADtfwr4K14qa2hf15pM+gxndGRI92mjKDtR2S7kc/tg/5BUjftD"
    "40r28aHz6K7kec/+NKuBo3TVFTl6XTTOnOq8ysxJ2gT62b35D4E/19edGUaDLuDzw54qzd"
    "zd818UywqzOLsomF7SQmUXFUlJ5luRMtNcspSjPLmzzLPY8s+S2nKR9hljduy4IXtC+pOw"
    "1X4JZMe/ixLJz1gBPP0gmBLerrZztBkZlqgGsbJ3cgHuJ5/fDF6xdvjl69eANN5IPGJa8X"
    "zHfr4gb2RCFe9++0kp+Aax7dd8wjoMH8QaYS5BY8EQaNQQNqqLbdht1sGbg/otUTlc6WpY"
    "cnsT6SXFTw7vDGxFfiWuP6tHHWrEmEu7h3N8GebaWgFjWszjIlcdv5qlF9lC3BFA8kOOIt"
    "xDOHqL/zYBbP4Fl6vtSCNfp0tsneIp26LxrD66VaF1KrPTZBYwIKKMXulINqKrs6BnXSZa"
    "BxfnNswpBgUxyJVwf9ULVAzAPtcw+N4QVRdyr/3ddq1I86Qpu26a1cg6AJg56M+d2eam7J"
    "lQiqMWdSF4ZngLG8gCL2jXgTz/GlzsvF8wg1l/swpFDtAVVCbXhg6LzDul8BQt5RGrXrcF"
    "80+d6uwYdA3Da8YLvGe/CRqZ9ddt8Wk31/uIem8N99Hf6tfxFVAvs7WHrt2g8YDdR0zxk4"
    "AMFz9XJj5x4mEe10onadcKULY0CXg3ImgJDPCg8gVX0E7yGNJscooJKM2Lt5evrnmsBGMo"
    "gZOrUvP6O+nziDXOZdlG+H3+jm6u+Kaf+rXj86el0/OHr15uWL169fvjmIufd81SI2ftJ6"
    "Lzh5ahdWrH1vgVafnLLiG2iGymyiMdIzZIWgCFviaKzZOl2Gc5BNUWVw7QuyLUR2AWxnl7"
    "cn50308ap52rpuXV6khUtZKYqgwFG76VWzcZ4BOmSk8zD/fn15oUc5QZKV9Z2ej/4n2fGq"
    "kK79ux9QuXmibuC4PmwQ+2K8/9TWj7+AKCXmR6aSnQ+NP7NWlNPzy5Os/C46OMmufNgOtA"
    "L57W3rLGfZz0gyExIEjr0vCKu18JWhSmlNSTzlmy6UxuPN9uek8Zuwm+2E9EFpPLGgNkka"
    "b9lkNGY+ob0pTJVOGM+0WCiLO7O21h2ZFpTFG6G/5xlHicGew2hC0MUUBWPYaGy0wwkBkd"
    "XZTwyzewzEGPYoG3VJH9ac9Pt0mT2dE8hXM0ybOlyK8HuiCDgoC6iNfCYbiEkXzqYRtol0"
    "TolC+LDGsFqIqBgwPyG1T9HE8YfKcwWT0KaAoagIPCr8WdhP0CaE+NB3JkfbR6GKINQONq"
    "FC+eh5jHPpInN6mOdLzbK5qIVh58Tlz0mT1BcjPG+k8HynPtCi7pmweQVdYPWXLwv4ZaBV"
    "rmNG1qXFiD6MT7yxFy7PoihnyKrnA3v1ogDWr17kQi2q0kiDrOAHHDC0SQklMEO1lBK4aU"
    "A/sg4Y7R9ldJMkzU8pJxuG7bq1kFCAWMYZlKKsoDNoS5w/xudnfH45sy5l53JOvySJMVjq"
    "DJZPZbbZno1qeatNrOwZJ+ois03yI9XbbbIrdn2msM1cpttqCbsmeCQdzzWNEWxWubfI/s"
    "WhmSV9UQVNX5+EUQcjDsqj/Ywj5dn0lL1ImnZCd7CKwh575LnHXBftiGVpC8+wtBUJ6sgu"
    "5fi7x3Omr9UM06ZiP4+qR8QbEGH4ch16p6xfE6aI+DM1JA9tZGrOc+OsZ/5bSW0cuVtpi5"
    "rNXUHtPWpvZCGNLGTc4qtC1nhrN8xOYry1xltrZFStjCpR14in0WzkS6bihYrJpPlYPnwk"
    "7nNKX0rbs6AMWn8OrfTqN3QXyEUWFqaJZBPb4WPs94aWDUOXdj3ms4zH5xYPy3wJ1i1HEv"
    "978RR8+wH2sVCsi2dq3v/VpMFojn9oXDTrdTrWPjYvzloX70viHJEdo/BHm17dXlzIkvBH"
    "m17fnp42m2fNs2MU/2zTd43WuShS/7bpaePitHkui+KfWR2tiKPt8FUBR9th1go6c7SJqv"
    "ReKzlFGWdmTFBBp/HhwUERfA8O8gEWdZmjkxhk8FLS5YxiM4RLMWxlhEsZcm8FXqljrCmi"
    "Si78ehEXvmi2YOnX59z4Cjcams3KoR1RrXGfWNUaX0doirQ5gmjmYw07X2wfSJCZkIkcyw"
    "u3bEbLxKJkqNZneTnYEliJ5zGN/+mG3OcgGhNUIYBqkee7+efN4m0vdnyfX168j5pn98JM"
    "7Al2XaGCwiZWStzL0lUB+ww7Pnjxpgg/hmb5DFlWphFPH0gsKvulqYz89+jy3xNaezfsM1"
    "g78vIQ6LKGgxn1GgVCPHbKGg0aH1vH4vBAm35oXLTeNa9vjtEIU6dP1Bp5epUfpogFXo9I"
    "CZuPca+UcK6nruC28PKokJR+tEBKP1oI/dKoG8ALAz7Bjm95BHOWw3j0cGfIqgf240fsS8"
    "iAI3A80KzsfKk+S1cFrNcu3JuI418w4hgEJW+5WU9Tmgxim3yaoO9Qhw+XmuYMqZnnTZ5n"
    "F6QN4d/2yWismelcO+McnbE0Zi2NCqKhzCNURgrM0lVBNFmDK0LBRu7HDnweS7AtHb3hXZ"
    "vMu4YE5IkuSJJLzHaW1sz0Js80BT1OnW8osUWlicz+lN2fQBwfEEtERpU6lp0hM6bp5U3T"
    "cRhiUdEgJqieTPD4piGVj1LjcsnlGAkKwy7mUzj43nSpvOEzOrPLbvIumw15LjnRGnIz35"
    "s83+qMZAn+OCNYH3s83BL2KLGxxi7WeHwWCFMpKiNLLS9LyWPA5aXZDJmZgZ8ItDCpSFZ9"
    "AYFJnvFIyTPyj9FlA3Dn0T4J6d79cUVc7DtaZ33+jQIVwTz16evyry4P2nzm161kvIshy6"
    "TsWB6tVIqQKi4uJSN5gS6itQxQ4rDqdZTsoYpAqVwnPwmS6KOqAE1Id8jYndgQnG9Ebxwq"
    "A9Yn1d+Z6q4Ip9oa2FZ9mlx9iDlHyuOvdPG5cmumjxa8eAfTQZh4SJISlbv6GVd5iPje7M"
    "KcrkjOTeRdNjKFkbBWHMssRSBcIOkr3KtlIF7FGG3aY6OR48OKQiCAOzJEXmb0DnMpSdUF"
    "OhV350yGzA2Tfw+xuOhGHmlT4zl8X/bY2d1HN+KG3Lg3GZbDxSPE2ZaezZIxvZUPpJ49Ss"
    "LUkSRq9+qgPiEqwXj4SG0qnm/ARE6mTmKb6+whyvwoRTkoErCS+T7qJI4sdVCPBeIC3giE"
    "9AVGC3KIR+klTKqmMnrKE6dqKptWyCQUesCf55X3kmaoDLK6M4PULo1risagqkEVdhixwV"
    "hyBZZAdo7OoJvLDcLb7TUmo/ybt+Yoze1bRW7fMglqqpSg5ikTG1Q6jMCkNTBpDbb+5JOJ"
    "mjdR8yZqPo/eRP1sctSPiZr/VWbaRM2bqPkKxhmZA8i/AvMyB5B/jXk2WfdN1v2njhfc1K"
    "z7MhZHFyMRBeksiI+IY4GKhUaoZHOoz1yXTYgdXd6N08ELaAdHXn4oc+zdPcSD0Qh7Dg+v"
    "VZqLh3iMjtu0TT95IgiCRrc+fWVd5FBEcG+IuuLUibpeinIsIy331LVQtrrYfCKuoQLVxX"
    "WIp1rDiBOPicAJztoUixgMCg+tYif4kE1UCIJCUVyU3sfePurAQiduBzlc3TyFvzJ4qqmI"
    "9lBVvIN2vstfMJk/dt+2accfBqMuxY4iw4iPsOui3z823wsyeZs74X54ERZgMx4LkDx5m3"
    "tHVFlddt+Rl7U7vuiCE+8bsdtUvBkLwqANmaULyXCPh2Mk5FuJ9W7CJLYiTCKer+JaXJLE"
    "uEd1ZkbxkZayL0YElczDvoILCBRDLKMjzyhMAtpH15r7jsfLW4MyVIaVaFnJEsCmiQyuOk"
    "+xXHtCQwf1ZDTWqDH5MSwaWhPFUiSKRa7L5TCfJzWQF4E8jG3ghGiODj8UERFRGQ6i4SBS"
    "feI95mk484KFnCYzi7jIIpaYld0E00RmCect4S7TRMnny9FJms2QpCt1T+yIYCrgtbBHcC"
    "nGMkdpeEsR3hKb0HRGKIq9aY4NJEmWQbo79UmR09jb4/g5CVdvvNRhpZ+0LhpXf+kD3U40"
    "q/3kr5tmw9yKbPwzxj9TxD8js2ho3DNRdo1870wALVZ/K3Ipc/6vYsv/Scks30pPRtodKt"
    "+iHBM8jkX5acFN2ZOP6kXsydAq154s63TmoLI32KSpKnep5+HLQpb7lwss9y81lvslgE4R"
    "GZyL4DzGnE8Y7EJDzIdlsJ4jrKBPaiXR7j67I9T6Bpuvo7uZKd+dmqUzcbFZQ0WUW4WTnk"
    "c0IXsLbr2ao6ze2Y3DepHLPqFVPv+oz131ae5fyke/WvcvzWmQRfLXccK5/h7YMjmOGoE/"
    "vFY9beE62IbsdVuJmVDJHyEfW5XgWaWpIZtpTGN10CQjyzdA6DOhFQgVDfwuuxeRiz02Gr"
    "tEmvmjy7r5MZqEUZoOVXGJIqgxEZYp0lTJTFEq9pNQG5DW5NFaxShtyhnCNPxTRFJSAq+O"
    "XGDPb2X7xscWNA8hmUIFGyMOzblMuBVeDoAcPy/CMmN++VwLu4o32gH+RqxAusblMavwIL"
    "CoBdrPcf0XE4i5kYGYJS+x/5m76zeN663n8vrwgyiTkz5JYrSyrFaWZTMl9QQNeQWVhS1R"
    "Dgodp8puOWVmO0trDs5t8kwnhImMPMCYSzDVz3GCKusSB7JVfbxxyZp94peX56npPGllk7"
    "vcfjhpXu0cynmcBSHkBPmWTrKTpqqCWWvdmXaMjStfVqiWjcsEnZigExN0UnvIEtQgntMb"
    "1jQGoLBmb5HdB8/amMiTtTHqFUee5Poz800T+a7MSpgnVuE7Fh9VCYTD5hVEdyWnRWFEn1"
    "CNkJcf5p4gWX+U+9Ps+Y8Wz17Cofj4m9mP/wP1gkUY"
)
