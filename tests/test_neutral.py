"""The neutralisation every operation's shown text goes through (job log, Port run logs)."""

from __future__ import annotations

import pytest

from escalator.neutral import inert, port_text


@pytest.mark.parametrize(
    "text",
    ["a ##[stop-commands]x", "###[error]x", "##[##[warning]x", "#\u00b7##[x]"],
)
def test_inert_text_never_holds_the_legacy_command_opener(text: str) -> None:
    """However ``##[`` is repeated or nested in a text, none is left after ``inert``."""
    assert "##[" not in inert(text)


def test_inert_text_has_no_control_or_bidi_character() -> None:
    """ESC, CSI (``\\x9b``), DEL, line breaks and every bidi override or isolate become spaces."""
    text = "a\x1b[2Jb\x9bc\x7fd\r\ne\u202af\u202eg\u2066h\u2069i"
    assert inert(text) == "a [2Jb c d  e f g h i"


def test_port_text_is_one_line() -> None:
    """A multi-line text sent to a Port run log keeps its lines, joined on one."""
    assert port_text("first\n\nsecond\r\nthird ##[x]") == "first / second / third #\u00b7#[x]"
