"""Input parsing: every spelling Port uses is understood, every mistake is named with its fix."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalator.errors import InputError
from escalator.inputs import parse_port_context, parse_port_reporting
from escalator.operations import (
    INCIDENT_OPERATIONS,
    OPERATION_INPUTS,
    OPERATIONS,
    parse_inputs,
)
from escalator.operations.escalate import EscalateInputs
from escalator.terms import ACTION

TOKEN = "pd-token-for-tests-1234"
PORT = {"port_client_id": "client-id-1234", "port_client_secret": "client-secret-5678"}

#: A valid value for every input an operation may need or accept.
VALID: dict[str, str] = {
    "incident_id": "Q2LAR4ADCXC8IB",
    "escalation_policy_id": "PPLATFM",
    "escalation_level": "2",
    "urgency": "high",
    "assignees": "bob@example.com",
    "note": "Rolled back",
    "resolution": "Fixed by the rollback",
    "snooze_duration": "30m",
    "priority": "P1",
    "title": "Card payments failing",
    "service_id": "PSVCPAY",
    "details": "Since 09:00",
    "incident_key": "payments-1",
    "schedule_id": "PSC7PAY",
    "oncall_user": "carol@example.com",
    "start": "2030-01-07T09:00:00Z",
    "end": "4h",
    "override_id": "PO7PAY1",
    "service_name": "Payments",
    "description": "Card payments",
    "event_action": "trigger",
    "dedup_key": "port-r_1",
    "severity": "warning",
    "source": "db-1",
}
ROUTING_KEY = "a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b"


def inputs(**overrides: str) -> dict[str, str]:
    base = {"incident_id": "Q2LAR4ADCXC8IB", "urgency": "high", "pagerduty_token": TOKEN}
    base.update(overrides)
    return base


def for_operation(chosen: str, **overrides: str) -> dict[str, str]:
    """The raw inputs of a valid run of operation ``chosen``, with ``overrides``."""
    needed, _ = OPERATION_INPUTS[chosen]
    raw = {"operation": chosen, "pagerduty_token": TOKEN, "routing_key": ROUTING_KEY}
    raw |= {name: VALID[name] for name in needed}
    if chosen == "escalate":
        raw["urgency"] = "high"
    if not needed and "schedule_id" in OPERATION_INPUTS[chosen][1]:  # oncall: one target
        raw["schedule_id"] = VALID["schedule_id"]
    if "oncall_user" in OPERATION_INPUTS[chosen][1]:  # the user is oncall_user or from
        raw["from"] = "alice@example.com"
    if chosen == "trigger":
        raw["title"] = VALID["title"]  # to trigger (acknowledge and resolve need a dedup_key)
    return raw | overrides


def error_for(raw: dict[str, str]) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_inputs(raw)
    return caught.value


# --- port_context ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        {"run_id": "r_abc123", "entity": "PABC123", "blueprint": "bp"},
        {"runId": "r_abc123", "entity": "PABC123", "blueprint": "bp"},
        {"context": {"runId": "r_abc123", "entity": "PABC123", "blueprint": "bp"}},
        {"context": {"run_id": "r_abc123", "entity": "PABC123", "blueprint": "bp"}},
        {"run_id": "r_abc123", "entity": {"identifier": "PABC123", "blueprint": "bp"}},
        {"run_id": "r_abc123", "blueprint": "bp", "entity": {"identifier": "PABC123", "x": [1]}},
        {"runId": "r_abc123", "entity": "PABC123", "blueprint": "bp", "trigger": {"by": {}}},
        {
            "run_id": "r_abc123",
            "entity": "PABC123",
            "blueprint": "bp",
            "action": "escalate",
            "user": "alice@example.com",
            "inputs": {"urgency": "high"},
        },
    ],
)
def test_port_context_spellings(context: dict[str, object]) -> None:
    """Each port_context shape from Port's guides gives the same run, entity and blueprint."""
    parsed = parse_port_context(json.dumps(context))
    assert (parsed.run_id, parsed.entity, parsed.blueprint) == ("r_abc123", "PABC123", "bp")


