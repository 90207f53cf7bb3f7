"""Input parsing: every spelling Port uses is understood, every mistake is named with its fix."""

from __future__ import annotations

import json

import pytest

from escalator.errors import InputError
from escalator.inputs import ActionInputs, parse_inputs, parse_port_context

TOKEN = "pd-token-for-tests-1234"


def inputs(**overrides: str) -> dict[str, str]:
    base = {"incident_id": "Q2LAR4ADCXC8IB", "urgency": "high", "pagerduty_token": TOKEN}
    base.update(overrides)
    return base


def error_for(**overrides: str) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_inputs(inputs(**overrides))
    return caught.value


@pytest.mark.parametrize(
    "context",
    [
        {"run_id": "r_abc123", "entity": "PABC123", "blueprint": "bp"},
        {"runId": "r_abc123", "entity": "PABC123", "blueprint": "bp"},
        {"context": {"runId": "r_abc123", "entity": "PABC123", "blueprint": "bp"}},
        {"context": {"run_id": "r_abc123", "entity": "PABC123", "blueprint": "bp"}},
        {"run_id": "r_abc123", "entity": {"identifier": "PABC123", "blueprint": "bp"}},
        {"run_id": "r_abc123", "blueprint": "bp", "entity": {"identifier": "PABC123"}, "x": [1]},
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


def test_incident_id_overrides_the_entity() -> None:
    """The incident_id input takes precedence over the entity in port_context."""
    parsed = parse_inputs(inputs(port_context=json.dumps({"entity": "POTHER1"})))
    assert parsed.incident_id == "Q2LAR4ADCXC8IB"
    parsed = parse_inputs(inputs(incident_id="", port_context=json.dumps({"entity": "POTHER1"})))
    assert parsed.incident_id == "POTHER1"


def test_defaults_and_regions() -> None:
    """Without overrides the US PagerDuty and EU Port APIs are used, Port is off, 120 s deadline."""
    parsed = parse_inputs(inputs())
    assert parsed.pagerduty_api_url == "https://api.pagerduty.com"
    assert parsed.port_api_url == "https://api.port.io"
    assert not parsed.port_enabled
    assert parsed.timeout_seconds == 120
    assert parsed.port_blueprint == "pagerdutyIncident"
    assert parsed.finish_port_run is False
    eu = parse_inputs(inputs(pagerduty_region="EU", port_region="us"))
    assert eu.pagerduty_api_url == "https://api.eu.pagerduty.com"
    assert eu.port_api_url == "https://api.us.port.io"


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
    ("overrides", "input_name", "fix"),
    [
        ({"incident_id": ""}, "incident_id", "Set incident_id"),
        ({"incident_id": "q2lar4"}, "incident_id", "uppercase"),
        ({"incident_id": "P1/../x"}, "incident_id", "uppercase"),
        ({"escalation_policy_id": "P 1"}, "escalation_policy_id", "policy's page"),
        ({"urgency": ""}, "escalation_policy_id", "at least one"),
        ({"urgency": "critical"}, "urgency", "high or low"),
        ({"escalation_level": "two"}, "escalation_level", "1, 2, 3"),
        ({"escalation_level": "0"}, "escalation_level", "start at 1"),
        ({"from": "not-an-email"}, "from", "email"),
        ({"from": "a@b.co\r\nX-Evil: 1"}, "from", "email"),
        ({"pagerduty_token": ""}, "pagerduty_token", "secrets"),
        ({"pagerduty_token": "abc\ndef"}, "pagerduty_token", "without spaces"),
        ({"pagerduty_region": "apac"}, "pagerduty_region", "us or eu"),
        ({"port_region": "apac"}, "port_region", "eu or us"),
        ({"pagerduty_api_url": "http://example.com"}, "pagerduty_api_url", "https"),
        ({"pagerduty_api_url": "ftp://x"}, "pagerduty_api_url", "base URL"),
        ({"port_api_url": "https://u:p@api.port.io"}, "port_api_url", "credentials"),
        ({"port_client_id": "id-only"}, "port_client_secret", "both"),
        ({"port_client_secret": "secret-only"}, "port_client_id", "both"),
        ({"port_blueprint": "bad/blueprint"}, "port_blueprint", "identifier"),
        ({"dry_run": "maybe"}, "dry_run", "true or false"),
        ({"finish_port_run": "2"}, "finish_port_run", "true or false"),
        ({"timeout_seconds": "1"}, "timeout_seconds", "120"),
        ({"timeout_seconds": "nan"}, "timeout_seconds", "120"),
        ({"port_property_mapping": "[]"}, "port_property_mapping", "object"),
        ({"port_property_mapping": '{"team": "a..b"}'}, "port_property_mapping", "paths"),
        ({"port_context": "{not json"}, "port_context", "Pass an object"),
        ({"port_context": "[1]"}, "port_context", "Template it"),
        ({"port_context": '{"run_id": 5}'}, "port_context.run_id", "workflowInputs"),
        ({"port_context": '{"run_id": "r 1"}'}, "port_context.run_id", "{{.run.id}}"),
        ({"port_context": '{"entity": [1]}'}, "port_context.entity", "workflowInputs"),
        ({"port_context": '{"relations": {"svc": 3}}'}, "port_context.relations.svc", ""),
        ({"port_context": "[" * 40 + "]" * 40}, "port_context", "Pass an object"),
        ({"port_context": '{"a": "' + "x" * 300_000 + '"}'}, "port_context", "Send only"),
    ],
)
def test_invalid_input_names_the_input_and_the_fix(
    overrides: dict[str, str], input_name: str, fix: str
) -> None:
    """Each invalid input raises InputError naming that input, with a hint that says what to do."""
    error = error_for(**overrides)
    assert error.input == input_name
    assert fix in error.hint


def test_deeply_nested_json_is_an_input_error_not_a_crash() -> None:
    """JSON nested past Python's recursion limit is an InputError, never a RecursionError."""
    error = error_for(port_context="[" * 100_000 + "]" * 100_000)
    assert error.input == "port_context"


def test_the_model_is_frozen_and_hides_secrets() -> None:
    """The validated inputs cannot be changed and their repr shows no secret."""
    parsed = parse_inputs(
        inputs(port_client_id="client-id-1234", port_client_secret="client-secret-5678")
    )
    assert isinstance(parsed, ActionInputs)
    with pytest.raises(ValueError, match="frozen"):
        parsed.urgency = "low"  # type: ignore[misc]
    shown = repr(parsed) + str(parsed)
    for secret in (TOKEN, "client-id-1234", "client-secret-5678"):
        assert secret not in shown


def test_values_are_trimmed_and_urgency_is_case_insensitive() -> None:
    """Spaces YAML leaves around values are dropped, and 'High' means high."""
    parsed = parse_inputs(inputs(urgency=" High ", escalation_policy_id=" PT4KHLK\n"))
    assert parsed.urgency == "high"
    assert parsed.escalation_policy_id == "PT4KHLK"


def test_insecure_http_hosts_allow_plain_http_to_a_named_host() -> None:
    """ESCALATOR_INSECURE_HTTP_HOSTS lets a test network reach the sandbox over plain http."""
    raw = inputs(pagerduty_api_url="http://172.17.0.1:8080/pagerduty")
    with pytest.raises(InputError):
        parse_inputs(raw)
    parsed = parse_inputs(raw, insecure_http_hosts=frozenset({"172.17.0.1"}))
    assert parsed.pagerduty_api_url == "http://172.17.0.1:8080/pagerduty"
