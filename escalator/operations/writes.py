"""The writes an operation can plan, each a typed request that knows how to check itself.

After an ambiguous failure (timeout, reset, 5xx after sending) the use case calls ``landed`` before
sending a write again: an update is checked against the incident, a note against the incident's
notes, a create against the open incidents holding its key. An escalation level cannot be read
back from PagerDuty, so it is sent again: moving to the same level twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

from escalator.clients.bodies import (
    IncidentCreate,
    IncidentFields,
    IncidentUpdate,
    NewIncident,
    NoteBody,
    SnoozeBody,
)
from escalator.clients.models import Incident
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.pagerduty_errors import MISSING_FROM_MESSAGE
from escalator.errors import PagerDutyError

#: How far PagerDuty's clock may be behind this machine's when a note's creation time is compared
#: with the moment this run sent it.
CLOCK_SKEW = timedelta(seconds=2)


@dataclass(frozen=True)
class UpdateIncident:
    """``PUT /incidents/{id}`` with the fields that change; only those given are sent."""

    incident_id: str
    escalation_policy_id: str | None = None
    escalation_level: int | None = None
    urgency: Literal["high", "low"] | None = None
    status: Literal["acknowledged", "resolved"] | None = None
    resolution: str | None = None
    assignee_ids: tuple[str, ...] | None = None
    priority_id: str | None = None
    #: the emails of the users in ``assignee_ids`` where known (not sent: PagerDuty's answer
    #: names its assignees without emails, the entity may want them)
    known_emails: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def request_line(self) -> str:
        return f"PUT /incidents/{quote(self.incident_id, safe='')}"

    def fields(self) -> IncidentFields:
        """The incident fields sent, as PagerDuty names them."""
        fields: IncidentFields = {"type": "incident_reference"}
        if self.escalation_policy_id is not None:
            fields["escalation_policy"] = {
                "id": self.escalation_policy_id,
                "type": "escalation_policy_reference",
            }
        if self.urgency is not None:
            fields["urgency"] = self.urgency
        if self.escalation_level is not None:
            fields["escalation_level"] = self.escalation_level
        if self.status is not None:
            fields["status"] = self.status
        if self.resolution is not None:
            fields["resolution"] = self.resolution
        if self.assignee_ids is not None:
            fields["assignments"] = [
                {"assignee": {"id": user_id, "type": "user_reference"}}
                for user_id in self.assignee_ids
            ]
        if self.priority_id is not None:
            fields["priority"] = {"id": self.priority_id, "type": "priority_reference"}
        return fields

    def body(self) -> IncidentUpdate:
        return {"incident": self.fields()}

    def rechecks(self, error: PagerDutyError) -> bool:
        """'Already resolved' (1001) or 'already acknowledged' (1002) to a status change: someone
        may have made it meanwhile (read to tell)."""
        return self.status is not None and error.code in (1001, 1002)

    def send(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        return self._with_emails(pagerduty.update_incident(self.incident_id, self.body()))

    def landed(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        latest = pagerduty.get_incident(self.incident_id, include=())
        return self._with_emails(latest) if self.held_by(latest) else None

    def _with_emails(self, incident: Incident) -> Incident:
        """``incident`` with the known emails of its assignees filled in."""
        emails = dict(self.known_emails)
        if not emails:
            return incident
        data = incident.as_json()
        for assignment in data.get("assignments") or []:
            assignee = assignment.get("assignee") or {}
            if not assignee.get("email") and assignee.get("id") in emails:
                assignee["email"] = emails[assignee["id"]]
        return Incident.model_validate(data)

    def held_by(self, incident: Incident) -> bool:
        """Whether ``incident`` shows every field of this update (never for a level alone)."""
        if self.escalation_level is not None:
            return False  # not readable back; sending the same level again is harmless
        checks = (
            self.escalation_policy_id is None or incident.policy_id == self.escalation_policy_id,
            self.urgency is None or incident.urgency == self.urgency,
            self.status is None or incident.status == self.status,
            self.assignee_ids is None
            or sorted(a.assignee.id for a in incident.assignments) == sorted(self.assignee_ids),
            self.priority_id is None
            or (incident.priority is not None and incident.priority.id == self.priority_id),
        )
        return all(checks)


@dataclass(frozen=True)
class AddNote:
    """``POST /incidents/{id}/notes``: never posted twice, the notes are read before a retry.

    ``incident_id`` None means the incident the previous write made (a note after a create).
    ``once`` marks a note that may already be there (a re-run): the runner reads the notes first
    and drops it when one holds its text. After a lost answer only a note this run could have made
    counts: one more than were known before, or one created since this run first sent it.
    """

    content: str
    incident_id: str | None = None
    once: bool = False
    #: notes with this text the incident was read to hold before sending (None: not read)
    held_before: int | None = None
    #: when it was first sent (UTC), filled in by ``send``
    _sent_at: list[datetime] = field(default_factory=list, init=False, compare=False, repr=False)

    @property
    def request_line(self) -> str:
        target = quote(self.incident_id, safe="") if self.incident_id else "{new incident}"
        return f"POST /incidents/{target}/notes"

    def body(self) -> NoteBody:
        return {"note": {"content": self.content}}

    def rechecks(self, error: PagerDutyError) -> bool:
        return False

    def send(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        if not self._sent_at:
            self._sent_at.append(datetime.now(UTC))
        pagerduty.add_note(self._target(current), self.body())
        return None

    def landed(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        target = self._target(current)
        same = [note for note in pagerduty.list_notes(target) if note.content == self.content]
        if self.held_before is not None:
            ours = len(same) > self.held_before
        elif self.incident_id is None:
            ours = bool(same)  # the incident is this run's own: any such note is
        else:
            ours = any(self._made_since_sent(note.created_at) for note in same)
        if ours:
            return current if current is not None else pagerduty.get_incident(target)
        return None

    def _made_since_sent(self, created_at: str | None) -> bool:
        """Whether a note created at ``created_at`` may be this run's (clocks may differ a
        little: :data:`CLOCK_SKEW` is allowed); an unreadable time never counts."""
        if not created_at or not self._sent_at:
            return False
        try:
            created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        except ValueError:
            return False
        if created.tzinfo is None:
            return False
        return created >= self._sent_at[0] - CLOCK_SKEW

    def _target(self, current: Incident | None) -> str:
        if self.incident_id:
            return self.incident_id
        assert current is not None  # planned only after a write that makes the incident
        return current.id


@dataclass(frozen=True)
class Snooze:
    """``POST /incidents/{id}/snooze``: an acknowledged incident comes back after ``seconds``."""

    incident_id: str
    seconds: int

    @property
    def request_line(self) -> str:
        return f"POST /incidents/{quote(self.incident_id, safe='')}/snooze"

    def body(self) -> SnoozeBody:
        return {"duration": self.seconds}

    def rechecks(self, error: PagerDutyError) -> bool:
        return False

    def send(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        return pagerduty.snooze(self.incident_id, self.body())

    def landed(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        """Snoozed when an ``unacknowledge`` is pending that ``current`` did not have (an
        acknowledgement timeout has one of its own: it does not count)."""
        latest = pagerduty.get_incident(self.incident_id, include=())
        known = _unacknowledge_times(current) if current is not None else set()
        snoozed = latest.status == "acknowledged" and bool(_unacknowledge_times(latest) - known)
        return latest if snoozed else None


def _unacknowledge_times(incident: Incident) -> set[str]:
    """When the incident's pending ``unacknowledge`` actions are due."""
    return {
        str(action.get("at"))
        for action in incident.pending_actions
        if isinstance(action, dict) and action.get("type") == "unacknowledge"
    }


