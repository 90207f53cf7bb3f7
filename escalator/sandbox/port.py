"""The fake Port REST API: access tokens, blueprints, entities, actions, runs and run logs.

Error bodies are Port's ``{"ok": false, "error": "<code>", "message": "..."}``.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import Any

from escalator.sandbox.pagerduty import RateLimiter
from escalator.sandbox.seed import CLIENTS, PORT_CLIENT_ID, State, new_run
from escalator.sandbox.wire import ApiError, Reply, Request, now_iso_millis

MAX_BODY = 1024 * 1024
TOKEN_LIFETIME = 10800
IDENTIFIER = re.compile(r"^(?!\.{1,2}$)[\w@.+:\\/=-]+$")
FINAL_STATUSES = {"SUCCESS", "FAILURE"}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def access_token() -> str:
    """A fresh access token shaped like Port's (a JWT: base64url parts joined by dots), with
    ``+``, ``/`` and ``=`` as well, the characters other services' tokens hold."""
    parts = [secrets.token_urlsafe(n) for n in (12, 24, 9, 6)]
    return f"sbx-port-at-{parts[0]}.{parts[1]}_{parts[2]}+{parts[3]}/x=="


def error_body(error: str, message: str) -> dict[str, Any]:
    """Return Port's error body."""
    return {"ok": False, "error": error, "message": message}


def fail(status: int, error: str, message: str) -> ApiError:
    """Return an :class:`ApiError` carrying Port's error body."""
    return ApiError(status, error_body(error, message))


DEFAULT_ERRORS = {
    400: "bad_request",
    401: "unauthorized",
    403: "missing_permissions",
    404: "not_found",
    409: "identifier_taken",
    413: "payload_too_large",
    422: "invalid_request",
    429: "rate_limited",
}


def default_error(status: int) -> dict[str, Any]:
    """Return Port's error body for a bare ``status``."""
    error = DEFAULT_ERRORS.get(status, "internal_error")
    return error_body(error, f"The request failed with status {status} ({error}).")


def value_problem(name: str, spec: dict[str, Any], value: Any) -> str | None:
    """Return why ``value`` breaks property ``name``'s type, enum or format, or None."""
    if value is None:
        return None
    kind = spec.get("type", "string")
    types = _TYPES.get(kind, (object,))
    if not isinstance(value, types) or (kind == "number" and isinstance(value, bool)):
        return f'property "{name}" must be of type {kind}, got {type(value).__name__}'
    if "enum" in spec and value not in spec["enum"]:
        return f'property "{name}" must be one of {spec["enum"]}, got {value!r}'
    if isinstance(value, list) and isinstance(spec.get("items"), dict):
        for index, item in enumerate(value):
            problem = value_problem(f"{name}[{index}]", spec["items"], item)
            if problem:
                return problem
    fmt = spec.get("format")
    if isinstance(value, str) and fmt and not _format_ok(fmt, value):
        return f'property "{name}" must match format "{fmt}", got {value!r}'
    return None


def _format_ok(fmt: str, value: str) -> bool:
    """Return whether a string matches one of the formats Port checks."""
    if fmt == "date-time":
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return "T" in value
    if fmt == "url":
        return re.match(r"^https?://[^\s/]+", value) is not None
    if fmt in {"email", "user"}:
        return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None
    return True


Route = Callable[[Request, list[str]], Reply]