def test_relations_as_object_string_or_in_entity() -> None:
    """Relations are read from an object, from that object as a JSON string, or from the entity."""
    relations = {"pagerdutyService": ["PSVC1"], "owner": "team-a", "gone": None}
    for context in (
        {"relations": relations},
        {"relations": json.dumps(relations)},
        {"entity": {"identifier": "P1", "relations": relations}},
    ):
        assert parse_port_context(json.dumps(context)).relations == relations


@pytest.mark.parametrize(
    ("context", "key", "suggestion"),
    [
        ({"entitiy": "PABC123"}, "entitiy", "entity"),
        ({"runid": "r_1"}, "runid", "run_id"),
        ({"run-id": "r_1"}, "run-id", "run_id"),
        ({"Blueprint": "bp"}, "Blueprint", "blueprint"),
        ({"relation": {}}, "relation", "relations"),
        ({"context": {"entitty": "PABC123"}}, "entitty", "entity"),
        ({"triger": {}}, "triger", "trigger"),
    ],
)
def test_an_unknown_port_context_key_is_named_with_the_closest_known_one(
    context: dict[str, object], key: str, suggestion: str
) -> None:
    """A key nothing reads is an input error naming it and suggesting the key meant."""
    error = error_for(inputs(port_context=json.dumps(context)))
    assert error.input == "port_context"
    assert f'"{key}"' in error.render(ACTION).message
    assert f'did you mean "{suggestion}"?' in error.render(ACTION).message


def test_an_unknown_key_far_from_any_lists_the_keys_read() -> None:
    """With no close key, the error lists the keys the action reads."""
    error = error_for(inputs(port_context=json.dumps({"zzz": 1})))
    assert "did you mean" not in error.render(ACTION).message
    assert "run_id, runId, entity, blueprint, relations, context" in error.render(ACTION).message


# --- defaults, precedence, regions ---------------------------------------------------------------


def test_incident_id_overrides_the_entity() -> None:
    """The incident_id input takes precedence over the entity in port_context."""
    parsed = parse_inputs(inputs(port_context=json.dumps({"entity": "POTHER1"})))
    assert parsed.incident_id == "Q2LAR4ADCXC8IB"
    parsed = parse_inputs(inputs(incident_id="", port_context=json.dumps({"entity": "POTHER1"})))
    assert parsed.incident_id == "POTHER1"


def test_defaults_and_regions() -> None:
    """Defaults: escalate, US PagerDuty, EU Port, Port off, 120 s; a given URL beats a region."""
    parsed = parse_inputs(inputs())
    assert parsed.operation == "escalate"
    assert parsed.pagerduty_api_url == "https://api.pagerduty.com"
    assert parsed.port_api_url == "https://api.port.io"
    assert not parsed.port_enabled
    assert parsed.timeout_seconds == 120
    assert (parsed.port_blueprint, parsed.port_service_blueprint) == (
        "pagerdutyIncident",
        "pagerdutyService",
    )
    assert (parsed.finish_port_run, parsed.dry_run) == (False, False)
    assert "assignees" not in type(parsed).model_fields  # an input of other operations only
    eu = parse_inputs(inputs(pagerduty_region="EU", port_region="us"))
    assert eu.pagerduty_api_url == "https://api.eu.pagerduty.com"
    assert eu.port_api_url == "https://api.us.port.io"
    url = "http://127.0.0.1:9/pagerduty"
    overridden = parse_inputs(inputs(pagerduty_region="eu", pagerduty_api_url=url))
    assert overridden.pagerduty_api_url == url
    with pytest.raises(InputError, match="pagerduty_region"):  # a typo is not passed over
        parse_inputs(inputs(pagerduty_region="apac", pagerduty_api_url=url))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080/port/", "http://127.0.0.1:8080/port"),
        ("http://localhost:9/port/v1", "http://localhost:9/port"),
        ("https://api.getport.io", "https://api.getport.io"),
        ("http://[::1]:80/p", "http://[::1]:80/p"),
    ],
)
def test_port_api_url_override(url: str, expected: str) -> None:
    """port_api_url accepts https and loopback http, trimming a trailing slash and /v1."""
    assert parse_inputs(inputs(port_api_url=url)).port_api_url == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("TRUE", True), ("yes", True), ("1", True), ("false", False), ("No", False)],
)
def test_booleans_are_parsed_once_by_the_model(raw: str, expected: bool) -> None:
    """dry_run and finish_port_run accept the usual spellings, in any case."""
    parsed = parse_inputs(inputs(dry_run=raw, finish_port_run=raw))
    assert (parsed.dry_run, parsed.finish_port_run) == (expected, expected)


