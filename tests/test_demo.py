"""The demo runs its three steps end to end against its own sandbox and shows what they did."""

from __future__ import annotations

import re

import pytest
import yaml

from escalator.demo import STEPS, run_demo
from escalator.demo_events import ROUTING_KEY, run_events_demo


def test_the_demo_escalates_acknowledges_and_resolves_the_incident(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """All three steps succeed; PagerDuty ends resolved with both notes; each run got its logs."""
    assert [operation for operation, _ in STEPS] == ["escalate", "acknowledge", "resolve"]
    assert run_demo() == 0
    shown = capsys.readouterr().out
    for number in (1, 2, 3):
        assert f"Step {number}: job log (exit code 0)" in shown
    after = next(line for line in shown.splitlines() if line.startswith("  after: "))
    assert "policy Platform Escalation (PPLATFM)" in after
    assert "resolved" in after
    assert "  note:   Looking at the card processor's dashboards." in shown
    assert "  note:   Rolled back the card processor's config change." in shown
    assert re.search(r"Requests per run: \d+, \d+, \d+", shown)


def test_the_demo_shows_steps_a_workflow_can_hold(capsys: pytest.CaptureFixture[str]) -> None:
    """Each step's `with:` block, as printed, is YAML a workflow takes (port_context a quoted
    string, not a mapping) with the README's secret names."""
    assert run_demo(dry_run=True) == 0
    shown = capsys.readouterr().out
    blocks = re.findall(r"- uses: OWNER/escalate-action@v1\n((?:  .*\n)+)", shown)
    assert len(blocks) == 3
    for block in blocks:
        lines = [line for line in block.splitlines() if not line.startswith("  (sandbox")]
        step = yaml.safe_load("\n".join(line[2:] for line in lines))
        assert all(isinstance(value, str | bool) for value in step["with"].values()), step
        assert step["with"]["pagerduty_token"] == "${{ secrets.PAGERDUTY_API_KEY }}"
        assert isinstance(step["with"]["port_context"], str)
        assert step["with"]["port_context"].startswith("{")
    assert "dry_run: true" in shown


def test_the_oncall_demo_takes_and_hands_back_the_pager_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """demo --oncall: four steps succeed, the repeated click changes nothing, one override made."""
    from escalator.demo_oncall import run_oncall_demo

    assert run_oncall_demo() == 0
    shown = capsys.readouterr().out
    for number in (1, 2, 3, 4):
        assert f"Step {number}: job log (exit code 0)" in shown
    changed = re.findall(r"^  changed\s+(\w+)$", shown, flags=re.MULTILINE)
    assert changed == ["false", "true", "false", "true"]
    made = set(re.findall(r"^  override_id\s+(\w+)$", shown, flags=re.MULTILINE))
    assert len(made) == 1


def test_the_events_demo_triggers_once_resolves_and_posts_a_change_event(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """escalator demo --events: four steps succeed, one incident opened then resolved, the second
    click grouped, one change event; the routing key is shown as its secret's name only."""
    assert run_events_demo() == 0
    shown = capsys.readouterr().out
    for number in (1, 2, 3, 4):
        assert f"Step {number}: job log (exit code 0)" in shown
    assert len(re.findall(r"  incident #\d+ \w+: resolved", shown)) == 1
    assert "event trigger port-r_SbxDemoRun0001: grouped" in shown
    assert "change event on PSVCPAY: Deployed payments-api 2.4.2" in shown
    assert "routing_key: ${{ secrets.PAGERDUTY_ROUTING_KEY }}" in shown
    assert ROUTING_KEY not in shown
