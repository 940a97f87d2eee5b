"""`python -m va_cli`: the same as the `videoanalysis` console script."""

from va_cli.main import app

app(prog_name="videoanalysis")
