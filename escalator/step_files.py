"""The GitHub runner's step files: ``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY``.

Outputs leave through :class:`OutputWriter` with a random delimiter per value, so no value can
forge another output; :func:`read_outputs` reads that file back by the runner's rules. Every text
goes through the :class:`~escalator.workflow.Console`'s redaction first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Mapping
from pathlib import Path

from escalator.workflow import Console

_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class OutputWriter:
    """Appends step outputs to ``$GITHUB_OUTPUT`` with a fresh random delimiter per value."""

    def __init__(self, path: Path | None, console: Console) -> None:
        self.path = path
        self.console = console
        self.written: dict[str, str] = {}

    def set(self, name: str, value: str, *, redact: bool = True) -> None:
        """Write one output; ``redact`` False for values from a closed set (no secret fits)."""
        if not _OUTPUT_NAME.fullmatch(name):
            raise ValueError(f"invalid output name {name!r}")
        if redact:
            value = self.console.redact(value)
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter in name or delimiter in value:  # cannot happen by chance; refuse if crafted
            raise ValueError(f"output {name} contains its delimiter")
        self.written[name] = value
        if self.path is None:
            return
        with self.path.open("a", encoding="utf-8") as file:
            file.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def set_all(self, values: Mapping[str, str], *, plain: Collection[str]) -> None:
        """Write each output, redacted unless its name is in ``plain``."""
        for name, value in values.items():
            self.set(name, value, redact=name not in plain)


class OutputFileError(ValueError):
    """A ``GITHUB_OUTPUT`` file the runner would reject, or that does not say what was meant."""


def read_outputs(text: str) -> dict[str, str]:
    """The step outputs in a ``GITHUB_OUTPUT`` file, read by the runner's rules, strictly.

    Lines are ``name=value`` or a ``name<<DELIMITER`` heredoc closed by a line that is exactly the
    delimiter; empty lines between them are skipped, as the runner skips them. Anything else
    raises :class:`OutputFileError`: a heredoc never closed, a line that is neither form, an
    invalid name, an output set twice, a value line that holds its delimiter.
    """
    outputs: dict[str, str] = {}
    lines = re.split(r"\r?\n", text)
    index = 0
    while index < len(lines):
        line, number = lines[index], index + 1
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line[:equals], line[equals + 1 :]
        elif heredoc >= 0:
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not delimiter:
                raise OutputFileError(f"line {number}: output {name!r} has an empty delimiter")
            value, index = _heredoc(lines, index, name, delimiter)
        else:
            raise OutputFileError(f"line {number} is neither name=value nor name<<DELIMITER")
        if not _OUTPUT_NAME.fullmatch(name):
            raise OutputFileError(f"line {number}: {name!r} is not an output name")
        if name in outputs:
            raise OutputFileError(f"line {number}: output {name!r} is set twice")
        outputs[name] = value
    return outputs


def _heredoc(lines: list[str], start: int, name: str, delimiter: str) -> tuple[str, int]:
    """The value of a heredoc whose lines begin at ``start``, and the index after its end."""
    for index in range(start, len(lines)):
        if lines[index] == delimiter:
            return "\n".join(lines[start:index]), index + 1
        if delimiter in lines[index]:
            raise OutputFileError(f"output {name!r}: line {index + 1} holds its delimiter")
    raise OutputFileError(f"output {name!r}: no closing delimiter {delimiter!r}")


class SummaryWriter:
    """Appends GitHub-flavoured Markdown to ``$GITHUB_STEP_SUMMARY`` (1 MiB per step)."""

    LIMIT = 1024 * 1024

    def __init__(self, path: Path | None, console: Console) -> None:
        self.path = path
        self.console = console
        self.text = ""

    def append(self, markdown: str) -> None:
        """Append ``markdown`` (redacted and escaped by its maker), cut at GitHub's limit: the
        start, where the result and any error stand, is kept."""
        markdown = self.console.redact(markdown)
        room = self.LIMIT - len(self.text.encode("utf-8"))
        if len(markdown.encode("utf-8")) > room:
            note = "\n\n_(summary cut: over GitHub's 1 MiB limit)_\n"
            keep = max(0, room - len(note.encode("utf-8")))
            cut = markdown.encode("utf-8")[:keep].decode("utf-8", "ignore")
            markdown = cut[: cut.rfind("\n") + 1] + note if keep else ""
        self.text += markdown
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(markdown)
