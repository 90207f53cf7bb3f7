"""The fake Port API: tokens, runs, logs, blueprints, entities and actions."""

from __future__ import annotations

import pytest
from conftest import Api

from escalator.kit import definitions
from escalator.sandbox import Sandbox
from escalator.sandbox.seed import (
    DEMO_ACTION,
    DEMO_GITHUB_ORG,
    DEMO_GITHUB_REPO,
    DEMO_INCIDENT_ID,
    DEMO_RUN_ID,
    ENDED_RUN_ID,
)

ENTITIES = "/v1/blueprints/pagerdutyIncident/entities"


def test_token_is_fresh_and_checked(api: Api) -> None:
    """Good credentials get a fresh bearer token; bad ones answer 401."""
    from escalator.sandbox.seed import PORT_CLIENT_ID, PORT_CLIENT_SECRET

    body = {"clientId": PORT_CLIENT_ID, "clientSecret": PORT_CLIENT_SECRET}
    first = api.port("POST", "/v1/auth/access_token", body, token=None).body
    second = api.port("POST", "/v1/auth/access_token", body, token=None).body
    assert first["ok"] is True
    assert first["tokenType"] == "Bearer"
    assert first["expiresIn"] > 0
    assert first["accessToken"] != second["accessToken"]
    bad = api.port("POST", "/v1/auth/access_token", body | {"clientSecret": "x"}, token=None)
    assert (bad.status, bad.body["ok"]) == (401, False)


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_bearer_token_required(api: Api, token: str | None) -> None:
    """Calls without a token this sandbox issued answer 401."""
    assert api.port("GET", f"/v1/actions/runs/{DEMO_RUN_ID}", token=token).status == 401


def test_patch_run_and_end_it(api: Api) -> None:
    """statusLabel, link and summary update the run; a final status ends it; then 422."""
    answer = api.port(
        "PATCH",
        f"/v1/actions/runs/{DEMO_RUN_ID}",
        {
            "statusLabel": "Escalating",
            "link": ["https://ci.example/1"],
            "summary": "s",
            "externalRunId": "42",
        },
    )
    assert answer.body["run"]["status"] == "IN_PROGRESS"
    assert answer.body["run"]["link"] == ["https://ci.example/1"]
    ended = api.port("PATCH", f"/v1/actions/runs/{DEMO_RUN_ID}", {"status": "SUCCESS"})
    assert ended.body["run"]["status"] == "SUCCESS"
    again = api.port("PATCH", f"/v1/actions/runs/{DEMO_RUN_ID}", {"statusLabel": "late"})
    assert again.status == 422
    assert api.port("GET", "/v1/actions/runs/r_unknown").status == 404


def test_logs_and_termination(api: Api) -> None:
    """A log answers 201; terminationStatus ends the run; later logs get run_exhausted."""
    path = f"/v1/actions/runs/{DEMO_RUN_ID}/logs"
    first = api.port("POST", path, {"message": "Escalating"})
    assert first.status == 201
    assert first.body["runLog"]["runId"] == DEMO_RUN_ID
    api.port("POST", path, {"message": "done", "terminationStatus": "FAILURE"})
    late = api.port("POST", path, {"message": "late"})
    assert (late.status, late.body["error"]) == (422, "run_exhausted")
    assert [log["message"] for log in api.port("GET", path).body["runLogs"]] == [
        "Escalating",
        "done",
    ]


def test_upsert_merge_changes_only_sent_fields(api: Api, sandbox: Sandbox) -> None:
    """merge=true keeps the properties not sent; run_id ties the entity to the run."""
    answer = api.port(
        "POST",
        ENTITIES,
        {"identifier": DEMO_INCIDENT_ID, "properties": {"urgency": "low"}},
        params={"upsert": "true", "merge": "true", "run_id": DEMO_RUN_ID},
    )
    entity = answer.body["entity"]
    assert answer.status == 201
    assert entity["properties"]["urgency"] == "low"
    assert entity["properties"]["escalation_policy"] == "Payments On-Call"
    assert sandbox.state()["port"]["run_entities"][DEMO_RUN_ID] == [
        {"blueprint": "pagerdutyIncident", "identifier": DEMO_INCIDENT_ID}
    ]


def test_upsert_without_merge_replaces(api: Api) -> None:
    """upsert without merge replaces the whole entity."""
    api.port(
        "POST",
        ENTITIES,
        {"identifier": DEMO_INCIDENT_ID, "properties": {"urgency": "low"}},
        params={"upsert": "true"},
    )
    entity = api.port("GET", f"{ENTITIES}/{DEMO_INCIDENT_ID}").body["entity"]
    assert entity["properties"] == {"urgency": "low"}


def test_run_id_of_ended_run_is_refused(api: Api) -> None:
    """run_id of an ended run answers 400 run_exhausted."""
    answer = api.port(
        "POST",
        ENTITIES,
        {"identifier": DEMO_INCIDENT_ID},
        params={"upsert": "true", "run_id": ENDED_RUN_ID},
    )
    assert (answer.status, answer.body["error"]) == (400, "run_exhausted")


@pytest.mark.parametrize(
    ("properties", "named"),
    [
        ({"nope": 1}, "nope"),
        ({"urgency": "medium"}, "urgency"),
        ({"url": "not a url"}, "url"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"responder": 5}, "responder"),
    ],
)
def test_schema_mismatch_names_property(
    api: Api, properties: dict[str, object], named: str
) -> None:
    """A value breaking the blueprint answers 422 blueprint_schema_mismatch naming the property."""
    answer = api.port(
        "POST", ENTITIES, {"identifier": "X1", "properties": properties}, params={"upsert": "true"}
    )
    assert (answer.status, answer.body["error"]) == (422, "blueprint_schema_mismatch")
    assert f'"{named}"' in answer.body["message"]