# --- the new inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("1800", 1800),
        ("1", 1),
        ("30m", 1800),
        ("4h", 14400),
        ("1h30m", 5400),
        ("1d", 86400),
        ("7d", 604800),
        ("1D2H", 93600),
        ("90s", 90),
    ],
)
def test_snooze_duration_in_seconds_or_units(raw: str, seconds: int) -> None:
    """snooze_duration is whole seconds or days, hours, minutes and seconds, into snooze_seconds."""
    parsed = parse_inputs(for_operation("snooze", snooze_duration=raw))
    assert parsed.snooze_seconds == seconds


@given(st.integers(0, 6), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_any_duration_under_a_week_is_its_seconds(d: int, h: int, m: int, s: int) -> None:
    """Every d/h/m/s combination from 1 second to 7 days parses to its number of seconds."""
    text = "".join(f"{n}{unit}" for n, unit in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if n)
    total = d * 86400 + h * 3600 + m * 60 + s
    if total == 0:
        return
    assert parse_inputs(for_operation("snooze", snooze_duration=text)).snooze_seconds == total


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice@example.com", ("alice@example.com",)),
        ("alice@example.com,PXPGF42", ("alice@example.com", "PXPGF42")),
        ("alice@example.com, bob@example.com", ("alice@example.com", "bob@example.com")),
        ("alice@example.com\nbob@example.com\n", ("alice@example.com", "bob@example.com")),
        ("PXPGF42 PXPGF42 P7Q3M8K", ("PXPGF42", "P7Q3M8K")),
    ],
)
def test_assignees_split_on_commas_spaces_and_newlines(raw: str, expected: tuple[str, ...]) -> None:
    """assignees are emails or user IDs in any mix of separators, repeats dropped, order kept."""
    assert parse_inputs(for_operation("reassign", assignees=raw)).assignees == expected


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_parses_with_its_required_inputs(operation: str) -> None:
    """Each operation, in any case, is valid with only the inputs it requires."""
    parsed = parse_inputs(for_operation(operation, operation=operation.upper()))
    assert parsed.operation == operation


def test_the_free_text_inputs_are_kept_as_given() -> None:
    """note, resolution, priority, title and details are kept as given, trimmed."""
    parsed = parse_inputs(
        for_operation("create", note=" a note ", priority="Sev 1", details="line 1\nline 2")
    )
    assert (parsed.note, parsed.priority, parsed.details) == ("a note", "Sev 1", "line 1\nline 2")
    assert parse_inputs(for_operation("resolve", resolution="done")).resolution == "done"


# --- create -----------------------------------------------------------------------------------


def service_context(**fields: object) -> str:
    return json.dumps(
        {"blueprint": "pagerdutyService", "entity": "PSVCPAY", "run_id": "r_Run42"} | fields
    )


def test_create_takes_the_service_and_the_key_from_a_service_entity() -> None:
    """On a service entity, create's service is the entity and its key comes from the run id."""
    parsed = parse_inputs(
        {
            "operation": "create",
            "title": "T",
            "pagerduty_token": TOKEN,
            "port_context": service_context(),
        }
    )
    assert (parsed.service_id, parsed.incident_key) == ("PSVCPAY", "port-r_Run42")
    assert not parsed.given("incident_id")
    assert parsed.port_blueprint == "pagerdutyIncident"
    assert parsed.port_run_id == "r_Run42"


def test_create_service_from_an_entity_takes_no_incident_from_it() -> None:
    """A create-service run from a Port action on some entity (a team, say) does not read that
    entity as an incident: the run proceeds, and the run id is still read."""
    context = json.dumps({"blueprint": "team", "entity": "payments-team", "run_id": "r_Run42"})
    parsed = parse_inputs(
        {
            "operation": "create-service",
            "service_name": "Payments",
            "escalation_policy_id": "PPAYMNT",
            "pagerduty_token": TOKEN,
            "port_context": context,
        }
    )
    assert parsed.operation == "create-service"
    assert not parsed.given("incident_id")
    assert parsed.port_run_id == "r_Run42"


