"""Make tests/contracts/: the schemas of the API operations the project uses.

The full specifications (PagerDuty's REST API, Port's API, Port's PagerDuty blueprints) live in
``../shared/contracts``, described in its ``SOURCES.md``. The contract tests need only the
operations listed in ``OPERATIONS`` below, so this script keeps those operations and the components
they refer to, drops every keyword that takes no part in validation (descriptions, examples,
titles, ``x-`` extensions, ...), and writes one JSON file per source whose ``x-extract`` header
says where the source comes from, at which commit, and how to refresh it. Adding an operation is
one line in ``OPERATIONS`` and one run of this script.

    python scripts/extract_contracts.py              # write tests/contracts/*.json
    python scripts/extract_contracts.py --check      # exit 1 when they are not what it would write
    python scripts/extract_contracts.py --shared DIR # read the specifications from DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "contracts"
OUTPUT = REPO / "tests" / "contracts"
COMMAND = "python scripts/extract_contracts.py"

# The operations the project sends or serves, now and for the incident operations coming next.
OPERATIONS: dict[str, list[str]] = {
    "pagerduty": [
        "GET /incidents/{id}",  # getIncident
        "PUT /incidents/{id}",  # updateIncident
        "GET /incidents",  # listIncidents: incident_key, service_ids[], statuses[], date_range
        "POST /incidents",  # createIncident
        "PUT /incidents",  # updateIncidents (the sandbox serves it)
        "POST /incidents/{id}/notes",  # createIncidentNote
        "GET /incidents/{id}/notes",  # listIncidentNotes
        "POST /incidents/{id}/snooze",  # createIncidentSnooze
        "GET /priorities",  # listPriorities
        "GET /users",  # listUsers
        "GET /users/{id}",  # getUser: the email of a user given by ID (on-call)
        "GET /escalation_policies/{id}",  # getEscalationPolicy
        "GET /escalation_policies",  # listEscalationPolicies
        "GET /services/{id}",  # getService
        "GET /services",  # listServices: query, name, include[]=integrations
        "POST /services",  # createService
        "POST /services/{id}/integrations",  # createServiceIntegration
        "GET /services/{id}/integrations/{integration_id}",  # getServiceIntegration
        "GET /oncalls",  # listOnCalls
        "GET /schedules/{id}",  # getSchedule: final_schedule.rendered_schedule_entries
        "GET /schedules/{id}/overrides",  # listScheduleOverrides
        "POST /schedules/{id}/overrides",  # createScheduleOverride: a 201 array, one status each
        "DELETE /schedules/{id}/overrides/{override_id}",  # deleteScheduleOverride
    ],
    "pagerduty-events": [
        "POST /enqueue",  # createV2Event: trigger, acknowledge, resolve
        "POST /change/enqueue",  # createChangeEvent
    ],
    "port": [
        "POST /v1/auth/access_token",
        "GET /v1/actions/runs/{run_id}",
        "PATCH /v1/actions/runs/{run_id}",
        "POST /v1/actions/runs/{run_id}/logs",
        "GET /v1/actions/runs/{run_id}/logs",
        "GET /v1/blueprints",
        "POST /v1/blueprints",
        "GET /v1/blueprints/{identifier}",
        "PUT /v1/blueprints/{identifier}",
        "PATCH /v1/blueprints/{identifier}",
        "POST /v1/blueprints/{blueprint_identifier}/entities",
        "GET /v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}",
        "GET /v1/actions",  # self-service actions and automations alike
        "POST /v1/actions",
        "GET /v1/actions/{action_identifier}",
        "PUT /v1/actions/{action_identifier}",
        "POST /v1/actions/{action_identifier}/runs",
    ],
}


@dataclass(frozen=True)
class Source:
    """One file of ../shared/contracts, where it comes from, and the extract made of it."""

    file: str
    output: str
    what: str
    repository: str
    paths: tuple[str, ...]
    commit: str
    license: str


SOURCES = (
    Source(
        "pagerduty-rest-openapiv3.json",
        "pagerduty.json",
        "PagerDuty REST API v2 OpenAPI 3.0 description: the operations the project uses",
        "https://github.com/PagerDuty/api-schema",
        ("reference/REST/openapiv3.json",),
        "91a06fb3c64b0ab2b2bd6c485d12b327dfb55c18",
        "none granted; published by PagerDuty for building clients; schemas only, test data",
    ),
    Source(
        "pagerduty-events-v2-openapiv3.json",
        "pagerduty-events.json",
        "PagerDuty Events API v2 OpenAPI 3.0 description: the operations the project uses",
        "https://github.com/PagerDuty/api-schema",
        ("reference/events-v2/openapiv3.json",),
        "91a06fb3c64b0ab2b2bd6c485d12b327dfb55c18",
        "none granted; published by PagerDuty for building clients; schemas only, test data",
    ),
    Source(
        "port-api-openapi.yaml",
        "port.json",
        "Port API OpenAPI 3.1 description: the operations the project uses",
        "https://github.com/port-labs/port-docs",
        ("static/apispec.yaml",),
        "4893974ae5631bfa4c0999e903fe0d15c30ca02a",
        "Port Documentation License",
    ),
    Source(
        "port-pagerduty-blueprints.json",
        "port-pagerduty-blueprints.json",
        "The pagerdutyIncident and pagerdutyService blueprints of Port's PagerDuty guides",
        "https://github.com/port-labs/port-docs",
        (
            "docs/guides/templates/pagerduty/_pagerduty_incident_blueprint.mdx",
            "docs/guides/templates/pagerduty/_pagerduty_service_blueprint.mdx",
        ),
        "4893974ae5631bfa4c0999e903fe0d15c30ca02a",
        "Port Documentation License",
    ),
    Source(
        "port-pagerduty-integration-blueprints.json",
        "port-pagerduty-integration-blueprints.json",
        "The blueprints Port's PagerDuty integration creates",
        "https://github.com/port-labs/ocean",
        ("integrations/pagerduty/.port/resources/blueprints.json",),
        "607beada0e3ad5a482ee929ed0399d8761d7989f",
        "Apache-2.0",
    ),
)

# Keywords that validation never reads (annotations, prose, vendor extensions, servers, security).
DROPPED = frozenset(
    {
        "description",
        "summary",
        "title",
        "example",
        "examples",
        "externalDocs",
        "tags",
        "deprecated",
        "default",
        "$comment",
        "xml",
        "servers",
        "security",
    }
)
# Keywords whose value maps names to objects: the names are data, never keywords to drop.
NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "dependentSchemas",
        "$defs",
        "definitions",
        "paths",
        "responses",
        "content",
        "headers",
        "encoding",
        "links",
        "callbacks",
        "mapping",
        "schemas",
        "parameters",
        "requestBodies",
    }
)
# Keywords whose value is data to keep as it is.
LITERALS = frozenset({"enum", "const", "required"})


class ExtractError(Exception):
    """The specifications cannot be read or do not hold what OPERATIONS names."""


def strip(node: Any, names: bool = False) -> Any:
    """Return ``node`` without the keywords validation never reads; ``names``: a map of names."""
    if isinstance(node, list):
        return [strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: strip(value) for key, value in node.items()}
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED or key.startswith("x-"):
            continue
        kept[key] = value if key in LITERALS else strip(value, names=key in NAME_MAPS)
    return kept


def references(node: Any) -> set[str]:
    """Every ``$ref`` string inside ``node``."""
    if isinstance(node, list):
        return set().union(*(references(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
    return found.union(*(references(value) for value in node.values()))


def _component(ref: str) -> tuple[str, str]:
    """The (kind, name) of a local ``#/components/<kind>/<name>...`` reference."""
    parts = ref.split("/")
    if len(parts) < 4 or parts[:2] != ["#", "components"]:
        raise ExtractError(f"unsupported $ref {ref!r}: only #/components/... is handled")
    return parts[2], parts[3].replace("~1", "/").replace("~0", "~")


