"""Decide, per object, what port-setup does: a pure comparison of the kit with what Port holds.

Create what is missing, update an action that differs, leave equal things alone. An existing
blueprint that differs from the kit's is kept (the PagerDuty integration's richer
``pagerdutyIncident``, for one: the action adapts to it) unless replacing is asked for, and what
the action would miss in it is noted. Each :class:`Step` shows itself as a unified JSON diff.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from escalator.kit.definitions import INCIDENT_BLUEPRINT, SERVICE_BLUEPRINT

Kind = Literal["blueprint", "action"]


class Verdict(StrEnum):
    """What port-setup does to one object."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    KEEP = "keep"


#: What an absent key means in Port's answer (empty, or Port's default).
_ABSENT_MEANS: Mapping[str, Any] = {
    "mirrorProperties": {},
    "calculationProperties": {},
    "relations": {},
    "requiredApproval": False,
}

#: Properties of the incident blueprint the action fills, and what is lost without each.
_INCIDENT_NEEDS: Mapping[str, str] = {
    "status": "the incident's status is not recorded, and the actions' condition (hidden on "
    "resolved incidents) has nothing to test",
    "url": "no link to the incident's page in PagerDuty",
    "urgency": "the urgency after the change is not recorded",
    "escalation_policy": "the escalation policy after the change is not recorded",
}
_ASSIGNEE_PROPERTIES = ("responder", "assignees")


@dataclass(frozen=True)
class Step:
    """What happens to one object: its verdict, the definition wanted and the one found."""

    kind: Kind
    identifier: str
    verdict: Verdict
    wanted: dict[str, Any]
    #: The object as Port holds it, reduced to what is compared; None when it does not exist.
    found: dict[str, Any] | None
    notes: tuple[str, ...] = field(default=())

    @property
    def writes(self) -> bool:
        return self.verdict in (Verdict.CREATE, Verdict.UPDATE)

    @property
    def name(self) -> str:
        return f"{self.kind} {self.identifier}"

    def diff(self) -> str:
        """A unified diff of the JSON, from what Port has to what would be written."""
        before = _pretty(self.found).splitlines() if self.found is not None else []
        after = _pretty(self.wanted).splitlines()
        where = f"{self.kind}s/{self.identifier}"
        return "\n".join(
            difflib.unified_diff(
                before,
                after,
                fromfile=f"port:{where}" if self.found is not None else "/dev/null",
                tofile=f"kit:{where}",
                lineterm="",
            )
        )


def _pretty(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


def comparable(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """``found`` reduced to the keys ``wanted`` defines (Port adds ids, dates and authors), with
    the empty values Port may leave out filled in."""
    reduced: dict[str, Any] = {}
    for key in wanted:
        if key in found:
            reduced[key] = copy.deepcopy(found[key])
        elif key in _ABSENT_MEANS:
            reduced[key] = copy.deepcopy(_ABSENT_MEANS[key])
    schema = reduced.get("schema")
    if isinstance(schema, dict) and "required" in wanted.get("schema", {}):
        schema.setdefault("required", [])
    return reduced


def differing_paths(found: Any, wanted: Any, prefix: str = "") -> list[str]:
    """Dotted paths where ``found`` and ``wanted`` differ (a list differs as a whole)."""
    if isinstance(found, dict) and isinstance(wanted, dict):
        paths: list[str] = []
        for key in sorted(set(found) | set(wanted)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in found or key not in wanted:
                paths.append(path)
            else:
                paths.extend(differing_paths(found[key], wanted[key], path))
        return paths
    return [] if found == wanted else [prefix or "(whole)"]


def missing_for_action(blueprint: Mapping[str, Any]) -> list[str]:
    """What the action would miss in an incident blueprint it did not create, one line each."""
    schema = blueprint.get("schema")
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    relations = blueprint.get("relations") or {}
    missing = [
        f"property '{name}': {loss}"
        for name, loss in _INCIDENT_NEEDS.items()
        if name not in properties
    ]
    if not any(name in properties for name in _ASSIGNEE_PROPERTIES):
        missing.append(
            "property 'responder' or 'assignees': who the incident is assigned to is not recorded"
        )
    if not any(
        isinstance(relation, dict) and relation.get("target") == SERVICE_BLUEPRINT
        for relation in relations.values()
    ):
        missing.append(
            f"a relation to '{SERVICE_BLUEPRINT}': the incident is not linked to its service"
        )
    return missing


def plan_blueprint(wanted: dict[str, Any], found: dict[str, Any] | None, *, replace: bool) -> Step:
    """Create a missing blueprint; keep a differing one unless ``replace``."""
    identifier = wanted["identifier"]
    if found is None:
        return Step("blueprint", identifier, Verdict.CREATE, wanted, None)
    reduced = comparable(found, wanted)
    if reduced == wanted:
        return Step("blueprint", identifier, Verdict.UNCHANGED, wanted, reduced)
    if replace:
        return Step("blueprint", identifier, Verdict.UPDATE, wanted, reduced)
    notes: list[str] = [f"differs from the kit's in {_some(differing_paths(reduced, wanted))}"]
    if identifier == INCIDENT_BLUEPRINT:
        missing = missing_for_action(found)
        notes += [f"missing for the action: {line}" for line in missing] or [
            "it has every property and relation the action fills"
        ]
    return Step("blueprint", identifier, Verdict.KEEP, wanted, reduced, tuple(notes))


#: Keys of an action an admin sets in Port (an approval gate); the kit's values are only defaults.
ADMIN_KEYS = ("requiredApproval", "approvalNotification")
#: Keys Port adds to an action it holds, never written back.
_PORT_METADATA = frozenset({"id", "createdAt", "createdBy", "updatedAt", "updatedBy"})


def plan_action(
    wanted: dict[str, Any], found: dict[str, Any] | None, *, replace: bool = False
) -> Step:
    """Create the action when missing, update it when it differs. Unless ``replace``, what the
    kit does not own is kept: an admin's approval gate and any key the kit does not define."""
    identifier = wanted["identifier"]
    if found is None:
        return Step("action", identifier, Verdict.CREATE, wanted, None)
    notes: tuple[str, ...] = ()
    if not replace:
        kept = {
            key: copy.deepcopy(value)
            for key, value in found.items()
            if key not in _PORT_METADATA and (key not in wanted or key in ADMIN_KEYS)
        }
        changed = sorted(key for key in kept if wanted.get(key) != kept[key])
        wanted = {**wanted, **kept}
        if changed:
            notes = (
                f"kept as set in Port: {', '.join(changed)} (--replace-actions writes the "
                "kit's definition alone)",
            )
    reduced = comparable(found, wanted)
    verdict = Verdict.UNCHANGED if reduced == wanted else Verdict.UPDATE
    return Step("action", identifier, verdict, wanted, reduced, notes)


def _some(paths: Sequence[str], most: int = 6) -> str:
    shown = ", ".join(paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")
