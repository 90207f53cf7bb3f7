"""What the action writes is bounded and redacted only where a secret can be: outputs, summary."""

from __future__ import annotations

import io
import json
from pathlib import Path

from escalator.clients.models import Incident
from escalator.report.summary import MAX_INCIDENT_OUTPUT, PLAIN_OUTPUTS, incident_json
from escalator.step_files import OutputWriter, SummaryWriter
from escalator.terms import ACTION
from escalator.workflow import Console


def test_a_padded_incident_is_cut_to_its_essential_fields() -> None:
    """An answer padded to megabytes gives an `incident` output under the cap, still valid JSON
    holding the fields the other outputs and the entity use."""
    padded = Incident.model_validate(
        {"id": "Q1", "status": "triggered", "title": "t", "padding": "x" * (3 * 1024 * 1024)}
    )
    text = incident_json(padded)
    assert len(text.encode("utf-8")) <= MAX_INCIDENT_OUTPUT
    document = json.loads(text)
    assert document["id"] == "Q1"
    assert document["truncated"] is True
    assert "padding" not in document


def test_a_normal_incident_is_written_whole() -> None:
    """An incident under the cap is written as PagerDuty sent it, unknown fields included."""
    incident = Incident.model_validate({"id": "Q1", "status": "triggered", "extra_field": 1})
    assert json.loads(incident_json(incident))["extra_field"] == 1


def test_a_short_secret_does_not_corrupt_closed_set_outputs(tmp_path: Path) -> None:
    """A credential that happens to be `true` leaves `changed=true` as it is (the runner masks it
    in the log anyway), while a free-text output is still redacted."""
    console = Console(io.StringIO(), github=True, terms=ACTION)
    console.add_secret("true")
    console.add_secret("a-real-looking-secret_value+1")
    path = tmp_path / "out"
    writer = OutputWriter(path, console)
    writer.set("changed", "true", redact="changed" not in PLAIN_OUTPUTS)
    writer.set("incident", '{"title": "a-real-looking-secret_value+1"}')
    assert writer.written["changed"] == "true"
    assert "a-real-looking-secret_value+1" not in writer.written["incident"]
    assert "***" in writer.written["incident"]


def test_a_summary_over_the_limit_keeps_its_start(tmp_path: Path) -> None:
    """A summary over GitHub's 1 MiB is cut at its end: the heading and the error stay."""
    path = tmp_path / "summary.md"
    writer = SummaryWriter(path, Console(io.StringIO(), github=True, terms=ACTION))
    head = "## ❌ Escalation failed\n\n**Error:** the error\n\n"
    writer.append(head + "- warning line\n" * 200_000)
    written = path.read_text(encoding="utf-8")
    assert written.startswith(head)
    assert len(written.encode("utf-8")) <= SummaryWriter.LIMIT
    assert written.rstrip().endswith("_(summary cut: over GitHub's 1 MiB limit)_")
