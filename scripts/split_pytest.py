"""Run the whole test suite as two pytest processes at once, and add up what both found.

The tests that drive the Docker engine (:data:`DOCKER_TESTS`) share one engine and its images,
which ``tests/engine.py`` starts and stops for the process that runs them: they get a process of
their own. Everything else runs at the same time in a second process on two workers
(pytest-xdist): most of it waits on sandboxes, hangs and rate windows rather than on the CPU.
Each process writes to a file in a temporary folder; when both have ended, both outputs are
printed, one after the other, then a closing line with the counts of both. The exit code is 0
when both passed, else the first of theirs that is not.

    .venv/bin/python scripts/split_pytest.py      # what `bash scripts/test` runs without arguments
    PYTEST_WORKERS=4 ...                          # the second process on 4 workers
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The modules that use the Docker engine (tests/engine.py refuses to run on several workers).
DOCKER_TESTS = ("tests/test_container.py", "tests/test_release.py", "tests/test_docker_cleanup.py")
#: The words of pytest's closing line that :func:`closing_line` adds up.
OUTCOMES = ("passed", "failed", "skipped", "error", "xfailed", "xpassed", "deselected")
#: Seconds an interrupted pytest has to undo what it added (images, an engine it started).
STOP_TIMEOUT = 120
_COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)\b")
_TIME = re.compile(r" in (\d+(?:\.\d+)?)s\b")


@dataclass
class Part:
    """One of the two pytest processes: its name, its arguments, and once ended its output."""

    name: str
    args: list[str]
    code: int | None = None
    output: str = ""
    wall: float = 0.0

    def counts(self) -> dict[str, int]:
        """The counts of pytest's closing line (empty when it printed none)."""
        return counts(self.output)


def counts(output: str) -> dict[str, int]:
    """The outcome counts of the last pytest closing line in ``output`` (``error`` for errors)."""
    for line in reversed(output.splitlines()):
        found = _COUNT.findall(line)
        if found and _TIME.search(line):
            return {word.removesuffix("s") if word == "errors" else word: int(number)
                    for number, word in found}  # fmt: skip
    return {}


def closing_line(parts: list[Part]) -> str:
    """One line that adds up both processes' counts, as pytest's own closing line reads."""
    total = dict.fromkeys(OUTCOMES, 0)
    for part in parts:
        for word, number in part.counts().items():
            total[word] += number
    failed = total["failed"] + total["error"]
    extra = [f"{total[word]} {word}" for word in OUTCOMES[4:] if total[word]]
    return ", ".join([f"{total['passed']} passed", f"{failed} failed",
                      f"{total['skipped']} skipped", *extra])  # fmt: skip


def parts(workers: str) -> list[Part]:
    """The Docker tests in one process; the rest, without them, on ``workers`` workers."""
    ignored = [f"--ignore={module}" for module in DOCKER_TESTS]
    return [
        Part("the Docker tests (one process)", [*DOCKER_TESTS]),
        Part(f"the rest ({workers} workers)", ["-n", workers, *ignored]),
    ]


def run(todo: list[Part], folder: Path) -> None:
    """Start every part at once, each writing to its own file in ``folder``; wait for all."""
    started = time.monotonic()
    running: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for index, part in enumerate(todo):
            with (folder / f"{index}.log").open("wb") as log:
                command = [sys.executable, "-m", "pytest", *part.args]
                running[index] = subprocess.Popen(command, cwd=REPO, stdout=log,
                                                  stderr=subprocess.STDOUT)  # fmt: skip
        while running:
            for index, process in list(running.items()):
                if process.poll() is not None:
                    todo[index].code = process.returncode
                    todo[index].wall = time.monotonic() - started
                    del running[index]
            time.sleep(0.2)
    finally:  # interrupted: stop what still runs as Ctrl-C would (pytest then undoes what its
        # session added to the Docker engine), and keep what each part printed
        for process in running.values():
            process.send_signal(signal.SIGINT)
        for index, process in running.items():
            try:
                todo[index].code = process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                todo[index].code = process.wait()
        for index, part in enumerate(todo):
            log = folder / f"{index}.log"
            part.output = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


def report(todo: list[Part], wall: float) -> int:
    """Print each part's output, then the closing line of both; the exit code of the whole."""
    for part in todo:
        print(f"\n===== pytest: {part.name}, exit {part.code}, {part.wall:.1f} s\n", flush=True)
        sys.stdout.write(part.output)
    print(f"\npytest: both processes ended in {wall:.1f} s; together:")
    print(f"total: {closing_line(todo)}", flush=True)
    failed = next((part.code for part in todo if part.code), 0)
    if not failed and any(not part.counts() for part in todo):
        print("a pytest process ended without its closing line", file=sys.stderr)
        return 1
    return failed or 0


class Stopped(KeyboardInterrupt):
    """A SIGTERM to this process: stop both pytest processes as Ctrl-C would, not orphan them."""


def stop_on_term() -> None:
    """Make a SIGTERM interrupt :func:`run` as Ctrl-C does."""

    def stop(signum: int, frame: object) -> None:
        raise Stopped

    signal.signal(signal.SIGTERM, stop)


def main() -> int:
    stop_on_term()
    todo = parts(os.environ.get("PYTEST_WORKERS") or "2")
    print(f"pytest: {' and '.join(part.name for part in todo)} at once; the output of each "
          "follows when both have ended", flush=True)  # fmt: skip
    started = time.monotonic()
    stopped = 0
    with tempfile.TemporaryDirectory(prefix="escalate-action-pytest-") as folder:
        try:
            run(todo, Path(folder))
        except Stopped:
            stopped = 128 + signal.SIGTERM
        except KeyboardInterrupt:
            stopped = 130
    code = report(todo, time.monotonic() - started)
    return stopped or code


if __name__ == "__main__":
    sys.exit(main())
