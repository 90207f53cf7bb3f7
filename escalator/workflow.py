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

from escalator import terms

#: Secrets shorter than this are not redacted by substring (it would garble ordinary text, such
#: as a token ``true`` in ``changed=true``); the runner masks them anyway through ``::add-mask::``.
MIN_REDACTED_LENGTH = 8


def escape_data(text: str) -> str:
    """Escape a workflow command's message (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def one_line(text: str) -> str:
    """Text from a service (anyone's words) made safe for one log line: no line breaks, no
    control characters, never read as a workflow command."""
    cleaned = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)
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
            with self._lock:
                self._secrets.append(line)
                self._secrets.sort(key=len, reverse=True)
            if self.github:
                self._write(f"::add-mask::{escape_data(line)}")

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``***``."""
        for secret in self._secrets:
            if len(secret) >= MIN_REDACTED_LENGTH:
                text = text.replace(secret, "***")
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
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