@pytest.mark.parametrize(("shape", "value"), [("guide", "PSVCPAY"), ("integration", ["PSVCPAY"])])
def test_relation_many_violation(api: Api, sandbox: Sandbox, shape: str, value: object) -> None:
    """A list for a many:false relation, or a string for many:true, answers 422."""
    sandbox.set_blueprint_shape(shape)
    answer = api.port(
        "POST",
        ENTITIES,
        {"identifier": "X1", "relations": {"pagerdutyService": value}},
        params={"upsert": "true"},
    )
    assert (answer.status, answer.body["error"]) == (422, "relation_many_violation")


def test_missing_related_entity(api: Api, sandbox: Sandbox) -> None:
    """An unknown related entity answers 404 unless create_missing_related_entities."""
    body = {"identifier": "X1", "relations": {"pagerdutyService": ["PNEWSVC"]}}
    assert api.port("POST", ENTITIES, body, params={"upsert": "true"}).status == 404
    created = api.port(
        "POST", ENTITIES, body, params={"upsert": "true", "create_missing_related_entities": "true"}
    )
    assert created.status == 201
    assert "PNEWSVC" in sandbox.state()["port"]["entities"]["pagerdutyService"]


def test_unknown_blueprint_and_big_body(api: Api) -> None:
    """An unknown blueprint answers 404; a body over 1 MiB answers 413."""
    missing = api.port(
        "POST", "/v1/blueprints/nope/entities", {"identifier": "a"}, params={"upsert": "true"}
    )
    assert (missing.status, missing.body["error"]) == (404, "not_found")
    big = api.port(
        "POST",
        ENTITIES,
        {"identifier": "a", "title": "x" * (1024 * 1024)},
        params={"upsert": "true"},
    )
    assert big.status == 413


def test_blueprints_read_and_write(api: Api) -> None:
    """Blueprints list, read, create, replace and patch."""
    names = {b["identifier"] for b in api.port("GET", "/v1/blueprints").body["blueprints"]}
    assert names == {"pagerdutyIncident", "pagerdutyService"}
    incident = api.port("GET", "/v1/blueprints/pagerdutyIncident").body["blueprint"]
    assert incident["relations"]["pagerdutyService"]["many"] is True
    new = {"identifier": "team", "title": "Team", "schema": {"properties": {}}}
    assert api.port("POST", "/v1/blueprints", new).status == 201
    assert api.port("POST", "/v1/blueprints", new).status == 409
    assert api.port("PUT", "/v1/blueprints/team", new | {"title": "Teams"}).status == 200
    patched = api.port(
        "PATCH",
        "/v1/blueprints/team",
        {"schema": {"properties": {"size": {"type": "number", "title": "Size"}}}},
    )
    assert "size" in patched.body["blueprint"]["schema"]["properties"]


def test_actions_can_be_set_up_idempotently(api: Api) -> None:
    """An action is read, replaced with PUT, created with POST and refused twice."""
    action = api.port("GET", f"/v1/actions/{DEMO_ACTION}").body["action"]
    assert api.port("PUT", f"/v1/actions/{DEMO_ACTION}", action).status == 200
    copy = action | {"identifier": "other_action"}
    assert api.port("GET", "/v1/actions/other_action").status == 404
    assert api.port("POST", "/v1/actions", copy).status == 201
    assert api.port("POST", "/v1/actions", copy).status == 409
    listed = api.port("GET", "/v1/actions", params={"action_identifier": "other_action"})
    assert [a["identifier"] for a in listed.body["actions"]] == ["other_action"]


def test_create_run(api: Api) -> None:
    """``POST /v1/actions/{id}/runs`` starts an IN_PROGRESS run that can be read back."""
    answer = api.port(
        "POST",
        f"/v1/actions/{DEMO_ACTION}/runs",
        {"properties": {"urgency": "low"}, "entity": DEMO_INCIDENT_ID},
    )
    run = answer.body["run"]
    assert (answer.status, run["status"]) == (202, "IN_PROGRESS")
    assert api.port("GET", f"/v1/actions/runs/{run['id']}").body["run"]["id"] == run["id"]


def test_seeded_actions_are_the_kits(api: Api) -> None:
    """The seed holds every action of the Port kit, filled with the demo repository."""
    listed = api.port("GET", "/v1/actions").body["actions"]
    wanted = definitions.actions(DEMO_GITHUB_ORG, DEMO_GITHUB_REPO)
    assert [action["identifier"] for action in listed] == [a["identifier"] for a in wanted]
    for action, kit in zip(listed, wanted, strict=True):
        assert {key: action[key] for key in kit} == kit


def test_create_incident_run_starts_on_a_service_entity(api: Api) -> None:
    """A run of the kit's create action ties to a service entity, as Port does for its blueprint."""
    answer = api.port(
        "POST",
        "/v1/actions/pagerdutyService_create_incident/runs",
        {"properties": {"title": "Checkout down"}, "entity": "PSVCPAY"},
    )
    run = answer.body["run"]
    assert answer.status == 202
    assert run["blueprint"]["identifier"] == "pagerdutyService"
    assert run["entity"]["identifier"] == "PSVCPAY"