def test_create_given_inputs_win_over_the_context() -> None:
    """An explicit service_id and incident_key are used rather than the context's."""
    raw = for_operation("create", port_context=service_context(), incident_key="k1")
    parsed = parse_inputs(raw | {"service_id": "PSVCCHK"})
    assert (parsed.service_id, parsed.incident_key) == ("PSVCCHK", "k1")


def test_create_reads_no_service_from_another_blueprint() -> None:
    """An entity of another blueprint is not a service: service_id is then required."""
    raw = {"operation": "create", "title": "T", "pagerduty_token": TOKEN}
    error = error_for(raw | {"port_context": service_context(blueprint="pagerdutyIncident")})
    assert error.input == "service_id"
    custom = raw | {
        "port_context": service_context(blueprint="svc"),
        "port_service_blueprint": "svc",
    }
    assert parse_inputs(custom).service_id == "PSVCPAY"


def test_create_without_a_run_has_no_key() -> None:
    """Without a run id and without incident_key, create has no de-duplication key."""
    assert parse_inputs(for_operation("create")).incident_key is None


@pytest.mark.parametrize(
    ("overrides", "input_name", "fix"),
    [
        (
            {"assignees": "bob@example.com", "escalation_policy_id": "PPLATFM"},
            "assignees",
            "not both",
        ),
        ({"port_blueprint": "pagerdutyService"}, "port_blueprint", "pagerdutyIncident"),
        ({"service_id": "", "port_context": "{}"}, "service_id", "service entity"),
        ({"title": ""}, "title", "title"),
    ],
)
def test_create_refuses_what_pagerduty_or_port_would(
    overrides: dict[str, str], input_name: str, fix: str
) -> None:
    """create refuses assignees with a policy, the service blueprint for the entity, no service."""
    error = error_for(for_operation("create", **overrides))
    assert error.input == input_name
    assert fix in error.hint_template


# --- inputs per operation --------------------------------------------------------------------


NOT_APPLICABLE = [
    (operation, name)
    for operation, (needed, accepted) in OPERATION_INPUTS.items()
    for name in VALID
    if name not in needed + accepted
]


@pytest.mark.parametrize(("operation", "input_name"), NOT_APPLICABLE)
def test_an_input_the_operation_ignores_is_an_error(operation: str, input_name: str) -> None:
    """A non-empty input that does not apply to the operation is refused, naming both."""
    error = error_for(for_operation(operation, **{input_name: VALID[input_name]}))
    assert error.input == input_name
    assert (
        error.message_template == f"{{{input_name}}}: does not apply to {{operation={operation}}}."
    )
    assert error.exit_code == 2


def test_the_not_applicable_matrix_is_the_issue_table() -> None:
    """The matrix refuses exactly what the operations table says does not apply."""
    refused = {(op, name) for op, name in NOT_APPLICABLE}
    assert ("resolve", "snooze_duration") in refused
    assert ("acknowledge", "escalation_level") in refused
    assert ("create", "incident_id") in refused
    assert ("create", "escalation_level") in refused
    assert ("escalate", "assignees") in refused
    assert not any(name == "note" for op, name in refused if op in INCIDENT_OPERATIONS)
    assert ("override", "note") in refused
    assert ("create-service", "incident_id") in refused
    assert ("trigger", "note") in refused
    assert ("escalate", "dedup_key") in refused
    assert ("create", "priority") not in refused
    assert ("resolve", "resolution") not in refused


REQUIRED = [
    (operation, name) for operation, (needed, _) in OPERATION_INPUTS.items() for name in needed
]


@pytest.mark.parametrize(("operation", "input_name"), REQUIRED)
def test_a_required_input_missing_is_named_with_the_operation(
    operation: str, input_name: str
) -> None:
    """Each input an operation requires is named when it is missing, with the operation."""
    error = error_for(for_operation(operation, **{input_name: ""}))
    assert error.input == input_name
    assert f"{{operation={operation}}}" in error.message_template


def test_escalate_with_nothing_to_change_is_a_usage_error() -> None:
    """escalate with no policy, level or urgency names the operation, not one of the three."""
    error = error_for(inputs(urgency=""))
    assert error.input == "operation"
    assert error.exit_code == 2
    for name in ("escalation_policy_id", "escalation_level", "urgency"):
        assert f"{{{name}}}" in error.hint_template


