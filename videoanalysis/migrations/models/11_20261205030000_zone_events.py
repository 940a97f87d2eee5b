from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" ADD "zone_totals" JSONB;
        CREATE TABLE IF NOT EXISTS "zone_events" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "rule" VARCHAR(63) NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "track_id" INT NOT NULL,
    "label" VARCHAR(100) NOT NULL,
    "frame_index" INT NOT NULL,
    "timestamp" DOUBLE PRECISION NOT NULL,
    "dwell_s" DOUBLE PRECISION,
    "task_id" UUID NOT NULL REFERENCES "tasks" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_zone_events_task_id_0b1c5e" UNIQUE ("task_id", "rule", "track_id", "kind", "frame_index")
);
CREATE INDEX IF NOT EXISTS "idx_zone_events_task_id_5d0d3f" ON "zone_events" ("task_id", "frame_index");
COMMENT ON TABLE "zone_events" IS 'One event of a track in a task''s zones and lines: `entered`/`left` a zone (`left` with';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tasks" DROP COLUMN "zone_totals";
        DROP TABLE IF EXISTS "zone_events";"""


MODELS_STATE = (
    "eJztXW9z2jga/yoa3jSZobmEpGkvvbkZktAuu23SaZLr7paOEViAN0ZiLbuE6/W73yPJNr"
    "aRiU1DAq5e7JZIeiT7J1l6/utbbcxs4vK9ZuCPrgjnDqO1E/StRvGYwA9ddR3V8GQyrxQF"
    "Pu65sj2GhhZXLWUN7nHfw30fKgfY5QSKbML7njPx1Vi1S0oQd4b0uUNPkD8i0G7suDPEBs"
    "jxOfLIwCN8hHx2SyjfQy3cH8WFHvOxTzjq9gPPI9S3/vKd7mvRixjbZn0Y3KHD9Q3ToZIA"
    "uoDGExf3iY24j2ccBVxgggbMQxgNyBRx0mfU5mjHnzLUdx3oJx4WnhFhHzHaJ7t1hCk8lm"
    "sTr0MZPLXDoQfZ+wyqbPj5Fcbk8iVCqPfQOzZkgR/XwfP4jEFX/T60CN8KObTvBjax9wQ6"
    "AXX+DojlsyGBnjzA6PMXKHaoTe4Ij/6c3FoDh7h2alU4tuhAllv+bCLLzkbYeyNbCuR7Vp"
    "+5wZjOW09m/ojRuDlMjCgdEko8wNZOrA8auG64nqIi9axQ4HsBiR/SnhfYZIADV6wyQa2e"
    "YF5Ws6yLy2vrqnVtWbWFFRhRJFZLWAQTJlavAzMl33+M7yyX0KE/gj8PG9/VOHMcVCsx4H"
    "+aH89+aX7cOWzsigEZfALqA7kIaxqy6rvsAvtYdSJRn8OcWG1l8M6QPQzwUcEc+fnnvLXQ"
    "z6GewIfjsICXxTpLtxLY4Rr+WbBWu6ltYX8R6XOo8Z0x0aOdpsxgbYeke9GP7UN+CdLX7f"
    "etq+vm+w+i+zHnf7sSruZ1S9Q0ZOksU7pznJmVuBP0qX39CxJ/oj8vL1oSTcb9oSdHnLe7"
    "/rMmnglOdWZRNrWwncQkKo6K0rMsT6KVZjlFaWZ5k2e575EVv+U05QPM8sYdWfCC9iV1Z+"
    "EK3JJpDz+WpbMecOJZOiawTX39bCcoMlMNcG3j5A7FQzxvHBy9PHp1eHz0CprIB41LXi6Z"
    "7/bFNZyJgr0e3Go5PwHXIrpvmEdAgvmNzCTIbXgiDBKDBtRQbLsJu9kycL9HqycqnS9LD0"
    "9jeSS5qODd4Y2Jr9i15tVZ87xVkwj3cP92ij3bSkEtaliDZUritotV48Y4W4IpHkpwxFuI"
    "Zw5Rf+PBLJ7Ds/R9KQVr5Olsk/oymXogGsPrpVoXEqs9NkUTAgIoxe6Mg2gquzoBcdJlIH"
    "F+dWzCkNimOBKvDvKhaoGYB9JnHU3gBVFvJv/d00rUDzpCh3bojVyDIAmDnIz5bV01t+RK"
    "BNGYMykLwzPAWF5AEftKvKnn+FLm5eJ5hJjLfRhSiPaAKqE2PDB03mW9vwBC3lUStetwXz"
    "T51qnBh0DcDrxgp8b78JGpnz121xGTfXdQRzP4764B/za+iCqB/S0svU7tO4wGYrrnDB2A"
    "4Ll6uYlzB5OIdrpRu2640oUyoMdBOBNAyGeFB5CiPoL3kEqTExRQSUbs3Tw5/XNNYCM3iD"
    "k6tS8/Ir6fOsPczbvovh1+o5srv6tN+5+NxuHhy8b+4fGrF0cvX754tR/v3otVy7bx0/Zb"
    "sZOnTmG1tdeXSPXJKSt+gGaozCEaIz1HVjCKcCSOJ5qj02U4B9kUVQbXgSDbQmSXwHZ+eX"
    "P6roU+fGydta/alxdp5lJWiiIocNRp+rHVfJcBOtxIF2H+9eryQo9ygiTL6zt9H/1Pbsfr"
    "Qrr2r0FA5eGJeoHj+nBA7Inx/l17fPwFRCk2P1KV7Lxv/p7Vopy9uzzN8u+ig9PsyofjQM"
    "uQ39y0z3OW/ZwkMyFB4Nh7grBaC18pqpTUlMRTvulSbjw+bH+MG78Ou9lOSO/lxhMLapO4"
    "8bZNxhPmE9qfwVTpmPFMi6W8uDNva92SWUFevBnae55xlBjsOYwmGF1MUTCBg8ZGO5wQYF"
    "mdvcQwuydAjOGMslGPDGDNSbtPj9mzBYZ8PcN0qMMlC18XRbCDsoDayGeygZh0YWwaY5tI"
    "45QohA9rAquFiIoh8xNc+wxNHX+kLFcwCR0KGIqKwKPCnoX9BG2CiQ9tZ3K0PRSKCELsYF"
    "MqhI++xziXJjKnj3k+1yybi1oYdoFd/pxUSX0xzPNGMs+36gMtap4Jm1fQBNZ48aKAXQZa"
    "5RpmZF2ajRjA+MSbeOHyLIpyhqx6NrDjowJYHx/lQi2q0kgDr+AHHDC0SQkhMEO1khC4aU"
    "A/sAwYnR9lZJMkzQ8JJxuG7WNLISEDsYoxKEVZQWPQlhh/jM3P2PxyZl3yzuWMfkkSo7DU"
    "KSyfSm2zPQfV6lqbWNgzRtRlapvkR6rX22RX7OOpwjZzmW6rJuyK4LE0PNc0SrB5ZX2Z/o"
    "tDM0vaogqqvj4JpQ5GHIRH+xlHyrLpKX2RVO2E5mDlhT3xyHOPuS7aEcvSFpZhqSsS1JFe"
    "yvF3TxZUX+sZpkPFeR5Vj4k3JELx5Tr0Vmm/pkwR8WdqSB7qyNSc5/pZz+23ktoYcrdSFz"
    "Wfu4LSe9Te8EIaXsiYxdeFrLHWbpiexFhrjbXW8KhaHlWirmFPo9nI50zFCxXjSfOxvD8k"
    "7nNKXkrrs6AMWn8OtfTqN3QXyEUWFqaJZBPb4RPs90eWDUOXNj3mbxkPv1vcz/Mltm45kv"
    "jf0VPs2/dsH0vZunimFu1fLRqMF/YPjYnmcY2OtQ+ti/P2xduSOEdkJyj80aEfby4uZEn4"
    "o0Ovbs7OWq3z1vkJin926Jtm+50oUv926Fnz4qz1ThbFP7MyWhFD28FxAUPbQVYLOje0ia"
    "r0WSt3ijLGzJiggkbjg/39Ivju7+cDLOoyoZMYePBS3OWcYjOYSzFsZZhL6XJvBV6pMNYU"
    "USUXfqOICV80W7L0GwtmfIUbDdVm5dCOqB7xnFjXGn8M1xSpcwTWzMea7Xy5fiBBZlwmcj"
    "Qv3LIZLeOLkqF6PM3L/pbASjyPaexP1+QuB9GYoAoOVMss363fr5cfe7Hh+93lxduoefYs"
    "zPieYNcVIigcYqXYvSxdFbDPbMf7R6+K7MfQLH9DlpVpxNMBiUV5vzSV4f8enP97Qm3vhn"
    "0Gj438f+EoVJxGKfQzZGYGfmDtyzDcVVU3c+pHZMnxxCmrtml+aJ+I8I0Ofd+8aL9pXV2f"
    "oDGmzoCoNfL0SheYIhZ4fSJlHD7B/VLikZ66ggfzi8NCctLhEjnpcCn0K6NuAC8M+BQ7vu"
    "URzFnOxqOHO0NWPbAfPmZCQgY7AsdDzcrOl6uydFXA+tHFK+Pz/RP6fAOj5K0262lKk8Nt"
    "k+M5Bg51+Gilac6Qmnne5Hl2gdsQHgY+GU80M52r6V2gM7rerK5XQTSSmZzKcIFZuiqwJo"
    "9gDFKwkbuJA5/HCtuWjt7sXZu8d40I8BM94CRXmO0srZnpTZ5pCnKcijApcUSlicz5lD2f"
    "gB0fEkv4ppUKjM+QGdX06qrp2BG0KGsQE1SPJ3h41ZDKCKoxu+TuGAkKs10sJtHwvdlKmd"
    "vndOaU3eRTNut0XnKiNeRmvjd5vlWUaon9cU7weNvjwZZsjxIba+JijcVnCTOVojK81Oq8"
    "lAzELs/NZsjMDPyAo4VJBrPuKyBM+pIHSl+SH8iYdYFeRPs0pHvz20fiYt/RGuvz73SoCO"
    "apT1+XAXd10BZz727lxrscskzSlNXRSiVpqeLiUjySF+h8issAJcKFr6J0G1UESmWb+UGQ"
    "RB9VBWhKeiPGbsWB4HwleuVQGbA+qf7OVXdFdqqthE06I5Ov4m7aH8PrT+ioJfqpElLrzn"
    "ygtqyc9AfxfrY8B4I1l9wLXhKF6TBMkiVJicqz/oyrnFm8Pr/cqScSyRN575JMtyX0Oicy"
    "oxawYUhaVeu1DMTrGKND+2w8dnxYUQhEFUeGc8js82HeLynkQafinqfpiLlhovoRFpcyyf"
    "BLNZ7D92SP3d09dC1uc457kw5MXDxCnBns2Txx2Gv5QOrZo4RhXUmizvkuGhCikuGHj9Sh"
    "4vmGTOQP6yYYgm4dUeZH6fRB5IKVzPdQNxFe10V9FojLoiMQ0pdtLcl3H6VCMWnFykh0T5"
    "xWrGwKLJP86h7Lp1fenpyhMsjq4lupXRrXFI1BVYMqnDDigLHkCiyB7AKdQTd3N1C3yWgY"
    "3CW3xC1QmpviitwUZ5IpVSmZ0lMm4ai0w4VJwWFScGx9jJiJLzDxBSa+II/e+Edtsn+UiS"
    "/4WWbaxBeY+IIKemSZUO2fYfMyodo/xzybGyLMDRFP7Vm5qTdESK8lnY9E5M60xD8i9poq"
    "5hqhEiOiAXNdNiV2dNE8TjsvoB0cWfmhzLF364gH4zH2HB5eAbbgD/EQHXdoh37yhBMEjW"
    "4o+4v1kEMRwf0R6on4HHUVGuVY+qTW1RVmNpo6/ghNxZVpILq4DvFUaxhx6jHhOMFZh2Lh"
    "g0HhoZXvBB+xqXJBUChCG4DO20NdWOjE7SKHq1vS8F8MnmomvD1UFe+inW/yF0zm993XHd"
    "r1R8G4R7GjyDDiY+y66NcPrbeCTHTTI9wPL20DbCYTAZLHAmqjrqiyeuyuK54Tnkh0wYn3"
    "ldgdKt6MBaHThsxnhqS7x/0+EvKtxHo3bhJb4SYRz1dxKS5JYsyjOjWj+EhL6RcjgkreGb"
    "CGyzLUhlhGRp5TmGTJDy41DxyPl9cGZajMVqLdSlYANk1kcNVZiuXaExI6iCfjiUaMyfdh"
    "0dAaL5YiXixyXa6G+SKpgbwI5KFvAydEE2R9n0dERGV2EM0OIsUn3meeZmdespDTZGYRF1"
    "nEErOyh2CayCzhvCXcYxov+Xw+OkmzGZx0pe40HhNMBbwW9ggutbEsUJq9pcjeEqvQdEoo"
    "ir1Zjg4kSZZBujfzSZG49e0x/JyGqzde6rDST9sXzY9/6B3dTjWr/fSP61bT3OBt7DPGPl"
    "PEPiPzjWjMM1EeknzrTAAt1n+Ddyl1/s+iy/9BzixfS0/G2hMqX6McEzyMRvlpwU3pkw8b"
    "RfTJ0CpXnyzrdOqgsnf9pKkqdwHtwYtCmvsXSzT3LzSa+xWAThEZnIvgPMGcTxmcQiPMR2"
    "WwXiCsoE1qLd7uPrsl1PoKh6+ju8Mq35yapTN+sVlFRZSFhpO+RzQue0vuB1ugrF7sxkGj"
    "yMW00Cp//2gsXEtrbqrKR79aN1UtSJBFMv1xwrn+zuIy2Y2agT+6Uj1t4TrYhjx/W4mZEM"
    "kfIHNdleBZp6ohm5NNo3XQpG3LV0Doc8YVcBUN/B67E56LfTaeuESq+aOL5fkJmoZemg5V"
    "fonCqTHhlinSVMlMUcr3k1AbkNbk0VrHKB3KGcI0/FN4UlICr45c2J5fy/bND21oHkIygw"
    "o2QRyac5lwK7xGATl+nodlRv3yuRZ2FR+0Q/yVWIE0jcswqzAQWNQC7ee4/otxxNxIR8zA"
    "K6XgCZtXUTjbPyrCz4pm+eKZrExztOEHUSZ7f5LESGVZqSy7zZSUEzTkFRQWtkQ4KBROlT"
    "1yysx2ltYEzm3yTCeYiQw/wJhLMNXPcYIqaxIHsnV9vHHJI9vELy/fpabztJ1N7nLz/rT1"
    "cedAzuPcCSHHybd0kp00VRXUWo+dacfouPJ5hWrpuIzTiXE6MU4ntfs0QfNs8xodUCoVfb"
    "72J5P6vliEsGyvEpvL6EKhfYmjeEWPSk3iOvDrBHWhsWAlu//oumTgd6GpaIN2wj9F9Oqi"
    "3mctw3SoUO7YU+K6u3XUdSg0ZoFoG4Uii8720I1coIhRFS8so21l3C1WMcOx2gkPsXioAY"
    "yMcIcKBRL0dQubmUvsIRnDM9URgzqZ5HxMbBFeXEew/XGRAX0kA42nTp/cH6rrBa78ApPx"
    "nLfw4cjPVzhOW/qE5/MeFloZvdLG6ZWiWS6qWIraV1CzdHxYQK90fJh/Ye5hVqcUfy4FwY"
    "3aVxDcIjq7fIXdgrbOxKWbuPTti0tPHojFF26GyqxdzdpdLWzURIyWDoiRvKxVLqt/gmZF"
    "kLdHE/UgQUdGBWFUEOuFdFtVEE3iOf1RTaN/CGvqy5QPeN7GBL9s11GfL8HmulTnM6753t"
    "RVYF3X4r4uPqoSCIfNK4juWgQDGNEPVadphPMj7RMkjx9o/zRn/oOF1JfwaX74w+z7/wH+"
    "n3Bt"
)
