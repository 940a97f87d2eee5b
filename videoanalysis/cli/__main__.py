"""`python -m videoanalysis.cli`: the same as the `videoanalysis` console script."""

from videoanalysis.cli.main import app

app(prog_name="videoanalysis")
