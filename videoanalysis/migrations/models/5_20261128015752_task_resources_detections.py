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
    "eJztXFtT4zgW/isqvyxTRVMQoGHZra0KkO7JDJ10QdiZmk6XW7GVxIMjZSyZkOrlv++RfH"
    "fsYAeSSdx+6MaRdHT5zpF0LpK+axNmEpsfNF0xviOcW4xqF+i7RvGEwEdW9j7S8HQaZcoE"
    "gQe2Ko+hoM69kioHD7hwsCEgc4htTiDJJNxwrKnw2tK6lCBujeg7i14gMSZQbmLZc8SGyB"
    "IcOWToED5Ggj0Qyg9QCxvjMNFhAgvC0TfDdRxChf6nsL79S9Yi2zaZAY1bdLS+ZvpUEUAV"
    "UHhqY4OYiAs858jlEhM0ZA7CaEhmiBODUZOjPTFjyLAtqCdsFvqIsECMGuSnfYQpdMs2id"
    "OnDHptcahB1T6HLBM+H6FNrgbhQ32AbtiIuSLMg/4IxqAqw4AS/qiQRQ3bNYl5INFxqfWX"
    "S3TBRgRqcgCjL18h2aImeSI8+Dl90IcWsc2EVFimrECl62I+VWlXY+x8UCUl8gPdYLY7oV"
    "Hp6VyMGQ2LA2Nk6ohQ4gC2Zkw+qGvbvjwFSV5fIUE4Lgk7aUYJJhli15ZSJqm9HkRpmq53"
    "uj39rtXTdW1BAgOKmLT4ScAwKb0WcEqNf4KfdJvQkRjDz+PGs9dOhINXSjb43+bt1c/N27"
    "3jxk+yQQZTwJsgHT+nobKeVRVYYK8ShXoEc0zayuCdInsb4IOECPloOu8s9BHUU5g4FnN5"
    "WazTdCuB7cvwj4K1t5qaOhaLSF9DjrAmJBvtJGUKa9MnPQg+dg/5JUj32p9ad73mp8+y+g"
    "nnf9kKrmavJXMaKnWeSt17n+JKWAn6rd37Gcmf6I9up6XQZFyMHNViVK73hyb7BLs60ymb"
    "6diMYxIkB0lJLqudaCUuJyhrLm8zlw2HrDiXk5RvwOWt27JggGaX2nNfAneE7f5kWcp1lx"
    "NHz1IC21RkcztGkWI1wLWLzB3JTrxrHJ2cnZwfvz85hyKqo2HK2RJ+tzs92BOlej18yNT8"
    "JFyL6H5gDgEL5lcyVyC3oUcYLIYMUH2z7d6vZsfAfQ6kJ0iNxNLBs9AeiQsVjB1GTISnrj"
    "XvrprXLU0hPMDGwww7pp6AWuawBkulhGUXsyaNSToFUzxS4MhRyD77qH9wgIvX0BdDKCs4"
    "w55OF9lfZlMPZWEYXqJ0IbPaYTM0JWCAUmzPOZimqqoLMCdtBhbno2UShuQyxZEcOtiHXg"
    "nEHLA+99EUBogGc/X3INOiftMW+rRP75UMgiUMdjLmD/tecV1JIpjGnClbGPoAbTkuReyR"
    "ODPHEsrm5bI/0szlApqUpj2gSqgJHYbKv7HBnwAh/+ZZ1LbFhSzyva/BRCB2HwbY17gBk8"
    "z7HLCnvmT209E+msO/pwb8bXx9loNgjjWyYMzvvNFMrSfJ1hyz+osmh6LmczQY7etrrO1L"
    "a5S71hZdZv0ptb3mtrfG/rPROD4+axwevz8/PTk7Oz0/DBfbxaxlq+5l+6NceBObprcS7y"
    "8xwuMsK77fpajqPS9EOkJW6nWwg02mGTudzXAOsgmqFK5DSbaDyC6B7bp7f3nTQp9vW1ft"
    "u3a3k9QFVaZMggTL2/xuW82bFND+urcI8y933U42yjGStGpuGQL9T62e60Ja+/fQpWqvQw"
    "PXsgWs5weyvf9om8dfQpTQygPPxt6n5u9pp8fVTfcyrW7LCi7Tkg/bQab+fH/fvs4R+4gk"
    "xRDXtcwDSVgtwff8Sp6RE8dTjXSp8hxutq9Tnnt+NbsJ6YvKc0ygtkl5VqhnaMwBN/LVZD"
    "mgYrpxPpYvx0S+aGxGQ7Mj5sT4Wkp/y5/obz/HX1biYguuakn+d/J3rLYvTPplehpMZ+Fm"
    "7HHSd9+i7mRh1idQj6g3Fy7RPrc61+3Ox5I4B2QXyP/o09v7Tkel+B99end/ddVqXbeuL1"
    "D42acfmu0bmeT97dOrZueqdaOSws+0mVckRnD0vkCM4CjtsIpiBDIruUOq+V0mEBMSVDDc"
    "dXR4WATfw8N8gGVeKuKFwUQppRNGFNuhEspmK6MSKk+J7jqloo8JokoKfuOkkOQ3TpaIvs"
    "zMAlv9Ko12QLXBfWJdMp4Eu3F6WgBrKJULtcpLIq38IBwUKoEzlvPl7pMY2Ur+ky0L+721"
    "+8THyGQ0Q4pfQjag2pxj6nBHYCWOwzJiLz3ylINoSFCFsx/LgpSt33vLt73QL3XT7XwMiq"
    "f3wiTaBrZtaTjCJlZK3UvTVQH71HJ8eHJeZD2GYvkLsspMIp6MIxXV/ZJUtf735vofZDHX"
    "MYjSL/gUG6VUk2zqCk6K0+NCOsrxEh3leOE8Why8lVGvAS8MeH1oKB/96h4a4gI7q3E9SV"
    "kfCNzmA4FDi1p8vBKbU6Q1n7eZz/EoSEHTM05SH4h4+RCgwmsR3/oUYDKQGRerspHMtDdl"
    "Ee1Ln+7Dr7fExsK/AJcNdMapvopgnpj6MzIYM/YgkbYeiWO9FrbfvPquvermVYJtnZFyNa"
    "0zIuXBdM+PlMtzs+uPlJeKh/8ohxlf6abMD3+TCbZKedBCggpezCwSLoVSS+6sLYRLh5bD"
    "RWkPQZKqciGjo9NCgenTJYHp0wWkbbwC0AmiGuciOE8x5zMGu9AY83EZrBcIKxh5XkswVN"
    "3C10HHCd5RKLgHLtDVUbt01C7QSTkxHJLheciX5kXK6nlxjxpFQklQKn/9aCwEkmovbj76"
    "1fLiLvgoihjU8UdgVrcNUw/P7JgcFDKnw3PLq6NUsaPqazWb096GDAs6wyGRb0xne0MK3M"
    "90xYA9yQuIBptMbaJi28GxBn6B5KVGIV8Wot5DP/KaIVRJOfbC4Nh7AEhKzz848i457msp"
    "3NfTSp/Ka5jU/ylvU1ICQ0c2LDXqVSTU/NyG4j4kc8hgU8SJfP3Ie8BI3t+UFzYLPkT0Rf"
    "OrCjeNEX4kuqvugFHyJCBVkMlUlD+IX1+klHmbuEhZ8oTPaw72bNtCt5mTPf4cyNhLciU8"
    "TlIbFWmjIr2ylFRzM8grqOvuiG5bKKiZ3mXKcDtNW4evt5nTMf0hpQ8wZhNMs3kco0qxdw"
    "Bk65q8YcpmeXrZ7d4k2HnZTh/ovf902brdO1J8jG6gLy6kyjtb+mB1kqoKXpmNn66uXTQ/"
    "iIumfl2gfl1gmw7lbOnrAk3iWMZYy3rh2svZX/q4dVSmPjixsYV6zQcncsNxSy6C5kbiKu"
    "GeWEfoU06qEgj7xSuI7lru8kOLgtAMJS//QleMZPO3uf6ePf/N7m2ViIe9/Wb2/H+cO2HF"
)
