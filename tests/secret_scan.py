"""The secret scan shared by the tests: what a run printed, wrote and sent, searched for any piece
of a credential, with escapes undone (Markdown's backslashes, HTML entities, percent-escapes).

A leak is any 8-character piece of a secret: a prefix or a fragment is as bad as the whole.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import unquote

from tests.e2e import REAL_SHAPED_CREDENTIALS, RunResult

PIECE = 8
INPUT_SECRETS = tuple(REAL_SHAPED_CREDENTIALS.values())
#: What a secret input shows as once redacted, and that again escaped for Markdown.
REDACTED = "***"
TOKEN_PREFIX = "sbx-port-at-"
TOKEN_PATH = "/port/v1/auth/access_token"


def pieces(secret: str) -> set[str]:
    """Every 8-character piece of ``secret`` (any longer prefix or fragment contains one)."""
    if len(secret) <= PIECE:
        return {secret}
    return {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}


def unescaped(text: str) -> str:
    """``text`` with its escapes undone: Markdown's (and JSON's) backslashes, HTML entities,
    workflow-command and URL percent-escapes."""
    return unquote(html.unescape(re.sub(r"\\(.)", r"\1", text)))


def leaks(secrets: list[str], places: dict[str, str]) -> list[str]:
    """Where a piece of a secret shows up, as written or unescaped, as ``place: piece`` lines
    (empty when none)."""
    readings = {place: (text, unescaped(text)) for place, text in places.items()}
    found = []
    for secret in secrets:
        for piece in pieces(secret):
            found += [
                f"{place}: {piece!r}"
                for place, texts in readings.items()
                if any(piece in text for text in texts)
            ]
    return sorted(found)


def captured(result: RunResult) -> dict[str, str]:
    """Everything a run shows the user, less the ``::add-mask::`` lines (made to hold secrets)."""
    shown = [line for line in result.lines if not line.startswith("::add-mask::")]
    return {
        "stdout": "\n".join(shown),
        "stderr": result.stderr,
        "outputs": result.outputs_text,
        "summary": result.summary,
    }


def service_side(journal: list[dict[str, Any]], state: dict[str, Any]) -> dict[str, str]:
    """What the action wrote to the services: request paths, queries and bodies (the token
    request's body is where the credentials belong), Port run logs, run fields and entities."""
    places: dict[str, str] = {}
    for entry in journal:
        where = f"journal {entry['seq']} {entry['method']} {entry['path']}"
        places[where + " path"] = entry["path"] + json.dumps(entry["query"])
        if entry["path"] != TOKEN_PATH:
            places[where + " body"] = json.dumps(entry["body"])
    port = state["port"]
    for run_id, logs in port["run_logs"].items():
        places[f"run {run_id} logs"] = "\n".join(log["message"] for log in logs)
    for run_id, run in port["runs"].items():
        fields = {key: run.get(key) for key in ("statusLabel", "link", "summary", "properties")}
        places[f"run {run_id}"] = json.dumps(fields)
    places["entities"] = json.dumps(port["entities"])
    places["incidents"] = json.dumps(state["pagerduty"]["incidents"])
    return places


def delivered_tokens(journal: list[dict[str, Any]]) -> int:
    """How many access tokens Port handed back whole (a dropped or broken answer hands none)."""
    return sum(
        1
        for entry in journal
        if entry["path"] == TOKEN_PATH
        and entry["status"] == 200
        and entry["fault"] in (None, "pass")
    )


def port_tokens(result: RunResult) -> list[str]:
    """The Port access tokens the run announced to the runner for masking."""
    return [value for value in result.masked if value.startswith(TOKEN_PREFIX)]
