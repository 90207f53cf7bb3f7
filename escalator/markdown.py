"""Markdown made inert: any text from a service or a user as a table cell, code or a link."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")
#: html.escape(text, quote=False) without importing html (and its entity tables) at start-up
_HTML_SPECIAL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def md(text: object) -> str:
    """Any text made inert in a Markdown table cell: no HTML, no markup, one line."""
    flat = " ".join(str(text).split())
    # quotes stay as they are: a cell is no attribute, and &#x27; would show as written
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat.translate(_HTML_SPECIAL))


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
