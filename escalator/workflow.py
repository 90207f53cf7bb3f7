"""The GitHub runner's console: workflow commands, masking, and the job log.

Everything the action prints goes through :class:`Console`, which redacts every registered secret
(after ``::add-mask::`` has told the runner to do the same) and neutralises text that could be
read as a workflow command. The step outputs and the job summary are written by
:mod:`escalator.step_files`; Markdown is made safe by :mod:`escalator.markdown`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

from escalator.neutral import inert
from escalator.terms import Terms

#: Secrets shorter than this are not redacted by substring (it would garble ordinary text, such
#: as a token ``true`` in ``changed=true``); the runner masks them anyway through ``::add-mask::``.
MIN_REDACTED_LENGTH = 8
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


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
    """Where the action talks to the user: the job log on GitHub, a terminal elsewhere.

    ``terms`` are the face's (:mod:`escalator.terms`): every text printed here has its input
    placeholders rendered in them; an error is passed as ``error.render(console.terms)``.
    """

    def __init__(self, stream: TextIO | None = None, *, github: bool = True, terms: Terms) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.github = github
        self._terms = terms
        self._secrets: list[str] = []
        #: every run of MIN_REDACTED_LENGTH characters of a secret, ASCII lower-cased
        self._pieces: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    @property
    def terms(self) -> Terms:
        """The face's terms, fixed when the console was built."""
        return self._terms

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
        for line in self.redact(self.terms.render(text)).splitlines() or [""]:
            self._write(one_line(line))

    def notice(self, text: str, *, title: str = "") -> None:
        self._annotate("notice", text, title)

    def warning(self, text: str, *, title: str = "") -> None:
        self._annotate("warning", text, title)

    def error(self, text: str, *, title: str = "") -> None:
        self._annotate("error", text, title)

    def _annotate(self, level: str, text: str, title: str) -> None:
        text = self.redact(self.terms.render(text))
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
        title = one_line(self.redact(self.terms.render(title)))
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
