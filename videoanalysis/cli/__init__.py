"""The `videoanalysis` command-line client: a thin, import-light HTTP client of the API.

Nothing here imports torch, Tortoise or the API package, so the console script starts fast
and can be installed on a laptop that only talks to a remote server.
"""
