"""Anyone's words made inert before they are shown: in the job log and in Port's run logs.

Text from PagerDuty (titles, names, notes) and from inputs reaches places that read more into it
than words: the runner obeys ``##[command]`` anywhere in a line, a terminal obeys ESC and CSI
sequences, bidi controls reorder what a reader sees, and a raw line break forges a log line.
Two places apply them, whoever wrote the text: the console's one write to the job log
(:func:`inert`, :mod:`escalator.workflow`) and the Port client's run log and run update
(:func:`port_text`, :mod:`escalator.clients.port`).
"""

from __future__ import annotations

import re

#: The runner obeys its legacy ``##[command]`` syntax anywhere in a line, not only at its start.
LEGACY_COMMAND = "##["
#: C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates: none is shown as is.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """``text`` on one line, inert: every control character (C0 with CR and LF, DEL, C1 such as
    CSI ``\\x9b``) and bidi control becomes a space, and ``##[`` is split by a visible dot."""
    cleaned = _UNSAFE.sub(" ", text)
    while LEGACY_COMMAND in cleaned:
        cleaned = cleaned.replace(LEGACY_COMMAND, "#\u00b7#[")
    return cleaned


def port_text(text: str) -> str:
    """``text`` for a Port run log or status label: lines joined with `` / ``, then inert."""
    lines = [line.strip() for line in text.splitlines()]
    return inert(" / ".join(line for line in lines if line))
