"""The fake PagerDuty services and their integrations: list, read, create, add an Events API v2
integration (which gets the ``integration_key`` events are sent with).

Names are unique in an account, ignoring case: a second ``POST /services`` with a taken name
answers 400 ``Name has already been taken``. ``query`` matches a substring of the name
(ignoring case); ``name`` matches it exactly.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from typing import Any

from escalator.sandbox.listing import includes, page, reference
from escalator.sandbox.pagerduty_errors import fail, invalid
from escalator.sandbox.wire import Reply, Request, new_id, now_iso

State = dict[str, Any]
Route = Callable[[Request, list[str]], Reply]

EVENTS_V2 = "events_api_v2_inbound_integration"
NAME_TAKEN = "Name has already been taken"
MAX_NAME = 255
#: The Events API v2 integrations of the seed: service id, integration id, routing key.
SEEDED_INTEGRATIONS = [
    ("PSVCPAY", "PINTPAY", "a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b"),
    ("PSVCPLT", "PINTPLT", "c7d2e8f14a9b4c3d8e7f6a5b4c3d2e1f"),
]
#: Internal fields of a stored integration, never answered.
INTERNAL = ("service_id",)


def add_integration(
    pd: State, service: dict[str, Any], integration_id: str, key: str, name: str, at: str
) -> dict[str, Any]:
    """Store an Events API v2 integration on ``service`` and return it (as stored)."""
    base = service["self"].rsplit("/services/", 1)[0]
    web = service["html_url"].rsplit("/services/", 1)[0]
    integration = {
        "id": integration_id,
        "type": EVENTS_V2,
        "summary": name,
        "self": f"{base}/services/{service['id']}/integrations/{integration_id}",
        "html_url": f"{web}/services/{service['id']}/integrations/{integration_id}",
        "name": name,
        "service": reference(service),
        "created_at": at,
        "integration_key": key,
        "service_id": service["id"],
    }
    pd["integrations"][integration_id] = integration
    service["integrations"].append(
        {k: integration[k] for k in ("id", "summary", "self", "html_url")}
        | {"type": "events_api_v2_inbound_integration_reference"}
    )
    return integration


def seed_integrations(pd: State) -> None:
    """Give the seeded services their Events API v2 integrations."""
    pd["integrations"] = {}
    for service_id, integration_id, key in SEEDED_INTEGRATIONS:
        service = pd["services"][service_id]
        add_integration(pd, service, integration_id, key, "Events API V2", service["created_at"])


def public(integration: dict[str, Any]) -> dict[str, Any]:
    """An integration as answered, without internal fields."""
    return {k: copy.deepcopy(v) for k, v in integration.items() if k not in INTERNAL}


class Services:
    """Serves ``/services`` and ``/services/{id}/integrations`` against the account."""

    def __init__(self, state: Callable[[], State]) -> None:
        """Read the account from ``state()`` at each request."""
        self._state = state

    @property
    def pd(self) -> State:
        """The PagerDuty part of the current state."""
        return self._state()["pagerduty"]  # type: ignore[no-any-return]

    def routes(self) -> list[tuple[str, str, Route]]:
        """The (method, path pattern, handler) of every route served here."""
        return [
            ("GET", r"/services", self._list_services),
            ("POST", r"/services", self._create_service),
            ("GET", r"/services/([^/]+)", self._get_service),
            ("POST", r"/services/([^/]+)/integrations", self._create_integration),
            ("GET", r"/services/([^/]+)/integrations/([^/]+)", self._get_integration),
        ]

    def _render(self, service: dict[str, Any], request: Request) -> dict[str, Any]:
        """A service as answered; ``include[]=integrations`` gives full integrations."""
        rendered = copy.deepcopy(service)
        if "integrations" in includes(request):
            rendered["integrations"] = [
                public(self.pd["integrations"][i["id"]]) for i in service["integrations"]
            ]
        return rendered

    def _service(self, service_id: str) -> dict[str, Any]:
        """Return a service by id, or raise 404."""
        service = self.pd["services"].get(service_id)
        if service is None:
            raise fail(404, "Service Not Found", 2100, [f"Service {service_id} not found."])
        return service  # type: ignore[no-any-return]

    def _list_services(self, request: Request, args: list[str]) -> Reply:
        """``GET /services``: sorted by name; ``query`` a substring, ``name`` the exact name."""
        query = request.query.get("query", [""])[-1].lower()
        exact = request.query.get("name", [None])[-1]
        found = [
            self._render(service, request)
            for service in sorted(self.pd["services"].values(), key=lambda s: s["name"].lower())
            if query in service["name"].lower() and (exact is None or service["name"] == exact)
        ]
        return page(request, "services", found)

    def _get_service(self, request: Request, args: list[str]) -> Reply:
        """``GET /services/{id}``: one service (``include[]=integrations``: in full)."""
        return Reply(200, {"service": self._render(self._service(args[0]), request)})

    def _create_service(self, request: Request, args: list[str]) -> Reply:
        """``POST /services``: 201 a new active service; 400 a taken name (ignoring case), a
        name too long or missing, an unknown escalation policy."""
        body = request.body if isinstance(request.body, dict) else {}
        data = body.get("service")
        if not isinstance(data, dict):
            raise invalid("service must be an object.")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("Name can't be blank")
        if len(name) > MAX_NAME:
            raise invalid(f"Name is too long (maximum is {MAX_NAME} characters)")
        if any(s["name"].lower() == name.lower() for s in self.pd["services"].values()):
            raise invalid(NAME_TAKEN)
        policy_ref = data.get("escalation_policy")
        policy_id = policy_ref.get("id") if isinstance(policy_ref, dict) else None
        policy = self.pd["escalation_policies"].get(policy_id)
        if policy is None:
            raise invalid("Escalation policy can't be blank or does not exist")
        service = self._new_service(data, name, policy)
        return Reply(201, {"service": copy.deepcopy(service)}, applied=True)

    def _new_service(
        self, data: dict[str, Any], name: str, policy: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a new service: what the request left out takes PagerDuty's POST defaults
        (no acknowledgement timeout, no auto-resolve)."""
        policy_ref = reference(policy)
        base = policy["self"].rsplit("/escalation_policies/", 1)[0]
        web = policy["html_url"].rsplit("/escalation_policies/", 1)[0]
        service_id = new_id("P", 7)
        service = {
            "id": service_id,
            "type": "service",
            "summary": name,
            "self": f"{base}/services/{service_id}",
            "html_url": f"{web}/services/{service_id}",
            "name": name,
            "description": data.get("description"),
            "status": "active",
            "auto_resolve_timeout": data.get("auto_resolve_timeout"),
            "acknowledgement_timeout": data.get("acknowledgement_timeout"),
            "created_at": now_iso(),
            "alert_creation": data.get("alert_creation", "create_alerts_and_incidents"),
            "escalation_policy": policy_ref,
            "teams": [],
            "integrations": [],
            "incident_urgency_rule": {"type": "constant", "urgency": "high"},
        }
        self.pd["services"][service_id] = service
        policy["services"].append(reference(service))
        return service

    def _create_integration(self, request: Request, args: list[str]) -> Reply:
        """``POST /services/{id}/integrations``: 201; an Events API v2 integration gets its
        32-character ``integration_key`` (names need not be unique: each POST adds one)."""
        service = self._service(args[0])
        body = request.body if isinstance(request.body, dict) else {}
        data = body.get("integration")
        if not isinstance(data, dict) or data.get("type") != EVENTS_V2:
            raise invalid(f"integration must be an object of type {EVENTS_V2}.")
        name = data.get("name") or "Events API V2"
        integration = add_integration(
            self.pd, service, new_id("P", 7), secrets.token_hex(16), str(name), now_iso()
        )
        return Reply(201, {"integration": public(integration)}, applied=True)

    def _get_integration(self, request: Request, args: list[str]) -> Reply:
        """``GET /services/{id}/integrations/{integration_id}``: one integration, with its key."""
        service = self._service(args[0])
        integration = self.pd["integrations"].get(args[1])
        if integration is None or integration["service_id"] != service["id"]:
            raise fail(404, "Integration Not Found", 2100, [f"Integration {args[1]} not found."])
        return Reply(200, {"integration": public(integration)})
