"""What the ``escalator`` parser does after parsing: refuse what a subcommand does not take, with
that subcommand's usage and a hint, and settle an operation's main input given as a positional or
in its option form (``note --note hello``).
"""

from __future__ import annotations

import argparse
import difflib
import shlex
from collections.abc import Sequence

from escalator.faces.cli.options import OPTION_FORM, OPTIONS
from escalator.operations import OPERATIONS


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of subcommand ``name`` of ``parser`` (from :func:`build_parser`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen: argparse.ArgumentParser = action.choices[name]
            return chosen
    raise KeyError(name)


def settle(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: Sequence[str]) -> None:
    """Refuse what the subcommand of ``args`` does not take, with its own usage and a hint, and
    take its main input from the positional or from its option form, exactly one of them."""
    command = args.command
    if command not in OPERATIONS:
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return
    sub = subcommand(parser, command)
    if extra:
        sub.error(f"unrecognized arguments: {' '.join(extra)}\n{unknown_hint(sub, command, extra)}")
    positional = OPERATIONS[command].positional
    if positional is None:
        return
    flag = OPTIONS[positional.input].flags[0]
    given, option = getattr(args, positional.input), getattr(args, OPTION_FORM, None)
    if given not in (None, []) and option is not None:
        sub.error(f"give {positional.metavar} once: as an argument or as {flag}, not both")
    if given in (None, []):
        if option is None:
            sub.error(f"the following arguments are required: {positional.metavar} (or {flag})")
        setattr(args, positional.input, option)


def unknown_hint(sub: argparse.ArgumentParser, command: str, extra: Sequence[str]) -> str:
    """What to type instead of the first argument ``escalator <command>`` does not take."""
    first = extra[0]
    if first.startswith("-"):
        flag = first.split("=", 1)[0]
        known = [text for action in sub._actions for text in action.option_strings]
        close = difflib.get_close_matches(flag, known, n=1, cutoff=0.6)
        if close:
            return f"hint: did you mean {close[0]}?"
        every = [text for option in OPTIONS.values() for text in option.flags]
        meant = flag if flag in every else next(iter(difflib.get_close_matches(flag, every, 1)), "")
        users = [name for name in OPTIONS if meant in OPTIONS[name].flags]
        takers = [op for op, o in OPERATIONS.items() if set(users) & set(o.inputs_model.inputs())]
        if takers:
            said = f"{meant} is" if meant == flag else f"did you mean {meant}? It is"
            return f"hint: {said} for {', '.join(takers)}, not {command}; see its --help."
        return f"hint: see escalator {command} --help for its options."
    texts = [
        OPTIONS[name].flags[0]
        for name in OPERATIONS[command].inputs_model.inputs()
        if OPTIONS[name].metavar == "TEXT"
    ]
    if OPERATIONS[command].positional is not None:
        return "hint: quote text with spaces, as one argument."
    if texts:
        return (
            f"hint: escalator {command} takes no argument here; give text with an option, "
            f"quoted: {' or '.join(f'{flag} {shlex.quote(first)}' for flag in texts)}."
        )
    return f"hint: escalator {command} takes no argument here; see escalator {command} --help."
