"""The Docker engine and base image the container and release tests use, left as they were found.

The engine is any one that answers ``docker info``. Where none answers, the engine tool beside
the clone (``../shared/tools/docker-engine``, root only) starts one, and stops it when the
tests end. The image is built FROM the ``Dockerfile``'s pinned base when the engine has it or can
pull it; where the registry cannot be reached, FROM the image named by ``ESCALATOR_TEST_BASE_IMAGE``
(which, when set, is used without trying the registry), or else FROM the engine tool's stand-in,
built from Debian's packages. Whatever a test run adds to the engine (a pulled or stand-in base,
the built image and its build stage, the release tests' tags and pulls) is removed when the tests
end: :func:`remove_at_exit` and :func:`forget_references` record it.

The tests that use the engine run in one process: on several pytest-xdist workers each would start,
fill and stop it as if it were alone, so :func:`ensure_engine` refuses to run there.

Where no engine can be had, :class:`Unavailable` says why: the tests skip, and under ``CI=true``
(:func:`required`) they fail instead.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENGINE_TOOL = REPO.parent / "shared" / "tools" / "docker-engine"
BASE_VARIABLE = "ESCALATOR_TEST_BASE_IMAGE"
#: How long installing and starting the engine, or building an image, may take.
ENGINE_TIMEOUT = 900
#: The label on every image the tests build, its value this run's (pulls of them carry it too).
LABEL = "escalate-action-test-run"
RUN_ID = os.environ.get("ESCALATOR_TEST_RUN") or uuid.uuid4().hex[:12]
#: The stand-in images the engine tool builds (``docker-engine base``).
STAND_IN = ("local/python:3.13-slim", "local/debian-trixie:rootfs")

_state: dict[str, str] = {}
_images: list[str] = []
_prefixes: list[str] = []


class Unavailable(RuntimeError):
    """No engine, or no base image, can be had here; the message says why and what to do."""


def required() -> bool:
    """Whether the Docker tests must run rather than skip: under ``CI=true``."""
    return os.environ.get("CI") == "true"


def pinned_base() -> str:
    """The base image of the ``Dockerfile``'s first ``FROM`` (pinned by digest)."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert match, "the Dockerfile has no FROM"
    return match.group(1)


def docker_run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``docker ARGS``, its output captured, without raising on failure."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def answers() -> bool:
    """Whether a Docker engine answers ``docker info``."""
    return shutil.which("docker") is not None and docker_run("info", timeout=30).returncode == 0


def has_image(reference: str) -> bool:
    return docker_run("image", "inspect", reference).returncode == 0


def _tool_unavailable() -> str | None:
    if not ENGINE_TOOL.is_file():
        return f"no Docker engine answers `docker info`, and no engine tool at {ENGINE_TOOL}"
    if os.geteuid() != 0:
        return "no Docker engine answers `docker info`, and starting one needs root"
    return None


def engine_unavailable() -> str | None:
    """Why no Docker engine can be had on this machine, or ``None`` when one can."""
    return None if answers() else _tool_unavailable()


def ensure_engine() -> None:
    """A Docker engine that answers; one started here is stopped when the process ends."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    if workers > 1:
        # Each worker would start, fill and stop the one engine as if it were alone.
        raise Unavailable(
            f"the Docker tests run in one pytest process, not on {workers} workers (-n): "
            "run them without -n (`bash scripts/test` gives them a process of their own)"
        )
    if answers():
        return
    reason = _tool_unavailable()
    if reason:
        raise Unavailable(reason)
    try:
        tool("up")
    except RuntimeError as exc:
        raise Unavailable(f"the engine tool could not start an engine: {exc}") from None
    _state["started"] = "yes"
    at_end(lambda: tool("down"))  # runs after the removals registered later


#: What the run must undo when it ends, last registered first.
_finishers: list[Callable[[], object]] = []


def at_end(undo: Callable[[], object]) -> None:
    """Run ``undo`` when the test run ends (:func:`finish`), or at the process's exit."""
    if not _finishers:
        atexit.register(finish)
    _finishers.append(undo)


def finish() -> None:
    """Undo what the run added to the engine, now (pytest's session end calls it; ``atexit`` is
    the fallback for other callers)."""
    while _finishers:
        _finishers.pop()()


def base_image() -> str:
    """The image the tests build FROM (see the module's docstring); pulled or built if needed."""
    if "base" not in _state:
        _state["base"] = _find_base()
    return _state["base"]


def _find_base() -> str:
    ensure_engine()
    chosen = os.environ.get(BASE_VARIABLE, "").strip()
    if chosen:
        if not has_image(chosen):
            raise Unavailable(f"{BASE_VARIABLE}={chosen}: the engine has no such image; "
                              "pull or build it first, or unset the variable")  # fmt: skip
        return chosen
    pinned = pinned_base()
    if has_image(pinned):
        return pinned
    pulled = docker_run("pull", "--quiet", pinned, timeout=ENGINE_TIMEOUT)
    if pulled.returncode == 0:
        remove_at_exit(pinned)
        return pinned
    if _tool_unavailable() is None:
        missing = [image for image in STAND_IN if not has_image(image)]
        try:
            stand_in = tool("base")
        except RuntimeError as exc:
            raise Unavailable(f"no base image: {pinned} cannot be pulled, and {exc}") from None
        for image in missing:
            remove_at_exit(image)
        return stand_in
    raise Unavailable(
        f"the base {pinned} cannot be pulled ({pulled.stderr.strip()[-200:]}): set "
        f"{BASE_VARIABLE} to a local image of Python 3.13 laid out like python:3.13-slim "
        "(docs/image.md)"
    )


def tool(*args: str) -> str:
    """Run the engine tool; its standard output, or ``RuntimeError`` with its last words."""
    completed = subprocess.run(
        ["bash", str(ENGINE_TOOL), *args],
        capture_output=True,
        text=True,
        timeout=ENGINE_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-15:])
        raise RuntimeError(f"docker-engine {' '.join(args)} failed:\n{tail}")
    return completed.stdout.strip()


def remove_at_exit(image: str) -> None:
    """Remove ``image`` (a reference or an ID) when the process ends, untagging only."""
    if not _images and not _prefixes:
        at_end(_clean)
    _images.append(image)


def forget_references(prefix: str) -> None:
    """Remove, when the process ends, every image with a tag or digest starting with ``prefix``
    (a test registry's ``host:port/``: what pushes, pulls and tags through it left)."""
    if not _images and not _prefixes:
        at_end(_clean)
    _prefixes.append(prefix)


def references(prefix: str) -> list[str]:
    """Every tag and digest reference in the engine that starts with ``prefix``."""
    listed = docker_run("image", "ls", "--all", "--digests", "--format",
                        "{{.Repository}} {{.Tag}} {{.Digest}}")  # fmt: skip
    found = []
    for line in listed.stdout.splitlines():
        repository, tag, digest = line.split(" ")
        if repository.startswith(prefix):
            found += [f"{repository}:{tag}"] if tag != "<none>" else []
            found += [f"{repository}@{digest}"] if digest != "<none>" else []
    return found


def _clean() -> None:
    """Remove what the tests recorded, newest first (a build stage before its base)."""
    for prefix in _prefixes:
        for reference in references(prefix):
            docker_run("image", "rm", reference)
    for image in reversed(_images):
        docker_run("image", "rm", image)