#: Codes of a refused create that name another cause than a held key: assignee, ``From`` user,
#: escalation policy, priorities (a missing ``From`` is told by its message).
NOT_A_HELD_KEY = frozenset({1007, 1008, 1014, 2014})


@dataclass(frozen=True)
class CreateIncident:
    """``POST /incidents``: never two incidents, the key is looked up before a retry."""

    title: str
    service_id: str
    incident_key: str
    urgency: Literal["high", "low"] | None = None
    details: str | None = None
    priority_id: str | None = None
    escalation_policy_id: str | None = None
    assignee_ids: tuple[str, ...] = ()

    @property
    def request_line(self) -> str:
        return "POST /incidents"

    def incident(self) -> NewIncident:
        """The ``incident`` object sent."""
        incident: NewIncident = {
            "type": "incident",
            "title": self.title,
            "service": {"id": self.service_id, "type": "service_reference"},
            "incident_key": self.incident_key,
        }
        if self.urgency is not None:
            incident["urgency"] = self.urgency
        if self.details is not None:
            incident["body"] = {"type": "incident_body", "details": self.details}
        if self.priority_id is not None:
            incident["priority"] = {"id": self.priority_id, "type": "priority_reference"}
        if self.escalation_policy_id is not None:
            incident["escalation_policy"] = {
                "id": self.escalation_policy_id,
                "type": "escalation_policy_reference",
            }
        if self.assignee_ids:
            incident["assignments"] = [
                {"assignee": {"id": user_id, "type": "user_reference"}}
                for user_id in self.assignee_ids
            ]
        return incident

    def body(self) -> IncidentCreate:
        return {"incident": self.incident()}

    def rechecks(self, error: PagerDutyError) -> bool:
        """A 400 may be the key already held by an incident a concurrent run made (PagerDuty
        documents no code for it), unless its code names another cause."""
        if error.status != 400 or error.code in NOT_A_HELD_KEY:
            return False
        return MISSING_FROM_MESSAGE.lower() not in error.message_template.lower()

    def send(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        return pagerduty.create_incident(self.body())

    def landed(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        found = pagerduty.find_open_incidents(
            incident_key=self.incident_key, service_id=self.service_id
        )
        return found[0] if found else None
