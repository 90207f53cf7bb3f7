"""One escalation, end to end: read, change, report. The logic, free of I/O details.

The critical path is three sequential round trips (more only where a choice of the user needs it):

1. the Port access token and the PagerDuty incident read, together;
2. the PagerDuty write, with the Port blueprint read beside it;
3. the entity upsert and the run update, together.

Run logs go through a background sender and never wait on that path; they are flushed, with a
bound, before the run ends. Nothing is written anywhere before every input is valid and the
incident has been read; a change PagerDuty refuses up front (a level on a low-urgency incident, a
level the policy lacks) is refused before any write.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from escalator.entity import build_entity, merge_expansions, needs_assignee_emails
from escalator.errors import (
    EscalatorError,
    InputError,
    PagerDutyError,
    PortError,
    ReportingError,
    UnexpectedResponse,
)
from escalator.http import Clock, Deadline, OutcomeUnknown
from escalator.inputs import ActionInputs
from escalator.models import EscalationPolicy, Incident, PortBlueprint, PortEntity
from escalator.pagerduty import PagerDutyClient
from escalator.port import PortClient
from escalator.workflow import Console

T = TypeVar("T")
LOG_FLUSH_SECONDS = 5.0
WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class GitHubContext:
    """What the action knows of the workflow run it is in (empty outside GitHub)."""

    server_url: str = ""
    api_url: str = ""
    repository: str = ""
    run_id: str = ""
    run_attempt: str = ""
    job: str = ""
    runner_name: str = ""

    @property
    def run_url(self) -> str:
        if not (self.server_url and self.repository and self.run_id):
            return ""
        url = f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"
        if self.run_attempt and self.run_attempt != "1":
            url += f"/attempts/{self.run_attempt}"
        return url


@dataclass
class Outcome:
    """What happened, filled in as the run goes; the outputs and the summary are made from it."""

    inputs: ActionInputs
    before: Incident | None = None
    after: Incident | None = None
    planned: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = False
    policy: EscalationPolicy | None = None
    blueprint: PortBlueprint | None = None
    entity: PortEntity | None = None
    entity_upserted: bool = False
    run_link: str = ""
    run_reported: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def escalated(self) -> bool:
        """True once PagerDuty holds the requested state (changed now or already so)."""
        return self.after is not None

    @property
    def status_label(self) -> str:
        if self.inputs.dry_run:
            return "Dry run: nothing changed"
        if self.after is None:
            return "Escalation failed"
        if not self.changed:
            return "Already as requested"
        if any("escalation_policy" in update for update in self.sent):
            return f"Escalated to {self.after.policy_name}"[:100]
        if any("escalation_level" in update for update in self.sent):
            return f"Escalated to level {self.inputs.escalation_level}"
        return f"Urgency set to {self.after.urgency}"


class RunLogger:
    """Sends Port run logs in order from a background thread, off the critical path."""

    def __init__(self, port: PortClient, run_id: str, console: Console) -> None:
        self.port = port
        self.run_id = run_id
        self.console = console
        self.failures: list[EscalatorError] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="port-run-log", daemon=True)
        self._thread.start()

    def send(self, message: str) -> None:
        self._queue.put(message)

    def flush(self, timeout: float) -> bool:
        """Wait, at most ``timeout`` seconds, for every queued log to be sent."""
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _work(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                self.port.add_run_log(self.run_id, message)
            except EscalatorError as exc:
                self.failures.append(exc)


class Escalation:
    """Runs one escalation with the given inputs."""

    def __init__(
        self,
        inputs: ActionInputs,
        console: Console,
        *,
        github: GitHubContext | None = None,
        on_escalated: Callable[[Outcome], None] = lambda _outcome: None,
        clock: Clock | None = None,
    ) -> None:
        self.inputs = inputs
        self.console = console
        self.github = github or GitHubContext()
        self.on_escalated = on_escalated
        self.deadline = Deadline(inputs.timeout_seconds, clock)
        self.outcome = Outcome(inputs=inputs)
        self.pagerduty = PagerDutyClient.connect(
            inputs.pagerduty_api_url,
            inputs.pagerduty_token.get_secret_value(),
            from_email=inputs.from_email,
            deadline=self.deadline,
        )
        self.port: PortClient | None = None
        if inputs.port_client_id is not None and inputs.port_client_secret is not None:
            self.port = PortClient.connect(
                inputs.port_api_url,
                client_id=inputs.port_client_id.get_secret_value(),
                client_secret=inputs.port_client_secret.get_secret_value(),
                deadline=self.deadline,
                on_token=console.add_secret,
            )
        self.run_log: RunLogger | None = None
        self._port_ready = False
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="escalator")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.pagerduty.close()
        if self.port is not None:
            self.port.close()

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Escalate, report, and return the outcome; raises :class:`EscalatorError` on failure
        (with :attr:`outcome` holding what was done)."""
        inputs = self.inputs
        outcome = self.outcome
        if self.port is None:
            self.console.notice(
                "No Port credentials (port_client_id, port_client_secret): the incident is "
                "escalated in PagerDuty and Port is not updated.",
                title="Port reporting skipped",
            )
        elif inputs.port_run_id is None:
            self.console.notice(
                "port_context has no run_id: the entity is updated, but no Port run is reported "
                "to.",
                title="No Port run",
            )

        # Round 1: the Port token, the incident (and the target policy when a level is asked).
        token = self._submit(self.port.authenticate) if self.port else None
        job_link = self._submit(self._job_link) if inputs.github_token else None
        policy_id_known = inputs.escalation_policy_id
        policy_future = (
            self._submit(self.pagerduty.get_escalation_policy, policy_id_known)
            if inputs.escalation_level is not None and policy_id_known
            else None
        )
        before_future = self._submit(
            self.pagerduty.get_incident,
            inputs.incident_id,
            include=("assignees", "first_trigger_log_entries"),
        )
        if token is not None:
            token.result()  # credentials rejected: stop before anything is written
            self._port_ready = True
            if inputs.port_run_id and not inputs.dry_run:
                self.run_log = RunLogger(self.port, inputs.port_run_id, self.console)  # type: ignore[arg-type]
                self.run_log.send(
                    f"Escalating PagerDuty incident {inputs.incident_id}: "
                    f"{inputs.describe_change()}."
                )
        before = before_future.result()
        outcome.before = before
        self.console.info(
            f'Incident #{before.incident_number} {before.id} "{before.title}": '
            f"{before.status}, {before.urgency} urgency, policy {before.policy_name} "
            f"({before.policy_id}), assigned to {before.responder or 'nobody'}."
        )
        if inputs.escalation_level is not None:
            if policy_future is None:
                # The policy is the incident's own: known only now.
                target = before.policy_id
                policy_future = self._submit(self.pagerduty.get_escalation_policy, target)
            outcome.policy = policy_future.result()
        outcome.planned = self._plan(before, outcome.policy)

        # Round 2: the write(s), the blueprint beside them.
        blueprint_future = (
            self._submit(self.port.get_blueprint, inputs.port_blueprint) if self.port else None
        )
        if inputs.dry_run:
            outcome.after = before
            self._describe_plan(before)
        else:
            outcome.after = self._apply(before, outcome.planned)
        self.on_escalated(outcome)
        if job_link is not None:
            outcome.run_link = self._result_or_warning(job_link, "") or self.github.run_url
        else:
            outcome.run_link = self.github.run_url

        if self.port is None or blueprint_future is None:
            return outcome
        try:
            outcome.blueprint = blueprint_future.result()
        except EscalatorError as exc:
            raise self._reporting_error(exc, "the Port entity was not updated") from None

        # Round 3: the entity and the run, together.
        after = merge_expansions(outcome.after, before)
        if needs_assignee_emails(outcome.blueprint, after) and not inputs.dry_run:
            after = merge_expansions(after, self.pagerduty.get_incident(after.id))
        entity, warnings = build_entity(
            after,
            outcome.blueprint,
            context_relations=inputs.port_relations,
            property_mapping=inputs.port_property_mapping,
        )
        outcome.entity = entity
        for warning in warnings:
            self._warn(warning)
        if inputs.dry_run:
            self.console.info(
                f"Dry run: would upsert {inputs.port_blueprint} entity {entity.identifier}."
            )
            return outcome
        self._report(outcome)
        return outcome

    def fail(self, error: EscalatorError) -> None:
        """Tell the Port run about ``error`` (when Port is reachable), then flush the logs."""
        if self.port is not None and self.inputs.port_run_id and not self.inputs.dry_run:
            # A ReportingError says itself that the escalation was done.
            message = (
                error.message
                if isinstance(error, ReportingError)
                else f"Escalation failed: {error.message}"
            )
            if error.hint:
                message += f" Fix: {error.hint}"
            if self._port_ready or not isinstance(error, PortError):
                try:
                    self.port.authenticate()
                    if self.run_log is None:
                        self.run_log = RunLogger(self.port, self.inputs.port_run_id, self.console)
                    self.run_log.send(message)
                    if self.inputs.finish_port_run:
                        self._flush_logs()
                        self.port.update_run(
                            self.inputs.port_run_id,
                            status="FAILURE",
                            status_label=self.outcome.status_label,
                            link=self.outcome.run_link or self.github.run_url or None,
                        )
                except EscalatorError as exc:
                    self.console.warning(f"Could not report the failure to Port: {exc}")
        self._flush_logs()

    def finish(self) -> None:
        """Flush the background logs (bounded) and report any that were lost."""
        self._flush_logs()

    # --- steps --------------------------------------------------------------------------------

    def _plan(self, before: Incident, policy: EscalationPolicy | None) -> list[dict[str, Any]]:
        """The updates to send, policy first, each only if it changes something."""
        inputs = self.inputs
        first: dict[str, Any] = {}
        if inputs.escalation_policy_id and inputs.escalation_policy_id != before.policy_id:
            first["escalation_policy"] = {
                "id": inputs.escalation_policy_id,
                "type": "escalation_policy_reference",
            }
        if inputs.urgency and inputs.urgency != before.urgency:
            first["urgency"] = inputs.urgency
        updates = [first] if first else []
        level = inputs.escalation_level
        if level is None:
            return updates
        if before.status == "resolved":
            raise InputError(
                "escalation_level",
                f"incident {before.id} is resolved and cannot be escalated.",
                hint="Escalate an open incident, or trigger a new one.",
            )
        urgency_after = first.get("urgency", before.urgency)
        if urgency_after == "low":
            raise InputError(
                "escalation_level",
                f"incident {before.id} has low urgency, and PagerDuty escalates only "
                "high-urgency incidents to a level.",
                hint="Add urgency: high, or reassign it with escalation_policy_id.",
            )
        if policy is not None and policy.escalation_rules and level > len(policy.escalation_rules):
            raise InputError(
                "escalation_level",
                f"escalation policy {policy.label} ({policy.id}) has "
                f"{len(policy.escalation_rules)} level(s); there is no level {level}.",
                hint=f"Use a level from 1 to {len(policy.escalation_rules)}.",
            )
        if "escalation_policy" in first and level == 1:
            return updates  # a reassigned incident starts at the policy's first level
        updates.append({"escalation_level": level})
        return updates

    def _describe_plan(self, before: Incident) -> None:
        if not self.outcome.planned:
            self.console.info("Dry run: the incident already is as requested; nothing to send.")
        for update in self.outcome.planned:
            self.console.info(f"Dry run: would send PUT /incidents/{before.id} {update}.")

    def _apply(self, before: Incident, updates: list[dict[str, Any]]) -> Incident:
        """Send each update once; after an ambiguous failure, read before sending again."""
        current = before
        if not updates:
            self.console.info("The incident already is as requested: nothing sent to PagerDuty.")
        for update in updates:
            current = self._apply_one(current, update)
            self.outcome.sent.append(update)
            self.outcome.changed = True
        after = current
        self.console.info(
            f"Now: {after.status}, {after.urgency} urgency, policy {after.policy_name} "
            f"({after.policy_id}), assigned to {after.responder or 'nobody'}."
        )
        return after

    def _apply_one(self, current: Incident, update: dict[str, Any]) -> Incident:
        last_error: EscalatorError | None = None
        for _attempt in range(WRITE_ATTEMPTS):
            try:
                return self.pagerduty.update_incident(current.id, update)
            except (OutcomeUnknown, UnexpectedResponse) as exc:
                last_error = exc
            except PagerDutyError as exc:
                if exc.status < 500:
                    raise
                last_error = exc
            # The write may have been applied: read the incident before sending it again.
            self.console.warning(
                f"{last_error.message} Reading the incident before trying again.",
                title="PagerDuty did not answer the update",
            )
            latest = self.pagerduty.get_incident(current.id, include=())
            if _applied(current, latest, update):
                return latest
            current = latest
        assert last_error is not None  # the loop ran at least once
        raise last_error

    def _report(self, outcome: Outcome) -> None:
        inputs = self.inputs
        port = self.port
        assert port is not None
        assert outcome.entity is not None
        assert outcome.after is not None
        after = outcome.after
        upsert = self._submit(
            port.upsert_entity, inputs.port_blueprint, outcome.entity, run_id=inputs.port_run_id
        )
        run_update: Future[Any] | None = None
        if inputs.port_run_id and not inputs.finish_port_run:
            run_update = self._submit(
                port.update_run,
                inputs.port_run_id,
                status_label=outcome.status_label,
                link=outcome.run_link or None,
            )
        # The result log goes out with them, off the critical path; should the upsert fail,
        # the failure log that follows says so.
        if self.run_log is not None:
            self.run_log.send(_result_log(outcome, after))
        errors: list[tuple[str, EscalatorError]] = []
        try:
            upsert.result()
            outcome.entity_upserted = True
        except EscalatorError as exc:
            errors.append(("the Port entity was not updated", exc))
        if run_update is not None:
            try:
                run_update.result()
                outcome.run_reported = True
            except EscalatorError as exc:
                errors.append(("the Port run was not updated", exc))
        if inputs.port_run_id and inputs.finish_port_run and not errors:
            self._flush_logs()
            try:
                port.update_run(
                    inputs.port_run_id,
                    status="SUCCESS",
                    status_label=outcome.status_label,
                    link=outcome.run_link or None,
                )
                outcome.run_reported = True
            except EscalatorError as exc:
                errors.append(("the Port run was not finished", exc))
        if errors:
            not_done, first = errors[0]
            if len(errors) > 1:
                not_done = " and ".join(what for what, _ in errors)
            raise self._reporting_error(first, not_done)

    # --- helpers ------------------------------------------------------------------------------

    def _submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._pool.submit(fn, *args, **kwargs)

    def _reporting_error(self, cause: EscalatorError, not_done: str) -> EscalatorError:
        if self.outcome.escalated and not self.inputs.dry_run:
            return ReportingError(cause, not_done=not_done)
        return cause

    def _warn(self, text: str) -> None:
        self.outcome.warnings.append(text)
        self.console.warning(text)

    def _result_or_warning(self, future: Future[str], default: str) -> str:
        try:
            return future.result()
        except EscalatorError as exc:
            self._warn(f"Could not find this job's URL: {exc}")
            return default

    def _job_link(self) -> str:
        from escalator.github import find_job_url  # PyGithub only when a token is given

        token = self.inputs.github_token
        assert token is not None  # submitted only with a token
        return find_job_url(self.github, token.get_secret_value(), self.deadline)

    def _flush_logs(self) -> None:
        if self.run_log is None:
            return
        done = self.run_log.flush(min(LOG_FLUSH_SECONDS, self.deadline.remaining() + 1))
        if not done:
            self._warn("Some Port run logs were not sent before the deadline.")
        for failure in self.run_log.failures:
            self._warn(f"A Port run log was not sent: {failure}")
        self.run_log.failures.clear()


def _applied(before: Incident, latest: Incident, update: Mapping[str, Any]) -> bool:
    """Whether ``latest`` shows ``update`` applied (PagerDuty exposes no escalation level:
    a level change shows as new assignments or a newer ``updated_at``)."""
    if "escalation_policy" in update and latest.policy_id != update["escalation_policy"]["id"]:
        return False
    if "urgency" in update and latest.urgency != update["urgency"]:
        return False
    if "escalation_level" in update:
        moved = latest.updated_at != before.updated_at
        reassigned = [a.assignee.id for a in latest.assignments] != [
            a.assignee.id for a in before.assignments
        ]
        return moved or reassigned
    return True


def _result_log(outcome: Outcome, after: Incident) -> str:
    if not outcome.changed:
        text = f"Incident {after.id} already was as requested; PagerDuty was not changed."
    else:
        text = (
            f"Escalated incident #{after.incident_number} ({after.id}): policy "
            f"{after.policy_name}, {after.urgency} urgency, {after.status}, assigned to "
            f"{after.responder or 'nobody'}."
        )
    if after.html_url:
        text += f" {after.html_url}"
    return text
