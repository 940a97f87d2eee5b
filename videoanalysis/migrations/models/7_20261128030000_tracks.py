from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
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
        DROP TABLE IF EXISTS "tracks";"""


MODELS_STATE = (
    "eJztXf9z2rgS/1c0/PLSmVwmIV/ay715M5DQHncp6STk9e5KxxG2ADdG4iQ5hOnL//5W8h"
    "dsYxObhBy4/qGNkbSy9dF6tbvalb/XxswijthruHJ0TYSwGa2dou81iscELtKqd1ENTybz"
    "SlUgcd/R7TE0NITXUtfgvpAcmxIqB9gRBIosIkxuT6R3r9olJUjYQ/qTTU+RHBFoN7adGW"
    "IDZEuBOBlwIkZIsjtCxR5qYXMUFnImsSQC3Zou54RK45u0b39Rvah7W8yEm9t0uL7b9Kgm"
    "gC6g8cTBJrGQkHgmkCsUJmjAOMJoQKZIEJNRS6AdOWXIdGzoJ7wtPCPCEjFqkje7CFN4LM"
    "civEcZPLUtoAfd+wyqLLi8h3sKPQgf6j10wYbMlWEdPI9kDLoyTWjhjwrZ1HRci1h7Ch2X"
    "2n+7xJBsSKAnDhh9+QrFNrXIAxHBz8mdMbCJY8W4wrZUB7rckLOJLjsbYf5et1TI9w2TOe"
    "6YzltPZnLEaNgcJkaVDgklHLC1IvxBXcfx+Sko8p4VCiR3SfiQ1rzAIgPsOorLFLX3BPOy"
    "mmF0LrvGdatrGLUFDgwoItziF8GEKe61Yab0+Mf4wXAIHcoR/DysP3r3mePgtVI3/G/j6u"
    "zXxtXOYf2NuiGDV8B7QTp+TV1XPeousMReJxr1OcwRbiuCd4LsZYAPCubIz1/nrYV+DvUE"
    "XhybuaIo1km6lcD2efhHwdqTppaB5SLS51Aj7TFJRztOmcDa8kn3govtQ34J0t32x9Z1t/"
    "Hxk+p+LMTfjoar0W2pmrounSVKd04SsxJ2gj63u78i9RP9ddlpaTSZkEOu7zhv1/2rpp4J"
    "VnVmUDY1sBXFJCgOiuKzrFeilWY5RlnN8ibPssnJiu9ynPIFZnnjliwYoHVJnZnPgVsy7f"
    "7LsnTWXUG4kaYEtqlMn+0IRWKqAa5tnNyheoif6gdHb4/eHZ4cvYMm+kHDkrdL5rvd6cKa"
    "qNTrwV2q5qfgWkT3PeMELJjfyUyD3IYnwmAxpIDqm203fjdbBu5jwD1B6ZwtOZ6G9kiUqW"
    "DsMGIiPXWtcX3WOG/VNMJ9bN5NMbeMGNSqhtVZoiRsu1g1ro+TJZjioQZHjUI9s4/6ew6z"
    "eA7PYkptBafY08kmu8ts6oFqDMOLtc5lVnM2RRMCBijFzkyAaaq7OgVz0mFgcd7bFmFIiS"
    "mB1NDBPvRaIMbB+txFExgg6s/0371Ui/pF79CjPXqjeRAsYbCTsbjb9ZobmhPBNBZM28Lw"
    "DHAv7lLE7gmfcltqm1eo51FmrpBwS2XaA6qEWvDA0Pkt638DCMWtZ1E7tpCqyfdeDV4E4v"
    "RggL2aMOEl8y777KGnJvvhYBfN4N9DHf7Wvz6qQTBuD20Y80/eaCb2g5rWDLP6S00NRb/P"
    "88HUvj7H2m7aw0xZm1fM+q/U5prbnoz9uV4/PHxb3z88eXd89Pbt8bv9UNguVi2Tus32By"
    "V4Y4umJ4l3lxjh0SnLv94lqKo1L0R6jqzS62AFG09SVjqH4QxkY1QJXAeKbAuRXQLb+eVN"
    "86KFPl21ztrX7ctOXBfUlaoICmxv8btqNS4SQPtybxHm364vO+koR0iSqrltSvQ/LT3XhX"
    "Tt3wOX6rUO9V3bkSDP99T9/lN7ffwVRDGtPPBs7Hxs/JF0epxdXDaT6rbqoJnkfFgOUvXn"
    "m5v2eQbbz0kSE+K6trWnCMvF+J5fyTNyonjqkS5VnsPF9nnKc9fvZjshfVJ5jjDUJinPGv"
    "UUjTmYjWw1WQ0on26cjeXTeyJfamxKQ7Mj7sSAMmj9pQacJV3hXUN3rmYyvzBO9LWQ0pct"
    "HV5eMDyt+UWktL6T+u/onxDRT0iKZcrdfFIWHf4t6o4XREUM9Tn16+2x1D61OuftzoeCOA"
    "dkp8i/6NGrm05Hl/gXPXp9c3bWap23zk9ReNmj7xvtC1Xk/e3Rs0bnrHWhi8LLpG2YZ2Ph"
    "4CTHxsJB0ss131hQVfFlVQuFIrs3IUEJ98gO9vfz4Lu/nw2wqktsk2GwawopknOKzdAj1W"
    "1Lo0dq94rh8kJbljGiUjJ+/SgX59ePlrC+qkwDW/8qjHZA9YrrxLp4PA52/fg4B9bQKhNq"
    "XRdHWjtPBGhhEqeI8+U+lwjZSk6XDdsrfGmfi4+RxWgKFz+FbED1et6s/S2BlXDOUjZsuu"
    "QhA9GQoAwBI8t2Nlt/dJcve6Ez6+Ky8yFonlwL42ib2HGUtQmLWCF1L0lXBuwT4nj/6F0e"
    "eQzNsgWyrowjHt98yqv7xakq/e/F9T+oYi43idYvxASbhVSTdOoSvhTHh7l0lMMlOsrhQh"
    "BbFLyVUa8Azw14FWmUjX55I42ExHy1WY9TVlGEmxxFOLCpLUYrTXOCtJrnTZ5nh2BBYKYk"
    "GU9SZjrT/lygqyzQpAXqQTTSaUNF1JEkXRm1kTW4qDzYyMPEhtdjBbGVRl/Jrk2WXSMC+k"
    "QfNMkVZjtJW830Js80JQ/S0C7PAktUnKhan5LrE6jjQ2KoHfMUVLNdSAmyZ/mQtueVWYuz"
    "KIxEyasahATl0wlO8uwQnmTvD54s7A56Mekp7tFMiRGhqMRFUlwocGYr5Q7O6apVdpNX2W"
    "gYXc43JkpSRdQ/nUWm8VrEt0oji0fCRtmqaChscmd9Ee2mT/f+9yviYOmfoJIOdEpaWEkw"
    "j4e/g8C5eyZUXdVHWQGakv6IsTvFivY9SdcrioD12evv3OtuVibY1hqLrnksLRg9YL4l0e"
    "ghj+dL1fQSbtCAOQ6bEgthkzOh0hRVWPu/hJcGKdAOFKieCYcy21IZke54jLkt/FN9FjI0"
    "X6JjlZj5mdtSEqqSNdXBQ99YX+VBEnVMUh9LcwRk0AEVWMuuXTQmHEBFU1uO0HSEJTTljk"
    "241xruOOVMEpXR2aNYpXJSdQiSeigkRjqLUwrvkYTK+hxgvodudaKmzt9UzzDG3xg8lT7D"
    "yasSt2jnu76CyXx880uP3sqRO+5TbDt+2qcYY8dBv31qfVBkqps+EdLPSgVsJhMFEmcutd"
    "CtqjL67OFWZ57aUnUBi+E9sXpUjUwduaSPYdJbul6669NZoHpUasGpUkC3IgU0nK/8qmqU"
    "pFJV0/Yr1EtaaKMiIChlyPIaYvU9gVjE2TanqGK1Xtz9NrC5KO5WTlBVoiRVlKwAbJyowj"
    "UtVlzz3mpZ+im0Va5+nlx9zZerYb5IWkGeB3I/u0EQQotI5jhVJUFSJIg2n/SJOoUYOU5W"
    "MXEeJtaYFV0E40QVC2excJ+lnP2TrUdHaTZDky7V6SljgqmC18Cc4EKCZYGyki15ZEvoQk"
    "tzQlHMZxk+kChZAun+TJI8+xvbswHb9Lk3ZHXg9Ga707j6Mz3VrZnC7c0/u61GdVZQYeyr"
    "s4J+yLOC9L50yvZMsF+dvTujTg5d/1lBhdz5P4ov/5maWbaXnoxTV6hsj3JIUMJPU+TxJ0"
    "OrJaf2L/iTPZdO0XTHOFXpzr84OM7luT9e4rk/TvHcrwB0jKjCOQ/OEyzElMEqNMJiVATr"
    "BcIS7kmtJW1Gf4fIuIfF149XybudmqSrImaTjoogZkgQk5OUuNlsbl6kLF/A90E9z7kY0C"
    "pbftQXTsWoUtKz0S9XSvqCBZknIjT6GbzVY/cSn97bMj7IFw8anNz6jHDQchngaw1rTEaD"
    "pljQKQGj2cZ0erRqjrBHV/bZg4rCM9l44hDtsg7OaBKnaOpHHNrUi7FTAXqREEOEvShAP4"
    "7R+8zDbi2B+3ru0qPqQxTU/6miAimBoSMHRI3+LiRqfGpDcx+SGVSwCRJEff/R+4Sjzv1B"
    "tsz5KcYvNb+rcNEY4ntiuHqbV+ce+tnx+lRhdfBwUF/siOEqqFDVvUZQYcGzy55zZNmmSb"
    "3XObPMfyGKpORFSSoLI2lhJMVMQZ03hbyEiu+WKLoBJktT9JJLTpHZTtJWyZibPNMRZSKh"
    "DzDmEEzT5zhCldzeBbJ1vbxhySvv715eXsSms9lOHlV687HZuto50PM431DPCFgtfGRsnK"
    "oMLpplb9Bazo2t/DU/iL+mCqCoAiiqAIraU56gBuG2OaqlOID8mt1lfh88b1NFUbyaoF5z"
    "FEXm3tyST1xkbsuVwj2xjn1Q9VIVQNhvXkJ015L5CHeUhKYoedkh2xGS14/Y/mfW/BeLzS"
    "6wOfbyi9nj/wH4eIeq"
)