# --- invalid values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "input_name", "fix"),
    [
        ({"operation": "ack"}, "operation", "escalate, acknowledge, resolve, reassign"),
        ({"incident_id": ""}, "incident_id", "{port_context}"),
        ({"incident_id": "q2lar4"}, "incident_id", "uppercase"),
        ({"incident_id": "P1/../x"}, "incident_id", "uppercase"),
        ({"escalation_policy_id": "P 1"}, "escalation_policy_id", "policy's page"),
        ({"urgency": "critical"}, "urgency", "high or low"),
        ({"escalation_level": "two"}, "escalation_level", "1, 2, 3"),
        ({"escalation_level": "0"}, "escalation_level", "start at 1"),
        ({"from": "not-an-email"}, "from", "email"),
        ({"from": "a@b.co\r\nX-Evil: 1"}, "from", "email"),
        ({"pagerduty_token": ""}, "pagerduty_token", "REST API key"),
        ({"pagerduty_token": "abc\ndef"}, "pagerduty_token", "without spaces"),
        ({"pagerduty_region": "apac"}, "pagerduty_region", "{pagerduty_region=eu}"),
        ({"port_region": "apac"}, "port_region", "{port_region=us}"),
        ({"pagerduty_api_url": "http://example.com"}, "pagerduty_api_url", "https"),
        ({"pagerduty_api_url": "ftp://x"}, "pagerduty_api_url", "base URL"),
        ({"port_api_url": "https://u:p@api.port.io"}, "port_api_url", "credentials"),
        ({"port_client_id": "id-only"}, "port_client_secret", "both"),
        ({"port_client_secret": "secret-only"}, "port_client_id", "both"),
        ({"port_blueprint": "bad/blueprint"}, "port_blueprint", "identifier"),
        ({"port_service_blueprint": "bad bp"}, "port_service_blueprint", "identifier"),
        ({"dry_run": "maybe"}, "dry_run", "true or false"),
        ({"finish_port_run": "2"}, "finish_port_run", "true or false"),
        ({"timeout_seconds": "1"}, "timeout_seconds", "120"),
        ({"timeout_seconds": "nan"}, "timeout_seconds", "120"),
        ({"github_token": "a\nb"}, "github_token", "github.token"),
        ({"port_property_mapping": "[]"}, "port_property_mapping", "JSON object"),
        ({"port_property_mapping": '{"team": "a..b"}'}, "port_property_mapping.team", "dotted"),
        ({"port_context": "{not json"}, "port_context", "Template it"),
        ({"port_context": "[1]"}, "port_context", "Template it"),
        ({"port_context": '{"run_id": NaN}'}, "port_context", "Template it"),
        ({"port_context": '{"run_id": 5}'}, "port_context.run_id", "{{.run.id}}"),
        ({"port_context": '{"run_id": "r 1"}'}, "port_context.run_id", "{{.run.id}}"),
        ({"port_context": '{"entity": [1]}'}, "port_context.entity", "{{.entity.identifier}}"),
        ({"port_context": '{"relations": {"svc": 3}}'}, "port_context.relations.svc", "relations"),
        ({"port_context": '{"relations": {"a b": "x"}}'}, "port_context.relations", "relations"),
        ({"port_context": "[" * 40 + "]" * 40}, "port_context", "Template it"),
        ({"port_context": '{"a": "' + "x" * 300_000 + '"}'}, "port_context", "Send only"),
    ],
)
def test_invalid_input_names_the_input_and_the_fix(
    overrides: dict[str, str], input_name: str, fix: str
) -> None:
    """Each invalid input raises InputError naming that input, with a hint that says what to do."""
    error = error_for(inputs(**overrides))
    assert error.input == input_name
    assert error.message_template.startswith(f"{{{input_name}}}: ")
    assert fix in error.hint_template
    assert error.exit_code == 2


