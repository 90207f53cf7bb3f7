"""A thin typed client for Port's REST API: one access token, run logs, run updates, entities.

The access token is minted once per run (Port limits unauthenticated calls), checked to be usable
as a header, and handed to ``on_token`` at once, so the caller can mask it before anything is
printed. A 401 in the middle of a run mints a new token once and repeats the call. What an error
answer means is read by :mod:`escalator.clients.port_errors`. Every run log and status label is
made inert here (:func:`escalator.neutral.port_text`), whoever wrote it: one line, no controls.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from escalator.clients.answers import error_for
from escalator.clients.models import PortBlueprint, PortEntity
from escalator.clients.port_errors import ERROR_RULES, read_error
from escalator.errors import PortError, UnexpectedResponse
from escalator.http import Deadline, HttpResponse, Policy, Transport, parse_json_body
from escalator.neutral import port_text

__all__ = ["ERROR_RULES", "SERVICE", "PortClient", "read_error"]

SERVICE = "Port"
_TOKEN_PATH = "/v1/auth/access_token"  # noqa: S105  # a path, not a secret
#: A bearer token is visible ASCII (RFC 6750's b64token is narrower still).
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class PortClient:
    """Port API calls for one run, sharing one access token."""

    def __init__(
        self,
        transport: Transport,
        *,
        client_id: str,
        client_secret: str,
        on_token: Callable[[str], None] = lambda _token: None,
    ) -> None:
        self.transport = transport
        self._client_id = client_id
        self._client_secret = client_secret
        self._on_token = on_token
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self.tokens_minted = 0

    def __repr__(self) -> str:
        return f"PortClient({self.transport.base_url!r})"

    @classmethod
    def connect(
        cls,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        deadline: Deadline,
        on_token: Callable[[str], None] = lambda _token: None,
        environ: Mapping[str, str] | None = None,
    ) -> PortClient:
        """A client with its own pooled session for ``base_url`` (without ``/v1``); ``environ``:
        the network variables the face read (proxies, CA bundle)."""
        transport = Transport(
            SERVICE,
            base_url,
            headers={"Accept": "application/json"},
            deadline=deadline,
            hint_unreachable="Check {port_api_url} / {port_region} and {machine}'s network; "
            "against the sandbox, set {port_api_url} to the Port URL it prints "
            "(http://127.0.0.1:<port>/port).",
            environ=environ,
        )
        return cls(transport, client_id=client_id, client_secret=client_secret, on_token=on_token)

    def close(self) -> None:
        self.transport.close()

    # --- authentication ---------------------------------------------------------------------

    def authenticate(self) -> None:
        """Mint the run's access token, unless one is already held."""
        with self._token_lock:
            if self._token is None:
                self._mint()

    def _mint(self) -> None:
        response = self.transport.request(
            Policy.TOKEN,
            "POST",
            _TOKEN_PATH,
            json_body={"clientId": self._client_id, "clientSecret": self._client_secret},
            headers={"Content-Type": "application/json"},
        )
        if not response.ok:
            raise error_for(PortError, response, "POST", _TOKEN_PATH, read_error)
        body = parse_json_body(response, SERVICE, f"POST {_TOKEN_PATH}")
        token = body.get("accessToken")
        if not isinstance(token, str) or not token:
            raise UnexpectedResponse(SERVICE, f"POST {_TOKEN_PATH}: the answer has no accessToken.")
        if not _HEADER_SAFE.fullmatch(token):
            raise UnexpectedResponse(
                SERVICE,
                f"POST {_TOKEN_PATH}: the access token Port sent cannot be sent back in a header "
                "(it holds spaces, line breaks or characters beyond ASCII); nothing was sent "
                "with it.",
                hint="Check {port_api_url}: it must be Port's API (such as https://api.port.io), "
                "with nothing between that rewrites its answers.",
            )
        self._on_token(token)  # masked before it can ever be printed
        self._token = token
        self.tokens_minted += 1
        self.transport.set_header("Authorization", f"Bearer {token}")

    def _send(
        self,
        policy: Policy,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> HttpResponse:
        """An authenticated call; an error status becomes :class:`PortError`."""
        self.authenticate()
        headers = {"Content-Type": "application/json"} if json_body is not None else None
        token_used = self._token
        response = self.transport.request(
            policy, method, path, params=params, json_body=json_body, headers=headers
        )
        if response.status == 401:
            # The token expired or was revoked mid-run: mint a new one once and repeat.
            with self._token_lock:
                if self._token == token_used:
                    self._token = None
                    self._mint()
            response = self.transport.request(
                policy, method, path, params=params, json_body=json_body, headers=headers
            )
        if not response.ok:
            raise error_for(PortError, response, method, path, read_error)
        return response

    def _call(
        self,
        policy: Policy,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> dict[str, Any]:
        """An authenticated call whose answer must be a JSON object that does not say
        ``"ok": false``."""
        response = self._send(policy, method, path, params=params, json_body=json_body)
        if response.status == 204 or (response.body is None and response.body_error is None):
            return {}
        body = parse_json_body(response, SERVICE, f"{method} {path}")
        if body.get("ok") is False:
            said = body.get("message") or body.get("error") or ""
            raise UnexpectedResponse(
                SERVICE,
                f"{method} {path} answered {response.status} but says it failed (ok: false)"
                + (f": {str(said)[:300]}" if said else "."),
                hint="Port may be having trouble; try again later.",
            )
        return body

    # --- action runs --------------------------------------------------------------------------

    def add_run_log(self, run_id: str, message: str) -> None:
        """``POST /v1/actions/runs/{run_id}/logs`` with ``message`` made inert (one line, no
        controls, no legacy command). A 2xx status says Port stored it, whatever its body."""
        path = f"/v1/actions/runs/{_q(run_id)}/logs"
        self._send(Policy.RUN_LOG, "POST", path, json_body={"message": port_text(message)})

    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        status_label: str | None = None,
        link: str | list[str] | None = None,
    ) -> None:
        """``PATCH /v1/actions/runs/{run_id}``: only the keys given are sent (each overwrites).
        The status label is made inert. A 2xx status says Port applied it, whatever its body."""
        body: dict[str, Any] = {}
        if status:
            body["status"] = status
        if status_label:
            body["statusLabel"] = port_text(status_label)
        if link:
            body["link"] = link
        self._send(Policy.RUN_UPDATE, "PATCH", f"/v1/actions/runs/{_q(run_id)}", json_body=body)

    # --- catalog ------------------------------------------------------------------------------

    def get_blueprint(self, blueprint: str) -> PortBlueprint:
        """``GET /v1/blueprints/{blueprint}``."""
        path = f"/v1/blueprints/{_q(blueprint)}"
        body = self._call(Policy.READ, "GET", path)
        if "blueprint" not in body:
            raise UnexpectedResponse(SERVICE, f"GET {path}: the answer has no blueprint.")
        return PortBlueprint.from_api(body["blueprint"])

    def upsert_entity(
        self, blueprint: str, entity: PortEntity, *, run_id: str | None = None
    ) -> dict[str, Any]:
        """``POST /v1/blueprints/{bp}/entities?upsert=true&merge=true[&run_id=...]``."""
        params = {
            "upsert": "true",
            "merge": "true",
            "create_missing_related_entities": "true",
        }
        if run_id:
            params["run_id"] = run_id
        return self._call(
            Policy.UPSERT,
            "POST",
            f"/v1/blueprints/{_q(blueprint)}/entities",
            params=params,
            json_body=entity.model_dump(mode="json"),
        )

    def request(
        self, policy: Policy, method: str, path: str, *, json_body: Any = None
    ) -> dict[str, Any]:
        """Any other authenticated call (used by ``escalator port-setup``)."""
        return self._call(policy, method, path, json_body=json_body)


def _q(value: str) -> str:
    return quote(value, safe="")
