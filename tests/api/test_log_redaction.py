"""Tokens in a query string never reach the access log."""

from __future__ import annotations

import logging

from api.viewer.access import RedactQueryTokens


def test_access_log_line_has_query_tokens_redacted():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", "/tasks/t/video?viewer_token=eyJ.secret.sig&boxes=false&access_token=eyJ.a.b", "1.1", 200),
        None,
    )
    RedactQueryTokens().filter(record)
    line = record.getMessage()
    assert "secret" not in line and "eyJ" not in line
    assert "viewer_token=REDACTED&boxes=false&access_token=REDACTED" in line