def extract_openapi(spec: dict[str, Any], operations: list[str]) -> dict[str, Any]:
    """Return ``spec`` reduced to ``operations`` and the components they reach, without prose."""
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        method, template = operation.split(" ", 1)
        item = spec["paths"].get(template, {})
        if method.lower() not in item:
            raise ExtractError(f"{operation} is not in the specification; fix OPERATIONS")
        entry = paths.setdefault(template, {})
        if "parameters" in item:
            entry["parameters"] = strip(item["parameters"])
        entry[method.lower()] = strip(item[method.lower()])
    components: dict[str, dict[str, Any]] = {}
    pending = references(paths)
    while pending:
        kind, name = _component(pending.pop())
        if name in components.get(kind, {}):
            continue
        kept = strip(spec["components"][kind][name])
        components.setdefault(kind, {})[name] = kept
        pending |= references(kept)
    ordered = {
        kind: {n: components[kind][n] for n in spec["components"][kind] if n in components[kind]}
        for kind in spec["components"]
        if kind in components
    }
    return {"openapi": spec["openapi"], "paths": paths, "components": ordered}


def _resolve(document: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer; raise ExtractError when it leads nowhere."""
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        try:
            target = target[int(key)] if isinstance(target, list) else target[key]
        except (KeyError, IndexError, ValueError):
            raise ExtractError(f"$ref {ref!r} leads nowhere in the extract") from None
    return target


def _load(path: Path) -> Any:
    """Read a JSON or YAML file (Port's YAML has plain ``=`` scalars: read them as strings)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        """SafeLoader that reads a bare ``=`` as the string it is."""

    Loader.add_constructor(
        "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
    )
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass


def _header(source: Source, raw: bytes, operations: list[str] | None) -> dict[str, Any]:
    """The ``x-extract`` header: what, where from, at which commit, how to refresh."""
    header: dict[str, Any] = {
        "what": source.what,
        "repository": source.repository,
        "paths": list(source.paths),
        "commit": source.commit,
        "license": source.license,
        "source_file": f"../shared/contracts/{source.file}",
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "refresh": COMMAND,
    }
    if operations is not None:
        header["operations"] = operations
        header["kept"] = "only what validation reads; $refs point into components kept here"
    return header


def read_sources(shared: Path) -> dict[str, tuple[bytes, Any]]:
    """Return the bytes and the document of every source, by file name, from ``shared``."""
    sources_md = shared / "SOURCES.md"
    listed = sources_md.read_text(encoding="utf-8") if sources_md.is_file() else ""
    read: dict[str, tuple[bytes, Any]] = {}
    for source in SOURCES:
        path = shared / source.file
        if not path.is_file():
            raise ExtractError(
                f"{path} is missing: give the folder of the specifications with --shared "
                "(default: ../shared/contracts beside the repository)"
            )
        if source.commit not in listed:
            raise ExtractError(
                f"{sources_md} does not name commit {source.commit} for {source.file}: "
                "update SOURCES in scripts/extract_contracts.py to the commit it names"
            )
        read[source.file] = (path.read_bytes(), _load(path))
    return read


def build(sources: dict[str, tuple[bytes, Any]]) -> dict[str, str]:
    """Return the text of every extract file, by file name, made from the read ``sources``."""
    texts: dict[str, str] = {}
    for source in SOURCES:
        raw, document = sources[source.file]
        operations = OPERATIONS.get(source.output.removesuffix(".json"))
        if operations is None:
            body: dict[str, Any] = {"x-extract": _header(source, raw, None), "items": document}
        else:
            reduced = extract_openapi(document, operations)
            for ref in references(reduced):
                _resolve(reduced, ref)
            body = {"x-extract": _header(source, raw, operations), **reduced}
        texts[source.output] = json.dumps(body, indent=1, ensure_ascii=False) + "\n"
    return texts


def disagreements(sources: dict[str, tuple[bytes, Any]]) -> list[str]:
    """The samples of tests/contract_samples.py that the full specifications judge otherwise."""
    sys.path.insert(0, str(REPO))
    from tests.contract import build_contracts, request_problems, response_problems
    from tests.contract_samples import ANSWERS, REQUESTS

    full = build_contracts(
        sources["pagerduty-rest-openapiv3.json"][1],
        sources["port-api-openapi.yaml"][1],
        sources["pagerduty-events-v2-openapiv3.json"][1],
    )
    found = []
    for request in REQUESTS:
        sent = (request.method, request.path, request.query, request.headers, request.body)
        if request_problems(request.service, *sent, contracts=full) != request.problems:
            found.append(f"{request.method} {request.path} {request.body}")
    for answer in ANSWERS:
        answered = (answer.method, answer.path, answer.status, answer.body)
        if response_problems(answer.service, *answered, contracts=full) != answer.problems:
            found.append(f"{answer.status} answer to {answer.method} {answer.path}")
    return found


def check(texts: dict[str, str], output: Path) -> list[str]:
    """Return the extract files that differ from ``texts`` (or are missing or extra)."""
    present = {path.name for path in output.glob("*.json")}
    stale = [
        name
        for name, text in texts.items()
        if not (output / name).is_file() or (output / name).read_text(encoding="utf-8") != text
    ]
    return sorted(stale + sorted(present - set(texts)))


def build_parser() -> argparse.ArgumentParser:
    """The command line: --check and --shared."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument(
        "--check", action="store_true", help="only say whether the extract is current"
    )
    parser.add_argument("--shared", type=Path, default=SHARED, help=f"default: {SHARED}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Write or check the extract; 0 when done or up to date, 1 when stale, 2 on a bad source."""
    args = build_parser().parse_args(argv)
    try:
        sources = read_sources(args.shared)
        texts = build(sources)
    except ExtractError as exc:
        print(f"extract_contracts: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return _report(check(texts, OUTPUT), disagreements(sources), args.shared)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for path in OUTPUT.glob("*.json"):
        if path.name not in texts:
            path.unlink()
    for name, text in texts.items():
        (OUTPUT / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(texts)} files to {OUTPUT.relative_to(REPO)}")
    return 0


def _report(stale: list[str], disagreeing: list[str], shared: Path) -> int:
    """Say what --check found; 0 when all is current, 1 otherwise."""
    if stale:
        print(
            f"tests/contracts is not what {shared} gives: {', '.join(stale)}. "
            f"Refresh with: {COMMAND}",
            file=sys.stderr,
        )
    for sample in disagreeing:
        print(
            f"the specifications in {shared} judge this sample of tests/contract_samples.py "
            f"otherwise: {sample}",
            file=sys.stderr,
        )
    if stale or disagreeing:
        return 1
    print(f"tests/contracts matches {shared}; the specifications judge every sample alike")
    return 0


if __name__ == "__main__":
    sys.exit(main())
