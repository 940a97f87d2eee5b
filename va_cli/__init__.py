"""The `videoanalysis` command-line client: a thin, import-light HTTP client of the API.

It imports none of the server's packages (api, va_operator, inference_job, and of the core
only the dependency-free track field list), so the console script starts fast and installs on
a laptop that only talks to a remote server, with typer, rich and httpx alone.
"""
