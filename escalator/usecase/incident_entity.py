"""The Port entity of a run's incident: built from what PagerDuty holds (the expansions the
blueprint wants read where the answer lacks them), redacted, and upserted until Port holds what
PagerDuty holds.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from escalator.clients.models import Incident, PortEntity
from escalator.clients.pagerduty import PagerDutyClient
from escalator.errors import EscalatorError
from escalator.report.entity import (
    build_entity,
    merge_expansions,
    needs_assignee_emails,
    wants_trigger_agent,
)
from escalator.usecase.outcome import Outcome
from escalator.usecase.port_run import PortRun, redacted
from escalator.workflow import Console

#: the expansions of a full read of the incident (emails of assignees, who triggered it)
FULL_READ = ("assignees", "first_trigger_log_entries")
#: upserts at most, while PagerDuty keeps changing under a run's report
CONVERGE_ROUNDS = 3


class IncidentEntity:
    """The entity of ``outcome``'s incident, read through ``pagerduty``."""

    def __init__(
        self,
        pagerduty: PagerDutyClient,
        outcome: Outcome,
        *,
        console: Console,
        submit: Callable[..., Future[Incident]],
        warn: Callable[[str], None],
    ) -> None:
        self.pagerduty = pagerduty
        self.outcome = outcome
        self.console = console
        self.submit = submit
        self.warn = warn
        #: a created incident read again for its assignees' emails, beside the writes after it
        self._expanded: Future[Incident] | None = None

    def build(self) -> PortEntity:
        """The entity of the incident as the run left it, with what the blueprint wants."""
        outcome = self.outcome
        incident = outcome.incident
        assert incident is not None  # reported only once the incident is known
        if outcome.before is not None and outcome.after is not None:
            incident = merge_expansions(outcome.after, outcome.before)
        created = outcome.before is None  # a create's answer lacks who triggered it
        unknown = needs_assignee_emails(outcome.blueprint, incident) or (
            created and wants_trigger_agent(outcome.blueprint, incident)
        )
        if unknown and not outcome.inputs.dry_run:
            expanded = (
                self._expanded.result()
                if self._expanded is not None
                else self.pagerduty.get_incident(incident.id, include=FULL_READ)
            )
            incident = merge_expansions(incident, expanded)
        return self.of(incident)

    def of(self, incident: Incident) -> PortEntity:
        """The entity for ``incident`` as read (warnings said once), redacted."""
        inputs = self.outcome.inputs
        # A create runs on a service entity: its relations are the service's, not the incident's.
        relations = inputs.port_relations if self.outcome.operation.reads_incident else {}
        entity, warnings = build_entity(
            incident,
            self.outcome.blueprint,
            context_relations=relations,
            property_mapping=inputs.port_property_mapping,
        )
        for warning in warnings:
            if warning not in self.outcome.warnings:
                self.warn(warning)
        return redacted(entity, self.console.redact)

    def read_assignees_beside(
        self, created: Incident | None, blueprint: Future[Any] | None
    ) -> None:
        """A create's answer names its assignees without emails: when the blueprint wants them,
        read the incident now, beside the writes that follow (the note), not after them."""
        if created is None or blueprint is None or self._expanded is not None:
            return
        try:
            read = blueprint.result()
        except EscalatorError:
            return  # the report says why the blueprint could not be read
        if needs_assignee_emails(read, created) or wants_trigger_agent(read, created):
            self._expanded = self.submit(self.pagerduty.get_incident, created.id, include=FULL_READ)

    def upsert_current(self, entity: PortEntity, port_run: PortRun) -> Callable[[], None]:
        """Upsert ``entity`` tied to the run; returns the check that follows it, which the run's
        final update need not wait for: :meth:`converge`."""
        port_run.upsert(entity)
        return lambda: self.converge(entity, port_run)

    def converge(self, entity: PortEntity, port_run: PortRun) -> None:
        """Read the incident again once ``entity`` is in Port: while PagerDuty holds something
        else (another run changed it, and its upsert may have landed before this one), upsert
        what PagerDuty holds, untied (that change is not this run's). The last upsert to land is
        then followed by a read that matched it. Port holds this run's entity already, so what
        fails here is a warning."""
        for attempt in range(CONVERGE_ROUNDS):
            try:
                latest = self.pagerduty.get_incident(entity.identifier, include=FULL_READ)
            except EscalatorError as exc:
                said = exc.render(self.console.terms)
                self.warn(f"Could not read the incident again after the Port upsert: {said}")
                return
            fresh = self.of(latest)
            if fresh == entity:
                return
            if attempt == CONVERGE_ROUNDS - 1:
                break
            self.console.info("PagerDuty changed meanwhile: upserting what it holds now.")
            entity = self.outcome.entity = fresh
            try:
                port_run.port.upsert_entity(port_run.inputs.port_blueprint, entity, run_id=None)
            except EscalatorError as exc:
                said = exc.render(self.console.terms)
                self.warn(f"Could not upsert what PagerDuty holds now: {said}")
                return
        self.warn("The incident kept changing in PagerDuty; Port may lag behind it.")