@pytest.mark.parametrize(
    ("operation", "overrides", "input_name", "problem"),
    [
        ("snooze", {"snooze_duration": "5x"}, "snooze_duration", "is not a number of seconds"),
        ("snooze", {"snooze_duration": "0"}, "snooze_duration", "between 1 second and 7 days"),
        ("snooze", {"snooze_duration": "8d"}, "snooze_duration", "between 1 second and 7 days"),
        ("snooze", {"snooze_duration": "1.5h"}, "snooze_duration", "is not a number of seconds"),
        ("snooze", {"snooze_duration": "m"}, "snooze_duration", "is not a number of seconds"),
        ("reassign", {"assignees": "bob"}, "assignees", "neither an email nor"),
        ("reassign", {"assignees": "bob@example.com, x@y"}, "assignees", '"x@y" is neither'),
        ("priority", {"priority": "P1\nP2"}, "priority", "line breaks"),
        ("create", {"incident_key": "k" * 256}, "incident_key", "is not an incident key"),
        ("create", {"service_id": "psvc"}, "service_id", "is not a PagerDuty service ID"),
    ],
)
def test_invalid_values_of_the_new_inputs(
    operation: str, overrides: dict[str, str], input_name: str, problem: str
) -> None:
    """Each new input's bad values are refused with the input named and the value quoted."""
    error = error_for(for_operation(operation, **overrides))
    assert error.input == input_name
    assert problem in error.message_template


def test_deeply_nested_json_is_an_input_error_not_a_crash() -> None:
    """JSON nested past Python's recursion limit is an InputError, never a RecursionError."""
    error = error_for(inputs(port_context="[" * 100_000 + "]" * 100_000))
    assert error.input == "port_context"


def test_a_secret_is_never_quoted_in_an_error() -> None:
    """An invalid token is refused without its value in the message or the hint."""
    error = error_for(inputs(pagerduty_token="secret-value\x07"))
    assert error.input == "pagerduty_token"
    assert "secret-value" not in str(error)


def test_the_model_is_frozen_and_hides_secrets() -> None:
    """The validated inputs cannot be changed and their repr shows no secret."""
    parsed = parse_inputs(inputs(**PORT))
    assert isinstance(parsed, EscalateInputs)
    with pytest.raises(ValueError, match="frozen"):
        parsed.urgency = "low"  # type: ignore[misc]
    shown = repr(parsed) + str(parsed)
    for secret in (TOKEN, *PORT.values()):
        assert secret not in shown


def test_values_are_trimmed_and_urgency_is_case_insensitive() -> None:
    """Spaces YAML leaves around values are dropped, and 'High' means high."""
    parsed = parse_inputs(inputs(urgency=" High ", escalation_policy_id=" PPLATFM\n"))
    assert parsed.urgency == "high"
    assert parsed.escalation_policy_id == "PPLATFM"


def test_insecure_http_hosts_allow_plain_http_to_a_named_host() -> None:
    """ESCALATOR_INSECURE_HTTP_HOSTS lets a test network reach the sandbox over plain http."""
    raw = inputs(pagerduty_api_url="http://172.17.0.1:8080/pagerduty")
    with pytest.raises(InputError):
        parse_inputs(raw)
    parsed = parse_inputs(raw, insecure_http_hosts=frozenset({"172.17.0.1"}))
    assert parsed.pagerduty_api_url == "http://172.17.0.1:8080/pagerduty"


# --- the Port run of a refused run -------------------------------------------------------------


REPORTABLE = PORT | {"port_context": json.dumps({"run_id": "r_Run42", "entity": "bad id"})}


def test_the_port_run_is_known_even_when_other_inputs_are_invalid() -> None:
    """parse_port_reporting reads the run and the credentials past any other invalid input."""
    raw = REPORTABLE | {"pagerduty_token": "", "urgency": "urgent", "timeout_seconds": "x"}
    reporting = parse_port_reporting(raw)
    assert reporting is not None
    assert reporting.port_run_id == "r_Run42"
    assert reporting.port_api_url == "https://api.port.io"
    assert reporting.port_client_id is not None
    assert reporting.port_client_id.get_secret_value() == PORT["port_client_id"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"dry_run": "true"},
        {"port_client_secret": ""},
        {"port_api_url": "http://example.com"},
        {"port_context": json.dumps({"run_id": "r_1/../x"})},
        {"port_context": json.dumps({"entity": "P1"})},
        {"port_context": "{"},
    ],
)
def test_no_port_run_to_tell_without_a_run_credentials_or_writes(
    overrides: dict[str, str],
) -> None:
    """A dry run, missing credentials, a bad Port URL or no valid run id leave Port untold."""
    assert parse_port_reporting(REPORTABLE | overrides) is None
