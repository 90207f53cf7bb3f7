"""Read the kit's packaged JSON (``escalator/kit/data``) and fill in the GitHub invocation.

The kit: the ``pagerdutyService`` and ``pagerdutyIncident`` blueprints, one self-service action
per operation (the file its module names, dispatching one workflow with
``<GITHUB_ORG>``/``<GITHUB_REPO>`` to fill), and the synced-webhook variant with its automation.
Every call returns fresh objects: callers may change them.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from escalator.operations import OPERATIONS as REGISTRY

#: One self-service action per operation, in the registry's order (port-setup writes them so).
OPERATIONS: tuple[str, ...] = tuple(REGISTRY)
DEFAULT_WORKFLOW = "pagerduty-incident.yml"
SERVICE_BLUEPRINT = "pagerdutyService"
INCIDENT_BLUEPRINT = "pagerdutyIncident"

Definition = dict[str, Any]

_PACKAGE = "escalator.kit"


def data_files() -> list[str]:
    """The names of the kit's files, sorted."""
    return sorted(item.name for item in files(_PACKAGE).joinpath("data").iterdir())


@cache
def _text(name: str) -> str:
    return files(_PACKAGE).joinpath("data", name).read_text(encoding="utf-8")


def load(name: str) -> Any:
    """The JSON document of the kit's file ``name``."""
    return json.loads(_text(name))


def blueprints() -> list[Definition]:
    """The kit's blueprints, in creation order (the incident blueprint relates to the service's)."""
    found: list[Definition] = load("blueprints.json")
    return found


def action_file(operation: str) -> str:
    """The name of the kit's file holding the self-service action of ``operation``."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}: use one of {', '.join(OPERATIONS)}")
    return REGISTRY[operation].kit_action


def action_template(operation: str) -> Definition:
    """The self-service action of ``operation`` as the kit ships it, placeholders included."""
    found: Definition = load(action_file(operation))
    return found


def action(operation: str, org: str, repo: str, workflow: str = DEFAULT_WORKFLOW) -> Definition:
    """The self-service action of ``operation``, dispatching ``workflow`` in ``org/repo``."""
    filled = action_template(operation)
    filled["invocationMethod"] |= {"org": org, "repo": repo, "workflow": workflow}
    return filled


def actions(
    org: str,
    repo: str,
    workflow: str = DEFAULT_WORKFLOW,
    operations: tuple[str, ...] = OPERATIONS,
) -> list[Definition]:
    """The self-service actions of ``operations``, in the kit's order, filled in."""
    return [action(name, org, repo, workflow) for name in OPERATIONS if name in operations]
