"""The contract extract in tests/contracts: as strict as the specifications, complete, and current.

The extract is made by ``scripts/extract_contracts.py`` from the specifications in
``../shared/contracts``. These tests need only the extract; the script's ``--check`` (run by
``scripts/test`` where ``../shared/contracts`` exists) compares it with the specifications.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.contract import EXTRACT, request_problems, response_problems
from tests.contract_samples import ANSWERS, REQUESTS, AnswerSample, RequestSample
from tests.script_files import load_script

REPO = Path(__file__).resolve().parents[1]
OPENAPI_FILES = {"pagerduty": "pagerduty.json", "port": "port.json"}


@cache
def script() -> ModuleType:
    """scripts/extract_contracts.py, imported."""
    return load_script("extract_contracts.py", "extract_contracts")


def extract(name: str) -> dict[str, Any]:
    """One extract file as it is committed, header included."""
    document: dict[str, Any] = json.loads((EXTRACT / name).read_text(encoding="utf-8"))
    return document


def sample_id(sample: RequestSample | AnswerSample) -> str:
    """A readable test id: the method, the path and, for an answer, its status."""
    status = f" {sample.status}" if isinstance(sample, AnswerSample) else ""
    return f"{sample.method} {sample.path}{status} {'valid' if not sample.problems else 'bad'}"


@pytest.mark.parametrize("sample", REQUESTS, ids=sample_id)
def test_extract_finds_in_requests_what_the_specifications_find(sample: RequestSample) -> None:
    """Each sample request gets exactly the problems the full specification finds in it."""
    found = request_problems(
        sample.service, sample.method, sample.path, sample.query, sample.headers, sample.body
    )
    assert found == sample.problems


@pytest.mark.parametrize("sample", ANSWERS, ids=sample_id)
def test_extract_finds_in_answers_what_the_specifications_find(sample: AnswerSample) -> None:
    """Each sample answer gets exactly the problems the full specification finds in it."""
    found = response_problems(
        sample.service, sample.method, sample.path, sample.status, sample.body
    )
    assert found == sample.problems


def test_samples_reject_something_in_every_service() -> None:
    """The samples hold rejected requests and answers for both services, and valid ones too."""
    samples: list[RequestSample | AnswerSample] = [*REQUESTS, *ANSWERS]
    for service in OPENAPI_FILES:
        judged = [bool(s.problems) for s in samples if s.service == service]
        assert True in judged, service
        assert False in judged, service


def test_an_operation_left_out_of_the_extract_is_reported() -> None:
    """A request to an operation the extract lacks is a problem that says how to add it."""
    path = "/users/PUSER01/contact_methods"
    problems = request_problems("pagerduty", "GET", path, {}, {}, None)
    assert problems == [
        f"no operation GET {path} in the pagerduty extract: add it to OPERATIONS in "
        "scripts/extract_contracts.py and run that script"
    ]


@pytest.mark.parametrize("service", sorted(OPENAPI_FILES))
def test_extract_holds_exactly_the_listed_operations(service: str) -> None:
    """The extract's operations are the ones OPERATIONS lists, no more, no fewer."""
    paths = extract(OPENAPI_FILES[service])["paths"]
    held = {
        f"{method.upper()} {template}"
        for template, item in paths.items()
        for method in item
        if method != "parameters"
    }
    assert held == set(script().OPERATIONS[service])


