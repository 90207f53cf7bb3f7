"""The GitHub runner's side: workflow commands, masking, step outputs and the job summary.

Everything the action prints goes through :class:`Console`, which redacts every registered secret
(after ``::add-mask::`` has told the runner to do the same) and neutralises text that could be
read as a workflow command. Outputs leave through :class:`OutputWriter` with a random delimiter
per value, so no value can forge another output; :func:`read_outputs` reads that file back by the
runner's rules.
"""

from __future__ import annotations

import contextlib
import html
import re
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, urlsplit

from escalator import terms
from escalator.neutral import inert

#: Secrets shorter than this are not redacted by substring (it would garble ordinary text, such
#: as a token ``true`` in ``changed=true``); the runner masks them anyway through ``::add-mask::``.
MIN_REDACTED_LENGTH = 8
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def escape_data(text: str) -> str:
    """Escape a workflow command's message (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def one_line(text: str) -> str:
    """Text from a service (anyone's words) made safe for one log line: no line breaks, no
    control characters, never read as a workflow command."""
    cleaned = inert(text)
    stripped = cleaned.lstrip()
    if stripped.startswith(("::", "##[")):
        cleaned = "\u00b7" + stripped  # a visible dot: the runner reads commands only at the start
    return cleaned


class Console:
    """Where the action talks to the user: the job log on GitHub, a terminal elsewhere."""

    def __init__(self, stream: TextIO | None = None, *, github: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.github = github
        self._secrets: list[str] = []
        #: every run of MIN_REDACTED_LENGTH characters of a secret, ASCII lower-cased
        self._pieces: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    # --- secrets ------------------------------------------------------------------------------

    def add_secret(self, value: str | None) -> None:
        """Mask ``value`` from now on: in the runner's log and in everything printed here."""
        if not value:
            return
        for line in value.splitlines() or [value]:
            line = line.strip()
            if not line or line in self._secrets:
                continue
            folded, width = line.translate(_ASCII_LOWER), MIN_REDACTED_LENGTH
            with self._lock:
                self._secrets.append(line)
                self._secrets.sort(key=len, reverse=True)
                self._pieces |= {folded[i : i + width] for i in range(len(folded) - width + 1)}
            if self.github:
                self._write(f"::add-mask::{escape_data(line)}")

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``***``: in any ASCII letter case,
        and any piece of one at least :data:`MIN_REDACTED_LENGTH` long (a secret echoed cut)."""
        with self._lock:
            pieces = self._pieces
        if not pieces:
            return text
        folded = text.translate(_ASCII_LOWER)
        width = MIN_REDACTED_LENGTH
        spans: list[list[int]] = []
        for start in range(len(text) - width + 1):
            if folded[start : start + width] in pieces:
                if spans and start <= spans[-1][1]:
                    spans[-1][1] = start + width
                else:
                    spans.append([start, start + width])
        for start, end in reversed(spans):
            text = text[:start] + "***" + text[end:]
        return text

    # --- messages -----------------------------------------------------------------------------

    def info(self, text: str) -> None:
        for line in self.redact(terms.render(text)).splitlines() or [""]:
            self._write(one_line(line))

    def notice(self, text: str, *, title: str = "") -> None:
        self._annotate("notice", text, title)

    def warning(self, text: str, *, title: str = "") -> None:
        self._annotate("warning", text, title)

    def error(self, text: str, *, title: str = "") -> None:
        self._annotate("error", text, title)

    def _annotate(self, level: str, text: str, title: str) -> None:
        text = self.redact(terms.render(text))
        title = self.redact(title)
        if self.github:
            props = f" title={escape_property(title)}" if title else ""
            self._write(f"::{level}{props}::{escape_data(text)}")
        else:
            head = f"{level}: {title}: " if title else f"{level}: "
            for index, line in enumerate(text.splitlines() or [""]):
                # continuation lines ("How to fix: ...") start at the margin, indented a little
                self._write(one_line((head if index == 0 else "  ") + line))

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible group in the job log (a heading elsewhere)."""
        title = one_line(self.redact(terms.render(title)))
        self._write(f"::group::{title}" if self.github else f"== {title}")
        try:
            yield
        finally:
            if self.github:
                self._write("::endgroup::")

    def _write(self, line: str) -> None:
        """The one place text reaches the stream: made inert here whoever built the line."""
        line = inert(line)
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


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


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")


def md(text: object) -> str:
    """Any text made inert in a Markdown table cell: no HTML, no markup, one line."""
    flat = " ".join(str(text).split())
    # quotes stay as they are: a cell is no attribute, and &#x27; would show as written
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def md_code(text: object) -> str:
    """Text shown as inline code: Markdown escapes do not work there, so backticks are dropped."""
    flat = " ".join(str(text).replace("`", "'").split())
    return f"`{flat}`"


def md_link(text: object, url: str | None) -> str:
    """A Markdown link to an http(s) URL, or the bare text when the URL is not one."""
    if not url:
        return md(text)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return md(text)
    safe_url = quote(url, safe=":/?&=#%~.,;@+-_!$'*")
    safe_url = safe_url.replace("(", "%28").replace(")", "%29")
    return f"[{md(text)}]({safe_url})"
