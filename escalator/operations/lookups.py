"""Lookups several operations share: PagerDuty users by email, priorities by name.

Both are reads that happen before planning, so a name or an email that matches nothing is an input
error before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from escalator.clients.models import Priority, User
from escalator.clients.pagerduty import PagerDutyClient
from escalator.errors import InputError, PagerDutyError, Refusal

_USER_ID = re.compile(r"[A-Z0-9]{2,64}")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_fold(text: str) -> str:
    """``text`` with its ASCII letters lower-cased and nothing else changed: an email matches
    only itself in another case (never the Kelvin sign for ``k``, nor ``ss`` for ``ß``)."""
    return text.translate(_ASCII_LOWER)


def resolve_users(
    pagerduty: PagerDutyClient, assignees: Sequence[str], *, input_name: str = "assignees"
) -> tuple[User, ...]:
    """The users named by email (matched exactly, ignoring ASCII case; several users with one email
    are refused) or by ID (used as they are).

    PagerDuty's ``query`` also returns users whose name or email merely contains the text: only
    a whole-email match counts, every page is read until one is found.
    """
    users: list[User] = []
    for assignee in assignees:
        if _USER_ID.fullmatch(assignee):
            users.append(User(id=assignee))
            continue
        wanted = ascii_fold(assignee)
        matches = {
            user.id: user
            for user in pagerduty.find_users(assignee)
            if ascii_fold(user.email or "") == wanted
        }
        if not matches:
            raise InputError(
                input_name,
                f"no PagerDuty user has the email {assignee!r} (users whose name or email only "
                "contains it do not count).",
                hint="Give each user's email exactly as it is in PagerDuty, or the user's ID.",
            )
        if len(matches) > 1:
            raise InputError(
                input_name,
                f"{len(matches)} PagerDuty users have the email {assignee!r} "
                f"({', '.join(sorted(matches))}); none was chosen.",
                hint="Give the user's ID instead of the email.",
            )
        users.extend(matches.values())
    unique = {user.id: user for user in users}
    return tuple(unique.values())


def resolve_priority(pagerduty: PagerDutyClient, wanted: str) -> Priority:
    """The account's priority named ``wanted`` (case does not matter) or with that ID."""
    try:
        priorities = pagerduty.list_priorities()
    except PagerDutyError as exc:
        if exc.code == 2014:
            priorities = None
        else:
            raise
    if not priorities:
        raise Refusal(
            "priority",
            "incident priorities are not enabled on this PagerDuty account.",
            hint="Enable priorities in PagerDuty (Incidents > Incident Priority Settings), or "
            "leave {priority} empty.",
        )
    for priority in priorities:
        if priority.id == wanted:
            return priority
    folded = wanted.casefold()
    for priority in priorities:  # most severe first: the first of duplicate names wins
        if priority.label.casefold() == folded:
            return priority
    names = ", ".join(priority.label for priority in priorities)
    raise InputError(
        "priority",
        f"{wanted!r} is not a priority of this PagerDuty account (it has {names}).",
        hint="Use one of the account's priority names, or a priority ID.",
    )