def test_extract_covers_the_incident_operations() -> None:
    """The PagerDuty operations of escalation and of the incident operations are all there."""
    operation_ids = {
        operation["operationId"]
        for item in extract("pagerduty.json")["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
    }
    assert {
        "getIncident",
        "updateIncident",
        "listIncidents",
        "createIncident",
        "createIncidentNote",
        "listIncidentNotes",
        "createIncidentSnooze",
        "listPriorities",
        "listUsers",
        "getEscalationPolicy",
        "getService",
    } <= operation_ids


def test_extract_keeps_the_incident_list_filters() -> None:
    """listIncidents keeps the filters a create looks up an open incident by."""
    document = extract("pagerduty.json")
    refs = [p["$ref"] for p in document["paths"]["/incidents"]["get"]["parameters"]]
    names = {document["components"]["parameters"][ref.rsplit("/", 1)[1]]["name"] for ref in refs}
    assert {"incident_key", "service_ids[]", "statuses[]", "date_range"} <= names


@pytest.mark.parametrize("name", sorted(p.name for p in EXTRACT.glob("*.json")))
def test_extract_header_names_its_source_and_commit(name: str) -> None:
    """Every file says where its source comes from, at which commit, and how to refresh it."""
    header = extract(name)["x-extract"]
    assert header["repository"].startswith("https://github.com/")
    assert len(header["commit"]) == 40
    assert int(header["commit"], 16) >= 0
    assert len(header["source_sha256"]) == 64
    assert header["source_file"].startswith("../shared/contracts/")
    assert header["refresh"] == "python scripts/extract_contracts.py"


def test_extract_files_are_the_ones_the_script_writes() -> None:
    """tests/contracts holds one file per source the script knows, and nothing else."""
    assert {p.name for p in EXTRACT.iterdir()} == {s.output for s in script().SOURCES}


@pytest.mark.parametrize("service", sorted(OPENAPI_FILES))
def test_every_reference_in_the_extract_resolves(service: str) -> None:
    """Each $ref of the extract points at a component kept in it."""
    document = extract(OPENAPI_FILES[service])
    refs = script().references(document)
    assert refs
    for ref in refs:
        script()._resolve(document, ref)


@pytest.mark.parametrize("service", sorted(OPENAPI_FILES))
def test_extract_holds_no_prose(service: str) -> None:
    """Stripping the extract again changes nothing: no description, example or title is left."""
    document = extract(OPENAPI_FILES[service])
    body = {key: value for key, value in document.items() if key != "x-extract"}
    assert script().strip(body) == body


def test_strip_drops_keywords_but_keeps_names() -> None:
    """A property named like a dropped keyword stays; the keyword itself and x- extensions go."""
    schema = {
        "type": "object",
        "description": "prose",
        "x-internal": True,
        "properties": {
            "description": {"type": "string", "example": "text", "default": ""},
            "title": {"enum": [{"description": "kept: enum values are data"}]},
        },
        "required": ["description"],
    }
    assert script().strip(schema) == {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "title": {"enum": [{"description": "kept: enum values are data"}]},
        },
        "required": ["description"],
    }


def test_extract_openapi_keeps_the_operations_and_what_they_reach() -> None:
    """Only the listed operations stay, with the components they reach, directly or not."""
    spec: dict[str, Any] = {
        "openapi": "3.0.2",
        "paths": {
            "/a": {
                "get": {"summary": "A", "responses": {"200": {"$ref": "#/components/responses/Ok"}}}
            },
            "/b": {"get": {"responses": {"200": {"$ref": "#/components/responses/Unused"}}}},
        },
        "components": {
            "responses": {
                "Ok": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                    }
                },
                "Unused": {},
            },
            "schemas": {"Thing": {"type": "object", "title": "Thing"}, "Other": {}},
            "examples": {"Big": {"value": "x"}},
        },
    }
    assert script().extract_openapi(spec, ["GET /a"]) == {
        "openapi": "3.0.2",
        "paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Ok"}}}}},
        "components": {
            "responses": {"Ok": spec["components"]["responses"]["Ok"]},
            "schemas": {"Thing": {"type": "object"}},
        },
    }


def test_extract_openapi_refuses_an_operation_the_specification_lacks() -> None:
    """Listing an operation the specification does not have is an error naming it."""
    spec = {"openapi": "3.0.2", "paths": {"/a": {"get": {}}}, "components": {}}
    with pytest.raises(script().ExtractError, match="POST /a is not in the specification"):
        script().extract_openapi(spec, ["POST /a"])


def test_check_names_the_files_that_differ(tmp_path: Path) -> None:
    """--check's comparison names a changed, a missing and an extra file, and passes when equal."""
    texts = {"a.json": "{}\n", "b.json": "[]\n"}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert script().check(texts, tmp_path) == []
    (tmp_path / "a.json").write_text('{"changed": 1}\n', encoding="utf-8")
    (tmp_path / "b.json").unlink()
    (tmp_path / "c.json").write_text("{}\n", encoding="utf-8")
    assert script().check(texts, tmp_path) == ["a.json", "b.json", "c.json"]


def test_sources_must_name_the_commit_the_script_records(tmp_path: Path) -> None:
    """A ../shared whose SOURCES.md names another commit is refused, saying what to update."""
    for source in script().SOURCES:
        (tmp_path / source.file).write_text("{}", encoding="utf-8")
    (tmp_path / "SOURCES.md").write_text("snapshot @ 0000000", encoding="utf-8")
    with pytest.raises(script().ExtractError, match="update SOURCES in scripts/extract_contracts"):
        script().read_sources(tmp_path)


def test_docs_name_every_option_of_the_script() -> None:
    """docs/contracts.md documents each option of scripts/extract_contracts.py."""
    text = (REPO / "docs" / "contracts.md").read_text(encoding="utf-8")
    options = {
        option
        for action in script().build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert options == {"--check", "--shared"}
    assert sorted(option for option in options if f"`{option}" not in text) == []
