"""The one rule for text stored as given: valid Unicode, and no control characters where printable."""

from __future__ import annotations

import pytest

from videoanalysis.text import printable, valid_unicode


@pytest.mark.parametrize("text", ["", "Zoë", "face\u200b", "🙂 tab-free"])
def test_ordinary_text_passes_both_checks(text: str) -> None:
    assert printable(text) == valid_unicode(text) == text


@pytest.mark.parametrize("text", ["a\x00b", "line\nbreak", "tab\t", "del\x7f"])
def test_control_characters_are_refused_where_text_must_be_printable(text: str) -> None:
    assert valid_unicode(text) == text  # a password may hold them
    with pytest.raises(ValueError, match="control characters"):
        printable(text)


def test_a_lone_surrogate_is_refused_by_both() -> None:
    for check in (valid_unicode, printable):
        with pytest.raises(ValueError, match="lone surrogate"):
            check("pw\ud800pw")
