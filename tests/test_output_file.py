"""The step outputs file: what OutputWriter writes, read back by the runner's rules, strictly."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalator.step_files import OutputFileError, OutputWriter, read_outputs
from escalator.terms import ACTION
from escalator.workflow import Console

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,12}", fullmatch=True)
VALUES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r"), max_size=60)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(NAMES, VALUES, max_size=5))
def test_what_the_writer_writes_reads_back_the_same(outputs: dict[str, str]) -> None:
    """Any names and values (line breaks, '=', '<<' included) written by OutputWriter read back
    exactly."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "github_output"
        writer = OutputWriter(path, Console(io.StringIO(), github=True, terms=ACTION))
        for name, value in outputs.items():
            writer.set(name, value, redact=False)
        text = path.read_text(encoding="utf-8") if outputs else ""
    assert read_outputs(text) == outputs


def test_the_writers_file_reads_back(tmp_path: Path) -> None:
    """A file OutputWriter appended to, value with line breaks included, reads back whole."""
    path = tmp_path / "github_output"
    writer = OutputWriter(path, Console(io.StringIO(), github=True, terms=ACTION))
    writer.set("changed", "true", redact=False)
    writer.set("incident", '{"title": "a\nb=c\nd<<e"}')
    assert read_outputs(path.read_text(encoding="utf-8")) == {
        "changed": "true",
        "incident": '{"title": "a\nb=c\nd<<e"}',
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a=1\nb=x=y\n", {"a": "1", "b": "x=y"}),
        ("a=1<<EOF\n", {"a": "1<<EOF"}),  # '=' first: a plain value
        ("a<<E=F\nv\nE=F\n", {"a": "v"}),  # '<<' first: a heredoc
        ("a<<EOF\n\nEOF\n", {"a": ""}),
        ("a<<EOF\nEOF\n", {"a": ""}),
        ("\na=1\n\n", {"a": "1"}),  # empty lines between outputs are skipped, as the runner does
        ("a<<EOF\r\nx\r\nEOF\r\n", {"a": "x"}),
        ("a<<EOF\nx\nEOF", {"a": "x"}),  # the closing line may end the file
        ("", {}),
    ],
)
def test_reads_what_the_runner_reads(text: str, expected: dict[str, str]) -> None:
    """name=value lines and name<<DELIMITER heredocs give the values the runner gives."""
    assert read_outputs(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a<<EOF\nvalue\n", "no closing delimiter"),
        ("a<<EOF\nvalue\nEOF \n", "holds its delimiter"),
        ("a=1\njust some text\n", "neither name=value nor name<<DELIMITER"),
        ("a=1\na=2\n", "set twice"),
        ("a<<X\n1\nX\na=2\n", "set twice"),
        ("=1\n", "is not an output name"),
        ("1a=1\n", "is not an output name"),
        ("<<EOF\nx\nEOF\n", "is not an output name"),
        ("a<<\nx\n", "empty delimiter"),
        ("a<<EOF\nbefore EOF after\nEOF\n", "holds its delimiter"),
        ("a<<EOF\nx\nEOF\nleft over\n", "neither name=value"),
    ],
)
def test_rejects_what_the_runner_rejects_or_misreads(text: str, reason: str) -> None:
    """A heredoc never closed, garbage, a duplicate, a bad name or a value holding its delimiter
    is an error, never skipped."""
    with pytest.raises(OutputFileError, match=reason):
        read_outputs(text)
