"""Checks that the Port setup kit and examples/ are valid and consistent with the action.

The Port JSON files are validated against the request bodies of Port's own API description, as
kept in `tests/contracts/port.json` (extracted from the official description by
`scripts/extract_contracts.py`), so the check runs on any clone.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regress
import yaml

from escalator.kit import definitions
from escalator.operations import INCIDENT_OPERATIONS, OPERATIONS, TARGET_OPERATIONS
from tests.contract import load_extract
from tests.script_files import load_script, run_script
from tests.tools import lint_tool

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
PORT = EXAMPLES / "port"
KIT = REPO / "escalator" / "kit" / "data"

GITHUB_ACTION = KIT / definitions.action_file("escalate")
WEBHOOK_ACTION = KIT / "escalate-incident-webhook-action.json"
EVENT_WEBHOOK_ACTION = KIT / "trigger-event-webhook-action.json"
AUTOMATION = KIT / "sync-incident-automation.json"
BLUEPRINTS = KIT / "blueprints.json"
WORKFLOW = EXAMPLES / definitions.DEFAULT_WORKFLOW
GITHUB_ACTIONS = [KIT / definitions.action_file(name) for name in definitions.OPERATIONS]
#: The actions run on one incident (or creating one); an operation on another target has its own
#: blueprint and context, checked by its tests.
INCIDENT_ACTIONS = [KIT / definitions.action_file(name) for name in INCIDENT_OPERATIONS]
PORT_ACTIONS = [path for path in sorted(KIT.glob("*.json")) if path != BLUEPRINTS]
#: Inputs the example workflow declares for running it by hand; no Port action sends them.
BY_HAND_ONLY = {"incident_id", "service_id", "incident_key"}


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def operation_of(path: Path) -> str:
    """The operation whose kit action ``path`` holds."""
    return next(
        name for name in definitions.OPERATIONS if definitions.action_file(name) == path.name
    )


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow_dispatch_inputs(workflow: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    triggers = workflow.get("on", workflow.get(True))
    inputs: dict[str, Any] = triggers["workflow_dispatch"]["inputs"]
    return inputs


def action_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "escalate-action@" in str(step.get("uses", ""))
    ]


@cache
def port_spec() -> dict[str, Any]:
    spec: dict[str, Any] = load_extract("port.json")
    return spec


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # Port's patterns are ECMA-262 with Unicode classes such as \p{L}, which Python's re lacks.
    if validator.is_type(instance, "string") and regress.Regex(pattern, "u").find(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_PortValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _ecma_pattern}
)


def request_body_validator(path: str, method: str = "post") -> Any:
    spec = port_spec()
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    # The body's $refs point into the document's components; give them a root to resolve in.
    return _PortValidator({**body, "components": spec["components"]})


def assert_valid(validator: Any, document: Any) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    messages = [f"{list(error.absolute_path)}: {error.message[:300]}" for error in errors]
    assert not messages, "\n".join(messages)


def port_request_path(document: dict[str, Any]) -> str:
    """The Port endpoint creating ``document``: a blueprint has a schema, an action a trigger."""
    if "schema" in document:
        return "/v1/blueprints"
    assert "trigger" in document, "neither a blueprint (schema) nor an action or automation"
    return "/v1/actions"


PORT_JSON_FILES = sorted(EXAMPLES.rglob("*.json")) + sorted(KIT.glob("*.json"))


@pytest.mark.parametrize("path", PORT_JSON_FILES, ids=lambda p: p.name)
def test_every_port_json_file_matches_port_api_schema(path: Path) -> None:
    """Each object of each JSON file of the kit is a valid body for the endpoint creating it."""
    content = load_json(path)
    for document in content if isinstance(content, list) else [content]:
        assert_valid(request_body_validator(port_request_path(document)), document)


def test_the_schema_check_covers_the_kit() -> None:
    """The blueprints, both actions and the automation are among the files the check reads."""
    assert {BLUEPRINTS, GITHUB_ACTION, WEBHOOK_ACTION, AUTOMATION} <= set(PORT_JSON_FILES)
    kinds = {port_request_path(bp) for bp in load_json(BLUEPRINTS)}
    assert kinds == {"/v1/blueprints"}
    assert port_request_path(load_json(AUTOMATION)) == "/v1/actions"


def test_kit_files_are_every_action_and_the_webhook_variant() -> None:
    """The kit holds the blueprints, one action per operation, the webhook action and automation."""
    variants = [WEBHOOK_ACTION, EVENT_WEBHOOK_ACTION, AUTOMATION]
    expected = {p.name for p in [BLUEPRINTS, *variants, *GITHUB_ACTIONS]}
    assert set(definitions.data_files()) == expected
    assert len(GITHUB_ACTIONS) == len(OPERATIONS)


def test_port_schema_check_rejects_a_broken_action() -> None:
    """The schema check fails for an action whose invocation lacks the workflow to dispatch."""
    action = load_json(GITHUB_ACTION)
    del action["invocationMethod"]["workflow"]
    assert list(request_body_validator("/v1/actions").iter_errors(action))


def _key_fields(blueprint: dict[str, Any]) -> dict[str, Any]:
    properties = {
        name: {key: spec.get(key) for key in ("type", "format", "enum")}
        for name, spec in blueprint["schema"]["properties"].items()
    }
    relations = {
        name: {key: spec.get(key) for key in ("target", "many", "required")}
        for name, spec in blueprint.get("relations", {}).items()
    }
    return {
        "identifier": blueprint["identifier"],
        "properties": properties,
        "required": sorted(blueprint["schema"].get("required", [])),
        "relations": relations,
    }


def test_blueprints_agree_with_the_guides_blueprints() -> None:
    """The kit's blueprints have the identifiers, types, enums and relations of Port's guide."""
    ours = {bp["identifier"]: _key_fields(bp) for bp in load_json(BLUEPRINTS)}
    theirs = {
        bp["identifier"]: _key_fields(bp) for bp in load_extract("port-pagerduty-blueprints.json")
    }
    assert ours == theirs


def test_blueprints_create_the_relation_target_first() -> None:
    """Every relation targets a blueprint listed earlier, so the file can be applied in order."""
    seen: set[str] = set()
    for blueprint in load_json(BLUEPRINTS):
        for relation in blueprint.get("relations", {}).values():
            assert relation["target"] in seen, relation
        seen.add(blueprint["identifier"])


def test_example_workflow_matches_workflow_schema() -> None:
    """The user's workflow is valid against the GitHub workflow schema."""
    tool = lint_tool("check-jsonschema")
    result = subprocess.run(
        [
            str(tool),
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", GITHUB_ACTIONS, ids=operation_of)
def test_port_action_dispatches_the_example_workflow(path: Path) -> None:
    """Each action names the example workflow's file and its own operation, so Port dispatches
    that one workflow with the operation the action stands for."""
    invocation = load_json(path)["invocationMethod"]
    assert invocation["type"] == "GITHUB"
    assert invocation["workflow"] == WORKFLOW.name
    assert invocation["workflowInputs"]["operation"] == operation_of(path)
    options = workflow_dispatch_inputs(load_yaml(WORKFLOW))["operation"]["options"]
    assert operation_of(path) in options


@pytest.mark.parametrize("path", GITHUB_ACTIONS, ids=operation_of)
def test_port_workflow_inputs_are_declared_by_the_workflow(path: Path) -> None:
    """Each action sends only inputs the workflow declares (GitHub rejects unknown ones), and
    every input the workflow requires."""
    sent = set(load_json(path)["invocationMethod"]["workflowInputs"])
    declared = workflow_dispatch_inputs(load_yaml(WORKFLOW))
    assert sent <= set(declared), sent - set(declared)
    required = {name for name, spec in declared.items() if spec.get("required")}
    assert required <= sent


def test_workflow_declares_only_what_the_actions_send_or_a_person_gives() -> None:
    """The workflow's inputs are what the actions send, plus the few given only by hand."""
    sent = {
        name
        for path in GITHUB_ACTIONS
        for name in load_json(path)["invocationMethod"]["workflowInputs"]
    }
    declared = set(workflow_dispatch_inputs(load_yaml(WORKFLOW)))
    assert declared == sent | BY_HAND_ONLY
    assert not sent & BY_HAND_ONLY


@pytest.mark.parametrize("path", INCIDENT_ACTIONS, ids=operation_of)
def test_port_context_carries_what_the_action_reads(path: Path) -> None:
    """The port_context Port sends has the blueprint, entity, run_id and relations."""
    context = load_json(path)["invocationMethod"]["workflowInputs"]["port_context"]
    assert context == {
        "blueprint": "{{ .action.blueprint }}",
        "entity": "{{ .entity.identifier }}",
        "run_id": "{{ .run.id }}",
        "relations": "{{ .entity.relations }}",
    }


@pytest.mark.parametrize("path", GITHUB_ACTIONS, ids=operation_of)
def test_port_action_leaves_the_final_status_to_port(path: Path) -> None:
    """Port reports the workflow's status, matching the action's default finish_port_run: false."""
    assert load_json(path)["invocationMethod"]["reportWorkflowStatus"] is True
    finish = load_yaml(REPO / "action.yml")["inputs"]["finish_port_run"]
    assert finish["default"] == "false"


@pytest.mark.parametrize("path", GITHUB_ACTIONS, ids=operation_of)
def test_port_user_inputs_all_reach_the_workflow(path: Path) -> None:
    """Every input the user fills in Port is passed on to the workflow input of the same name."""
    action = load_json(path)
    sent = action["invocationMethod"]["workflowInputs"]
    for name in action["trigger"]["userInputs"]["properties"]:
        assert f"{{{{ .inputs.{name} " in sent[name], name


@pytest.mark.parametrize("path", GITHUB_ACTIONS, ids=operation_of)
def test_from_defaults_to_the_clicking_users_email(path: Path) -> None:
    """`from` is a required Port user input defaulting to the email of the user who runs it (an
    Events API action, which needs none, sends the clicking user's email to the workflow)."""
    action = load_json(path)
    inputs = action["trigger"]["userInputs"]
    if not OPERATIONS[operation_of(path)].needs_rest_token:
        sent = action["invocationMethod"]["workflowInputs"]["from"]
        assert sent == "{{ .trigger.by.user.email }}"
        assert "from" not in inputs["properties"]
        return
    assert inputs["properties"]["from"]["format"] == "user"
    assert inputs["properties"]["from"]["default"] == {"jqQuery": ".user.email"}
    assert "from" in inputs["required"]
    assert list(inputs["properties"]) == inputs["order"]


@pytest.mark.parametrize("path", INCIDENT_ACTIONS, ids=operation_of)
def test_actions_run_on_the_blueprint_of_their_operation(path: Path) -> None:
    """Create runs on a service entity, the on-call operations on a schedule entity; every other
    operation on an incident entity, hidden on resolved incidents except the note (PagerDuty
    takes notes on resolved incidents)."""
    trigger = load_json(path)["trigger"]
    operation = operation_of(path)
    if operation in TARGET_OPERATIONS:
        on_service = OPERATIONS[operation].runs_on_service
        expected = definitions.SERVICE_BLUEPRINT if on_service else "pagerdutySchedule"
        assert trigger["blueprintIdentifier"] == expected
        return
    service = operation == "create"
    assert trigger["blueprintIdentifier"] == (
        definitions.SERVICE_BLUEPRINT if service else definitions.INCIDENT_BLUEPRINT
    )
    hides_resolved = {"property": "status", "operator": "!=", "value": "resolved"}
    rules = trigger.get("condition", {}).get("rules", [])
    assert (hides_resolved in rules) is (operation != "note" and not service)


def test_assignees_are_port_users_joined_with_commas() -> None:
    """Reassign offers several Port users and sends their emails as one comma-separated input."""
    action = load_json(KIT / definitions.action_file("reassign"))
    assignees = action["trigger"]["userInputs"]["properties"]["assignees"]
    assert assignees["type"] == "array"
    assert assignees["items"] == {"type": "string", "format": "user"}
    sent = action["invocationMethod"]["workflowInputs"]["assignees"]
    assert sent == '{{ .inputs.assignees // [] | join(",") }}'


def _duration_seconds(text: str) -> int:
    """Seconds of a duration such as 30m, 4h, 1h30m or 1d, as the action's input reads it."""
    match = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    assert text, text
    assert match, text
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def test_snooze_durations_are_ones_pagerduty_accepts() -> None:
    """Every duration offered for a snooze is written as the action reads it and lies between
    one second and seven days, PagerDuty's bounds."""
    action = load_json(KIT / definitions.action_file("snooze"))
    duration = action["trigger"]["userInputs"]["properties"]["snooze_duration"]
    assert duration["default"] in duration["enum"]
    for value in duration["enum"]:
        assert 1 <= _duration_seconds(value) <= 7 * 24 * 3600, value


def test_priorities_offered_are_the_integrations() -> None:
    """The priority action offers the P1-P5 names the integration blueprint's priority holds."""
    action = load_json(KIT / definitions.action_file("priority"))
    offered = action["trigger"]["userInputs"]["properties"]["priority"]["enum"]
    blueprints = load_extract("port-pagerduty-integration-blueprints.json")
    incident = next(bp for bp in blueprints if bp["identifier"] == "pagerdutyIncident")
    assert offered == incident["schema"]["properties"]["priority"]["enum"]


def test_create_action_asks_for_a_title_and_names_the_service_through_port_context() -> None:
    """Create asks for a title (required), urgency and details, and lets port_context name the
    service entity rather than a service_id input."""
    action = load_json(KIT / definitions.action_file("create"))
    inputs = action["trigger"]["userInputs"]
    assert set(inputs["properties"]) == {"title", "urgency", "details", "from"}
    assert set(inputs["required"]) == {"title", "from"}
    assert inputs["properties"]["urgency"]["enum"] == ["high", "low"]
    assert "service_id" not in action["invocationMethod"]["workflowInputs"]


@pytest.mark.parametrize("path", GITHUB_ACTIONS, ids=operation_of)
def test_kit_action_inputs_are_action_inputs(path: Path) -> None:
    """Each workflow input an action sends is an input of the action, so the workflow can hand
    it on under the same name."""
    declared = set(load_yaml(REPO / "action.yml")["inputs"])
    assert set(load_json(path)["invocationMethod"]["workflowInputs"]) <= declared


def test_example_workflow_passes_only_declared_action_inputs() -> None:
    """The workflow's `with:` uses only inputs action.yml declares and gives every required
    one."""
    declared = load_yaml(REPO / "action.yml")["inputs"]
    required = {name for name, spec in declared.items() if spec.get("required")}
    steps = action_steps(load_yaml(WORKFLOW))
    assert len(steps) == 1
    given = set(steps[0]["with"])
    assert given <= set(declared), given - set(declared)
    assert required <= given


def test_example_workflow_forwards_every_dispatch_input() -> None:
    """Each workflow_dispatch input is handed to the action input of the same name."""
    workflow = load_yaml(WORKFLOW)
    given = action_steps(workflow)[0]["with"]
    for name in workflow_dispatch_inputs(workflow):
        assert given.get(name) == f"${{{{ inputs.{name} }}}}", name


def test_example_workflow_has_least_privilege_and_a_timeout() -> None:
    """The user's workflow grants no token scope by default and bounds its job in time."""
    workflow = load_yaml(WORKFLOW)
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        assert "timeout-minutes" in job
        assert set(job.get("permissions", {}).values()) <= {"read", "none"}


def test_example_workflow_keeps_secrets_in_secrets() -> None:
    """The tokens and the Port client secret come from repository secrets, never literals."""
    given = action_steps(load_yaml(WORKFLOW))[0]["with"]
    for name in ("pagerduty_token", "port_client_id", "port_client_secret"):
        assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", given[name]), name


def test_automation_maps_url_to_the_web_page() -> None:
    """The synced-webhook automation stores the incident's html_url, not the API `self` URL."""
    properties = load_json(AUTOMATION)["invocationMethod"]["mapping"]["properties"]
    assert ".incident.html_url" in properties["url"]
    assert ".self" not in json.dumps(properties)


def test_automation_templates_are_valid_jq_paths() -> None:
    """Array elements are read with [0], which jq accepts, not with .0, which it rejects."""
    automation = load_json(AUTOMATION)
    templates = re.findall(r"\{\{(.*?)\}\}", json.dumps(automation["invocationMethod"]))
    templates += automation["trigger"]["condition"]["expressions"]
    assert templates
    for template in templates:
        assert not re.search(r"\.\d", template), template


def test_automation_follows_the_webhook_action() -> None:
    """The automation listens to the webhook action's runs and writes the blueprint it acts on."""
    webhook = load_json(WEBHOOK_ACTION)
    automation = load_json(AUTOMATION)
    assert automation["trigger"]["event"]["actionIdentifier"] == webhook["identifier"]
    assert (
        automation["invocationMethod"]["blueprintIdentifier"]
        == webhook["trigger"]["blueprintIdentifier"]
    )


def test_automation_relation_shape_matches_the_blueprint() -> None:
    """A many-relation gets a list of identifiers, a single relation one identifier."""
    blueprints = {bp["identifier"]: bp for bp in load_json(BLUEPRINTS)}
    mapping = load_json(AUTOMATION)["invocationMethod"]["mapping"]
    relations = blueprints["pagerdutyIncident"]["relations"]
    for name, value in mapping["relations"].items():
        assert isinstance(value, list) == relations[name]["many"], name


def test_mapped_properties_exist_in_the_blueprint() -> None:
    """The automation writes only properties the incident blueprint defines."""
    blueprints = {bp["identifier"]: bp for bp in load_json(BLUEPRINTS)}
    mapping = load_json(AUTOMATION)["invocationMethod"]["mapping"]
    defined = set(blueprints["pagerdutyIncident"]["schema"]["properties"])
    assert set(mapping["properties"]) <= defined


def test_webhook_action_sends_what_pagerduty_requires() -> None:
    """The webhook sends PagerDuty's auth, API version and From headers and an incident body."""
    invocation = load_json(WEBHOOK_ACTION)["invocationMethod"]
    headers = invocation["headers"]
    assert headers["Authorization"].startswith("Token token={{ .secrets.")
    assert headers["Accept"] == "application/vnd.pagerduty+json;version=2"
    assert headers["From"] == "{{ .inputs.from }}"
    assert invocation["method"] == "PUT"
    assert invocation["synchronized"] is True
    assert invocation["body"]["incident"]["type"] == "incident_reference"


def test_examples_readme_explains_every_file() -> None:
    """examples/README.md names each file of the kit."""
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    files = [p for p in EXAMPLES.rglob("*") if p.is_file() and p.name != "README.md"]
    assert files
    for path in files:
        assert str(path.relative_to(EXAMPLES)) in readme, path


def test_examples_port_is_the_kits_copy() -> None:
    """examples/port holds exactly the kit's files, byte for byte (scripts/kit_examples.py)."""
    result = run_script("kit_examples.py", "--check")
    assert result.returncode == 0, result.stderr


def test_kit_examples_script_refreshes_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script copies the kit, drops stale files, and names each file that differs."""
    script = load_script("kit_examples.py", "kit_examples")
    examples = tmp_path / "port"
    examples.mkdir()
    monkeypatch.setattr(script, "EXAMPLES", examples)
    (examples / "old-action.json").write_text("{}", encoding="utf-8")
    script.refresh()
    assert script.differences() == []
    assert sorted(p.name for p in examples.iterdir()) == definitions.data_files()
    (examples / "blueprints.json").write_text("[]", encoding="utf-8")
    (examples / "note-incident-action.json").unlink()
    assert script.differences() == [
        "missing: examples/port/note-incident-action.json",
        "differs from the kit: examples/port/blueprints.json",
    ]


#: GitHub refuses a workflow whose workflow_dispatch declares more inputs than this.
WORKFLOW_DISPATCH_INPUT_LIMIT = 25


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yml")), ids=lambda p: p.name)
def test_an_example_workflow_declares_no_more_inputs_than_github_takes(path: Path) -> None:
    """An example workflow declares at most the 25 workflow_dispatch inputs GitHub accepts."""
    workflow = load_yaml(path)
    triggers = workflow.get("on", workflow.get(True))
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert 0 < len(inputs) <= WORKFLOW_DISPATCH_INPUT_LIMIT, len(inputs)
