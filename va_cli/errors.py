"""Errors the CLI reports as one line on stderr, each with its own exit code."""

from __future__ import annotations

# Exit codes, documented in README ("Command line"); 2 is Click's usage error.
EXIT_ERROR = 1  # the server refused the request (4xx with a detail) or the task failed
EXIT_UNREACHABLE = 3  # no connection to the server
EXIT_NOT_FOUND = 4  # unknown task (or another user's)
EXIT_AUTH = 5  # not logged in, or the session expired and cannot be refreshed


class CliError(Exception):
    """A failure to show as `error: <message>` with `exit_code`; never a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
