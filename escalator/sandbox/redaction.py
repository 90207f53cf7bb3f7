"""What the sandbox's journal hides: the secret part of ``Authorization`` and secret body fields."""

from __future__ import annotations

from escalator.sandbox.wire import JSON

#: Body fields whose values are secrets: Port's client secret, PagerDuty's integration keys.
SECRET_FIELDS = frozenset({"clientSecret", "routing_key", "integration_key"})


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Return headers with the secret part of ``Authorization`` replaced by ``***``."""
    redacted = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0]
            if value.startswith("Token token="):
                value = "Token token=***"
            elif scheme.lower() == "bearer":
                value = f"{scheme} ***"
            else:
                value = "***"
        redacted[name] = value
    return redacted


def redact_body(body: JSON) -> JSON:
    """Return a body with every secret (``clientSecret``, ``routing_key``, ``integration_key``)
    replaced by ``***``."""
    if isinstance(body, dict):
        return {k: "***" if k in SECRET_FIELDS else redact_body(v) for k, v in body.items()}
    if isinstance(body, list):
        return [redact_body(item) for item in body]
    return body