class PortApi:
    """Serves Port requests against ``state["port"]``."""

    def __init__(
        self, state: Callable[[], State], rate_limit: int | None = None, rate_window: float = 60.0
    ) -> None:
        """Read the organisation from ``state()`` at each request; answer 429 past
        ``rate_limit`` requests per ``rate_window`` seconds (None: no limit)."""
        self._state = state
        self.rate_limiter = RateLimiter(rate_limit, window=rate_window)
        anon: list[tuple[str, str, Route]] = [("POST", r"/v1/auth/access_token", self._token)]
        authed: list[tuple[str, str, Route]] = [
            ("GET", r"/v1/actions", self._list_actions),
            ("POST", r"/v1/actions", self._create_action),
            ("GET", r"/v1/actions/runs/([^/]+)", self._get_run),
            ("PATCH", r"/v1/actions/runs/([^/]+)", self._patch_run),
            ("POST", r"/v1/actions/runs/([^/]+)/logs", self._add_log),
            ("GET", r"/v1/actions/runs/([^/]+)/logs", self._list_logs),
            ("GET", r"/v1/actions/([^/]+)", self._get_action),
            ("PUT", r"/v1/actions/([^/]+)", self._put_action),
            ("POST", r"/v1/actions/([^/]+)/runs", self._create_run),
            ("GET", r"/v1/blueprints", self._list_blueprints),
            ("POST", r"/v1/blueprints", self._create_blueprint),
            ("GET", r"/v1/blueprints/([^/]+)", self._get_blueprint),
            ("PUT", r"/v1/blueprints/([^/]+)", self._put_blueprint),
            ("PATCH", r"/v1/blueprints/([^/]+)", self._patch_blueprint),
            ("POST", r"/v1/blueprints/([^/]+)/entities", self._upsert_entity),
            ("GET", r"/v1/blueprints/([^/]+)/entities/([^/]+)", self._get_entity),
        ]
        self._routes = [(m, re.compile(p), r, False) for m, p, r in anon] + [
            (m, re.compile(p), r, True) for m, p, r in authed
        ]

    @property
    def port(self) -> State:
        """The Port part of the current state."""
        return self._state()["port"]  # type: ignore[no-any-return]

    def handle(self, request: Request) -> Reply:
        """Answer one request: rate limit, size limit, bearer token, route."""
        try:
            self._take_rate()
            if len(request.raw_body) > MAX_BODY:
                raise fail(413, "payload_too_large", "Request body is too large (limit is 1MiB)")
            for method, pattern, route, needs_token in self._routes:
                match = pattern.fullmatch(request.path)
                if match and method == request.method:
                    if needs_token:
                        self._authenticate(request)
                    if not request.body_is_json:
                        raise fail(400, "bad_request", "The request body is not valid JSON")
                    return route(request, list(match.groups()))
            raise fail(404, "not_found", f"Route {request.method}:{request.path} not found")
        except ApiError as exc:
            return Reply(exc.status, exc.body, dict(exc.headers))

    def _take_rate(self) -> None:
        """Count the request against the organisation's limit: past it, 429 with the wait."""
        allowed, headers = self.rate_limiter.take("")
        if not allowed:
            reset = headers["ratelimit-reset"]
            raise ApiError(
                429,
                error_body("rate_limited", "Too many requests: retry after Retry-After seconds"),
                {"Retry-After": reset, "x-ratelimit-reset": reset},
            )

    def _authenticate(self, request: Request) -> None:
        """Require ``Authorization: Bearer <token>`` with a token this sandbox issued."""
        value = request.header("Authorization") or ""
        token = value[len("Bearer ") :].strip() if value.startswith("Bearer ") else ""
        if token not in self.port["access_tokens"]:
            raise fail(401, "unauthorized", "A valid access token is required")

    @staticmethod
    def _object(request: Request) -> dict[str, Any]:
        """Return the JSON body as an object, or raise 422 ``invalid_request``."""
        if not isinstance(request.body, dict):
            raise fail(422, "invalid_request", "body must be object")
        return request.body

    # -- auth --------------------------------------------------------------------------------

    def _token(self, request: Request, args: list[str]) -> Reply:
        """``POST /v1/auth/access_token``: trade client credentials for a fresh token."""
        body = self._object(request)
        if not isinstance(body.get("clientId"), str) or not isinstance(
            body.get("clientSecret"), str
        ):
            raise fail(
                422, "invalid_request", "body must have required properties clientId, clientSecret"
            )
        if (body["clientId"], body["clientSecret"]) not in CLIENTS:
            raise fail(401, "unauthorized", "Invalid client id or client secret")
        token = access_token()
        self.port["access_tokens"][token] = body["clientId"]
        return Reply(
            200,
            {"ok": True, "accessToken": token, "expiresIn": TOKEN_LIFETIME, "tokenType": "Bearer"},
            applied=True,
        )

    # -- runs --------------------------------------------------------------------------------

    def _run(self, run_id: str) -> dict[str, Any]:
        """Return a run, or raise 404."""
        run = self.port["runs"].get(run_id)
        if run is None:
            raise fail(404, "not_found", f'Run with id "{run_id}" was not found')
        return run  # type: ignore[no-any-return]

    @staticmethod
    def _require_open(run: dict[str, Any], status: int) -> None:
        """Raise ``run_exhausted`` when the run has a final status."""
        if run["status"] in FINAL_STATUSES:
            raise fail(
                status,
                "run_exhausted",
                f'Run "{run["id"]}" has already ended with status {run["status"]}',
            )

    @staticmethod
    def _end(run: dict[str, Any], status: str, at: str) -> None:
        """Give a run its final status."""
        run["status"] = status
        run["endedAt"] = at

    def _get_run(self, request: Request, args: list[str]) -> Reply:
        """``GET /v1/actions/runs/{id}``."""
        return Reply(200, {"ok": True, "run": copy.deepcopy(self._run(args[0]))})

    def _patch_run(self, request: Request, args: list[str]) -> Reply:
        """``PATCH /v1/actions/runs/{id}``: status, statusLabel, link, summary, externalRunId."""
        run = self._run(args[0])
        body = self._object(request)
        allowed = {"status", "statusLabel", "link", "summary", "externalRunId", "message"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise fail(
                422, "invalid_request", f"body must NOT have additional property {unknown[0]}"
            )
        if "status" in body and body["status"] not in FINAL_STATUSES:
            raise fail(
                422,
                "invalid_request",
                "body/status must be equal to one of the allowed values: SUCCESS, FAILURE",
            )
        link = body.get("link")
        if "link" in body and not (
            isinstance(link, str)
            or (isinstance(link, list) and all(isinstance(x, str) for x in link))
        ):
            raise fail(422, "invalid_request", "body/link must be a string or an array of strings")
        for key in ("statusLabel", "summary", "externalRunId"):
            if key in body and not isinstance(body[key], str):
                raise fail(422, "invalid_request", f"body/{key} must be string")
        self._require_open(run, 422)
        at = now_iso_millis()
        for key in ("statusLabel", "summary", "externalRunId", "link"):
            if key in body:
                run[key] = body[key]
        if "status" in body:
            self._end(run, body["status"], at)
        run["updatedAt"] = at
        return Reply(200, {"ok": True, "run": copy.deepcopy(run)}, applied=True)

    def _add_log(self, request: Request, args: list[str]) -> Reply:
        """``POST /v1/actions/runs/{id}/logs``: a log line; ``terminationStatus`` ends the run."""
        run = self._run(args[0])
        body = self._object(request)
        unknown = sorted(set(body) - {"message", "terminationStatus", "statusLabel"})
        if unknown:
            raise fail(
                422, "invalid_request", f"body must NOT have additional property {unknown[0]}"
            )
        if not isinstance(body.get("message"), str):
            raise fail(422, "invalid_request", "body must have required property 'message'")
        status = body.get("terminationStatus")
        if status is not None and status not in FINAL_STATUSES:
            raise fail(422, "invalid_request", "body/terminationStatus must be SUCCESS or FAILURE")
        self._require_open(run, 422)
        at = now_iso_millis()
        log = {
            "id": "log_" + secrets.token_hex(8),
            "runId": run["id"],
            "message": body["message"],
            "createdBy": PORT_CLIENT_ID,
            "createdAt": at,
        }
        self.port["run_logs"][run["id"]].append(log)
        if isinstance(body.get("statusLabel"), str):
            run["statusLabel"] = body["statusLabel"]
        if status is not None:
            self._end(run, status, at)
        run["updatedAt"] = at
        return Reply(201, {"ok": True, "runLog": copy.deepcopy(log)}, applied=True)

    def _list_logs(self, request: Request, args: list[str]) -> Reply:
        """``GET /v1/actions/runs/{id}/logs``."""
        run = self._run(args[0])
        return Reply(200, {"ok": True, "runLogs": copy.deepcopy(self.port["run_logs"][run["id"]])})

    def _create_run(self, request: Request, args: list[str]) -> Reply:
        """``POST /v1/actions/{action}/runs``: start a run, IN_PROGRESS."""
        action = self.port["actions"].get(args[0])
        if action is None:
            raise fail(404, "not_found", f'Action with identifier "{args[0]}" was not found')
        body = self._object(request)
        if not isinstance(body.get("properties"), dict):
            raise fail(422, "invalid_request", "body must have required property 'properties'")
        entity = None
        if body.get("entity") is not None:
            blueprint = action.get("trigger", {}).get("blueprintIdentifier", "")
            entity = self.port["entities"].get(blueprint, {}).get(body["entity"])
            if entity is None:
                raise fail(404, "not_found", f'Entity "{body["entity"]}" was not found')
        run_id = "r_" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
        run = new_run(run_id, action, entity, body["properties"], now_iso_millis())
        self.port["runs"][run_id] = run
        self.port["run_logs"][run_id] = []
        self.port["run_entities"][run_id] = []
        return Reply(202, {"ok": True, "run": copy.deepcopy(run)}, applied=True)

    # -- actions -----------------------------------------------------------------------------

    def _action_body(self, request: Request) -> dict[str, Any]:
        """Return a valid action definition from the body, or raise 422."""
        body = self._object(request)
        missing = [k for k in ("identifier", "trigger", "invocationMethod") if k not in body]
        if missing:
            raise fail(422, "invalid_request", f"body must have required property '{missing[0]}'")
        if not isinstance(body["identifier"], str) or not IDENTIFIER.match(body["identifier"]):
            raise fail(422, "invalid_request", "body/identifier must match the identifier pattern")
        return copy.deepcopy(body)

    def _list_actions(self, request: Request, args: list[str]) -> Reply:
        """``GET /v1/actions``, optionally filtered by ``action_identifier``."""
        wanted = set(request.query.get("action_identifier", []))
        actions = [a for k, a in self.port["actions"].items() if not wanted or k in wanted]
        return Reply(200, {"ok": True, "actions": copy.deepcopy(actions)})

    def _create_action(self, request: Request, args: list[str]) -> Reply:
        """``POST /v1/actions``: 409 when the identifier is taken."""
        action = self._action_body(request)
        if action["identifier"] in self.port["actions"]:
            raise fail(
                409,
                "identifier_taken",
                f'Action with identifier "{action["identifier"]}" already exists',
            )
        self.port["actions"][action["identifier"]] = action
        return Reply(201, {"ok": True, "action": copy.deepcopy(action)}, applied=True)

    def _get_action(self, request: Request, args: list[str]) -> Reply:
        """``GET /v1/actions/{id}``."""
        action = self.port["actions"].get(args[0])
        if action is None:
            raise fail(404, "not_found", f'Action with identifier "{args[0]}" was not found')
        return Reply(200, {"ok": True, "action": copy.deepcopy(action)})

    def _put_action(self, request: Request, args: list[str]) -> Reply:
        """``PUT /v1/actions/{id}``: replace an existing action."""
        if args[0] not in self.port["actions"]:
            raise fail(404, "not_found", f'Action with identifier "{args[0]}" was not found')
        action = self._action_body(request)
        if action["identifier"] != args[0]:
            raise fail(422, "invalid_request", "body/identifier must match the path")
        self.port["actions"][args[0]] = action
        return Reply(200, {"ok": True, "action": copy.deepcopy(action)}, applied=True)

    # -- blueprints --------------------------------------------------------------------------

    def _blueprint(self, identifier: str) -> dict[str, Any]:
        """Return a blueprint, or raise 404."""
        blueprint = self.port["blueprints"].get(identifier)
        if blueprint is None:
            raise fail(404, "not_found", f'Blueprint with identifier "{identifier}" was not found')
        return blueprint  # type: ignore[no-any-return]

    def _store_blueprint(
        self, body: dict[str, Any], identifier: str, status: int, created_at: str | None = None
    ) -> Reply:
        """Validate and store a blueprint definition."""
        if not isinstance(body.get("title"), str) or not isinstance(body.get("schema"), dict):
            raise fail(422, "invalid_request", "body must have required properties title, schema")
        if not isinstance(body["schema"].get("properties", {}), dict):
            raise fail(422, "invalid_request", "body/schema/properties must be object")
        at = now_iso_millis()
        blueprint = copy.deepcopy(body) | {
            "identifier": identifier,
            "relations": copy.deepcopy(body.get("relations", {})),
            "createdBy": PORT_CLIENT_ID,
            "updatedBy": PORT_CLIENT_ID,
            "createdAt": created_at or at,
            "updatedAt": at,
        }
        blueprint["schema"].setdefault("properties", {})
        blueprint["schema"].setdefault("required", [])
        self.port["blueprints"][identifier] = blueprint
        self.port["entities"].setdefault(identifier, {})
        return Reply(status, {"ok": True, "blueprint": copy.deepcopy(blueprint)}, applied=True)

    def _list_blueprints(self, request: Request, args: list[str]) -> Reply:
        """``GET /v1/blueprints``."""
        return Reply(
            200, {"ok": True, "blueprints": copy.deepcopy(list(self.port["blueprints"].values()))}
        )

    def _create_blueprint(self, request: Request, args: list[str]) -> Reply:
        """``POST /v1/blueprints``: 409 when the identifier is taken."""
        body = self._object(request)
        identifier = body.get("identifier")
        if not isinstance(identifier, str) or not IDENTIFIER.match(identifier):
            raise fail(422, "invalid_request", "body must have required property 'identifier'")
        if identifier in self.port["blueprints"]:
            raise fail(
                409, "identifier_taken", f'Blueprint with identifier "{identifier}" already exists'
            )
        return self._store_blueprint(body, identifier, 201)

    def _get_blueprint(self, request: Request, args: list[str]) -> Reply:
        """``GET /v1/blueprints/{id}``."""
        return Reply(200, {"ok": True, "blueprint": copy.deepcopy(self._blueprint(args[0]))})

    def _put_blueprint(self, request: Request, args: list[str]) -> Reply:
        """``PUT /v1/blueprints/{id}``: replace a blueprint."""
        existing = self._blueprint(args[0])
        return self._store_blueprint(self._object(request), args[0], 200, existing["createdAt"])

    def _patch_blueprint(self, request: Request, args: list[str]) -> Reply:
        """``PATCH /v1/blueprints/{id}``: merge properties and relations into a blueprint."""
        existing = copy.deepcopy(self._blueprint(args[0]))
        body = self._object(request)
        for key, value in body.items():
            if key == "schema" and isinstance(value, dict):
                existing["schema"]["properties"].update(value.get("properties", {}))
                if "required" in value:
                    existing["schema"]["required"] = value["required"]
            elif key == "relations" and isinstance(value, dict):
                existing["relations"].update(value)
            elif key != "identifier":
                existing[key] = value
        return self._store_blueprint(existing, args[0], 200, existing["createdAt"])

    # -- entities ----------------------------------------------------------------------------

    def _entity_problems(self, blueprint: dict[str, Any], entity: dict[str, Any]) -> None:
        """Raise 422 when an entity breaks its blueprint's properties or relations."""
        props = blueprint["schema"]["properties"]
        if not isinstance(entity.get("properties", {}), dict):
            raise fail(422, "invalid_request", "body/properties must be object")
        for name, value in entity.get("properties", {}).items():
            if name not in props:
                raise fail(
                    422,
                    "blueprint_schema_mismatch",
                    f'property "{name}" is not defined in blueprint "{blueprint["identifier"]}"',
                )
            problem = value_problem(name, props[name], value)
            if problem:
                raise fail(422, "blueprint_schema_mismatch", problem)
        relations = blueprint.get("relations", {})
        if not isinstance(entity.get("relations", {}), dict):
            raise fail(422, "invalid_request", "body/relations must be object")
        for name, value in entity.get("relations", {}).items():
            if name not in relations:
                raise fail(
                    422,
                    "blueprint_schema_mismatch",
                    f'relation "{name}" is not defined in blueprint "{blueprint["identifier"]}"',
                )
            many = relations[name].get("many", False)
            if value is not None and isinstance(value, list) != many:
                kind = "an array of identifiers" if many else "a single identifier"
                raise fail(
                    422,
                    "relation_many_violation",
                    f'relation "{name}" is many: {str(many).lower()}, so its value must be {kind}',
                )
            for target_id in value if isinstance(value, list) else [value]:
                if target_id is not None and not (
                    isinstance(target_id, str) and IDENTIFIER.match(target_id)
                ):
                    raise fail(
                        422, "invalid_request", f'relation "{name}" must hold entity identifiers'
                    )

    def _missing_related(
        self, blueprint: dict[str, Any], entity: dict[str, Any], create: bool
    ) -> None:
        """Create, or refuse with 404, the related entities that do not exist."""
        for name, value in entity.get("relations", {}).items():
            target = blueprint["relations"][name]["target"]
            known = self.port["entities"].setdefault(target, {})
            for target_id in value if isinstance(value, list) else [value]:
                if target_id is None or target_id in known:
                    continue
                if not create:
                    raise fail(
                        404,
                        "not_found",
                        f'Related entity "{target_id}" of blueprint "{target}" (relation '
                        f'"{name}") was not found',
                    )
                known[target_id] = {
                    "identifier": target_id,
                    "title": target_id,
                    "icon": "",
                    "team": [],
                    "properties": {},
                    "relations": {},
                }

    def _upsert_entity(self, request: Request, args: list[str]) -> Reply:
        """``POST /v1/blueprints/{bp}/entities`` with upsert, merge, run_id and friends."""
        blueprint = self._blueprint(args[0])
        body = self._object(request)
        identifier = body.get("identifier")
        if (
            not isinstance(identifier, str)
            or not IDENTIFIER.match(identifier)
            or len(identifier) > 1000
        ):
            raise fail(422, "invalid_request", "body/identifier must be a valid entity identifier")
        run = None
        run_ids = request.query.get("run_id", [])
        if run_ids:
            run = self._run(run_ids[-1])
            self._require_open(run, 400)
        self._entity_problems(blueprint, body)
        entities = self.port["entities"].setdefault(args[0], {})
        existing = entities.get(identifier)
        if existing is not None and not request.flag("upsert"):
            raise fail(
                409, "identifier_taken", f'Entity with identifier "{identifier}" already exists'
            )
        if existing is not None and request.flag("merge"):
            entity = copy.deepcopy(existing)
            for key in ("title", "icon", "team"):
                if key in body:
                    entity[key] = copy.deepcopy(body[key])
            entity["properties"].update(copy.deepcopy(body.get("properties", {})))
            entity["relations"].update(copy.deepcopy(body.get("relations", {})))
        else:
            entity = {
                "identifier": identifier,
                "title": body.get("title", identifier),
                "icon": body.get("icon", blueprint.get("icon", "")),
                "team": copy.deepcopy(body.get("team", [])),
                "properties": copy.deepcopy(body.get("properties", {})),
                "relations": copy.deepcopy(body.get("relations", {})),
            }
        self._missing_related(blueprint, entity, request.flag("create_missing_related_entities"))
        if request.flag("validation_only"):
            return Reply(201, {"ok": True, "entity": entity})
        entities[identifier] = entity
        if run is not None:
            self.port["run_entities"][run["id"]].append(
                {"blueprint": args[0], "identifier": identifier}
            )
        return Reply(201, {"ok": True, "entity": copy.deepcopy(entity)}, applied=True)

    def _get_entity(self, request: Request, args: list[str]) -> Reply:
        """``GET /v1/blueprints/{bp}/entities/{id}``."""
        self._blueprint(args[0])
        entity = self.port["entities"].get(args[0], {}).get(args[1])
        if entity is None:
            raise fail(404, "not_found", f'Entity with identifier "{args[1]}" was not found')
        return Reply(200, {"ok": True, "entity": copy.deepcopy(entity)})
