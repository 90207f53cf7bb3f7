"""``scripts/split_pytest.py``, what ``bash scripts/test`` runs: two pytest processes at once, the
Docker tests in one, and one closing line that adds up both, its exit code failing when either
fails."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.script_files import load_script

split = load_script("split_pytest.py", "split_pytest")

#: The plain closing line a reader of test output counts: 'N passed, N failed', then skipped.
PLAIN_CLOSING = re.compile(r"^(\w+: )?\d+ passed, \d+ failed(, \d+ skipped)?$")


def test_counts_read_the_last_closing_line_in_both_of_its_forms() -> None:
    """The quiet form and the framed form both count, errors as ``error``, the last line wins."""
    quiet = "3 passed in 0.10s\n....\n12 passed, 2 skipped, 1 deselected in 4.51s\n"
    framed = "==== 1 failed, 5 passed, 2 errors, 1 xfailed in 61.02s (0:01:01) ====\n"
    assert split.counts(quiet) == {"passed": 12, "skipped": 2, "deselected": 1}
    assert split.counts(framed) == {"failed": 1, "passed": 5, "error": 2, "xfailed": 1}
    assert split.counts("ImportError while loading conftest\n") == {}


def test_the_closing_line_adds_up_both_parts_errors_as_failures() -> None:
    """Both processes' counts are added, errors with the failures, in the plain closing form."""
    one = split.Part("one", [], 1, "==== 1 failed, 7 passed, 1 error in 2.00s ====\n")
    two = split.Part("two", [], 0, "2990 passed, 3 skipped in 130.20s (0:02:10)\n")
    line = split.closing_line([one, two])
    assert line == "2997 passed, 2 failed, 3 skipped"
    assert PLAIN_CLOSING.match(f"total: {line}")


def test_the_docker_modules_run_apart_and_the_rest_without_them() -> None:
    """Every Docker module is in the first process only; the second ignores each one."""
    docker, rest = split.parts("2")
    assert docker.args == list(split.DOCKER_TESTS)
    assert rest.args[:2] == ["-n", "2"]
    assert sorted(rest.args[2:]) == sorted(f"--ignore={name}" for name in split.DOCKER_TESTS)
    for name in split.DOCKER_TESTS:
        assert (split.REPO / name).is_file(), name


def _project(folder: Path, body: str) -> list[str]:
    """A one-test project of its own in ``folder``; the pytest arguments that run it."""
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (folder / "test_one.py").write_text(f"def test_one():\n    {body}\n", encoding="utf-8")
    return ["-p", "no:cacheprovider", "-c", str(folder / "pytest.ini"),
            "--rootdir", str(folder), str(folder / "test_one.py")]  # fmt: skip


def test_both_run_and_one_failure_fails_the_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two processes run to their end; one's failure is the exit code, each output is printed,
    and the last line adds up both."""
    todo = [
        split.Part("passing", _project(tmp_path / "a", "assert 1 + 1 == 2")),
        split.Part("failing", _project(tmp_path / "b", "assert 'ends' == 'here'")),
    ]
    split.run(todo, tmp_path)
    code = split.report(todo, 1.0)
    printed = capsys.readouterr().out
    assert [part.code for part in todo] == [0, 1]
    assert code == 1
    assert "===== pytest: passing, exit 0" in printed
    assert "===== pytest: failing, exit 1" in printed
    assert "assert 'ends' == 'here'" in printed
    assert printed.splitlines()[-1] == "total: 1 passed, 1 failed, 0 skipped"


def test_a_process_without_a_closing_line_fails_the_whole(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A process that exited 0 but printed no closing line is not taken for a pass."""
    todo = [
        split.Part("fine", [], 0, "4 passed in 1.00s\n"),
        split.Part("silent", [], 0, "nothing here\n"),
    ]
    assert split.report(todo, 1.0) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "total: 4 passed, 0 failed, 0 skipped"


STOPPED_BY_TERM = """
import sys, time
sys.path.insert(0, sys.argv[1])
from tests.script_files import load_script
split = load_script("split_pytest.py", "split_pytest")
split.stop_on_term()
todo = [split.Part("sleeper", sys.argv[3:])]
try:
    split.run(todo, __import__("pathlib").Path(sys.argv[2]))
except split.Stopped:
    sys.exit(143)
"""


def test_a_sigterm_stops_both_pytest_processes_not_orphans_them(tmp_path: Path) -> None:
    """SIGTERM to the runner interrupts its pytest processes as Ctrl-C would (their session still
    ends, so the Docker one undoes what it added) instead of leaving them running."""
    marker = tmp_path / "pid"
    finished = tmp_path / "finished"
    args = _project(
        tmp_path / "p",
        f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(60)",
    )
    (tmp_path / "p" / "conftest.py").write_text(
        f"def pytest_sessionfinish():\n    open({str(finished)!r}, 'w').write('done')\n",
        encoding="utf-8",
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", STOPPED_BY_TERM, str(split.REPO), str(tmp_path), *args]
    )
    for _ in range(300):  # the sleeping test has started (at most 30 s)
        if marker.exists() and marker.read_text():
            break
        time.sleep(0.1)
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=60) == 143
    child = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    assert finished.read_text() == "done"  # its session ended as after a Ctrl-C
