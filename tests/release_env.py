"""What the release tests run against: a Docker engine, a registry on 127.0.0.1, a git remote.

The engine is any one that answers `docker info`, else the one that
`../shared/tools/docker-engine up` starts (root only; see tests/engine.py). The registry is
Debian's or Ubuntu's `docker-registry` package, run on a free loopback port with its storage in
a temporary folder. Where none can be had, the tests skip and say why; under CI=true they fail
instead. What the tests push, pull and tag through a registry is removed from the engine when
the tests end.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

from tests import engine

REPO = Path(__file__).resolve().parents[1]
INDEX_TYPE = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.manifest.v1+json"
)
MANIFEST_TYPES = f"{INDEX_TYPE}, application/vnd.oci.image.index.v1+json, {IMAGE_TYPES}"
#: Debian packages the tests use, by the command each provides.
PACKAGES = {"docker-registry": "docker-registry", "skopeo": "skopeo", "htpasswd": "apache2-utils"}


def unavailable(reason: str) -> NoReturn:
    """Skip with the reason; under CI=true, where everything must run, fail with it."""
    if engine.required():
        pytest.fail(f"{reason} (CI=true: these tests must run)")
    pytest.skip(reason)


def sh(*args: str, timeout: float = 300, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output, without raising on failure."""
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )  # type: ignore[call-overload, no-any-return]


def ensure_docker_engine() -> None:
    """A Docker engine that answers `docker info`, started by the shared tool when needed."""
    try:
        engine.ensure_engine()
    except engine.Unavailable as exc:
        unavailable(str(exc))


def ensure_commands(*commands: str) -> None:
    """Install the Debian packages that provide `commands` when they are missing."""
    missing = [PACKAGES[command] for command in commands if shutil.which(command) is None]
    if missing:
        install_packages(missing)


def install_packages(packages: list[str]) -> None:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and sh("sudo", "-n", "true").returncode != 0:
        unavailable(f"{', '.join(packages)} missing, and installing needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sh(*prefix, "apt-get", "update", "-qq", timeout=600, env=env)
    installed = sh(*prefix, "apt-get", "install", "-y", "-qq", *packages, timeout=600, env=env)
    if installed.returncode != 0:
        unavailable(f"apt-get install {' '.join(packages)} failed: {installed.stderr[-500:]}")


def is_static(path: str) -> bool:
    result = sh("ldd", path)
    return "not a dynamic executable" in result.stdout + result.stderr


def static_busybox() -> str:
    """A statically linked busybox (Debian's busybox-static), which runs in an empty image."""
    path = shutil.which("busybox")
    if path is None or not is_static(path):
        install_packages(["busybox-static"])
        path = shutil.which("busybox")
    if path is None or not is_static(path):
        unavailable("no statically linked busybox: install busybox-static")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry, the only kind the registry accepts."""
    ensure_commands("htpasswd")
    made = sh("htpasswd", "-Bbn", user, password)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


@contextmanager
def local_registry(storage: Path, htpasswd: str | None = None) -> Iterator[str]:
    """A registry on 127.0.0.1 over plain http; yields its host:port.

    Anyone may read and write it, or, given an htpasswd entry, only that user: the stand-in for a
    private GHCR package.
    """
    ensure_commands("docker-registry")
    port = free_port()
    auth = ""
    if htpasswd:
        (storage / "htpasswd").write_text(htpasswd + "\n", encoding="utf-8")
        auth = f"auth:\n  htpasswd:\n    realm: local\n    path: {storage / 'htpasswd'}\n"
    config = storage / "config.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {storage / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{auth}",
        encoding="utf-8",
    )
    log = (storage / "registry.log").open("w")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    engine.forget_references(f"127.0.0.1:{port}/")
    try:
        wait_for(f"http://127.0.0.1:{port}/v2/")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_for(url: str) -> None:
    """Wait until the registry answers, even if only to say that it wants credentials."""
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as error:
            if error.code == 401:
                return
            time.sleep(0.1)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    unavailable(f"the local registry did not answer at {url}")


def basic_auth(credentials: tuple[str, str] | None) -> dict[str, str]:
    if credentials is None:
        return {}
    token = base64.b64encode(":".join(credentials).encode()).decode()
    return {"Authorization": f"Basic {token}"}


def manifest_digest(
    registry: str,
    repository: str,
    reference: str,
    credentials: tuple[str, str] | None = None,
) -> str | None:
    """The digest a registry serves for `reference` (a tag or digest), None when it has none."""
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{reference}",
        method="HEAD",
        headers={"Accept": MANIFEST_TYPES, **basic_auth(credentials)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.headers["Docker-Content-Digest"])
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def push_index(
    registry: str,
    repository: str,
    platforms: dict[str, str],
    credentials: tuple[str, str] | None = None,
) -> str:
    """Push a multi-platform index of the pushed images `platforms` (platform -> tag), by digest.

    This stands in for build-push-action's `push-by-digest=true`: the index gets no tag.
    """
    entries = []
    for platform, tag in platforms.items():
        request = urllib.request.Request(
            f"http://{registry}/v2/{repository}/manifests/{tag}",
            headers={"Accept": IMAGE_TYPES, **basic_auth(credentials)},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            media_type = response.headers["Content-Type"]
        os_name, architecture = platform.split("/")
        entries.append(
            {
                "mediaType": media_type,
                "size": len(body),
                "digest": "sha256:" + hashlib.sha256(body).hexdigest(),
                "platform": {"architecture": architecture, "os": os_name},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries})
    digest = "sha256:" + hashlib.sha256(index.encode()).hexdigest()
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{digest}",
        data=index.encode(),
        method="PUT",
        headers={"Content-Type": INDEX_TYPE, **basic_auth(credentials)},
    )
    with urllib.request.urlopen(request, timeout=10):
        return digest


def build_stand_in(
    context: Path,
    reference: str,
    platform: str,
    *,
    passes: bool,
    docker_config: Path | None = None,
) -> None:
    """Build and push a tiny image whose `python` passes or fails the self-test's two runs.

    FROM scratch with a static busybox: the release script's steps are what is tested, not the
    action (tests/test_image.py and CI's self-test job test the action). Both platforms carry the
    host's busybox, so this machine runs the arm64 variant without emulation.
    """
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy(static_busybox(), context / "busybox")
    answer = (
        'if [ "$1" = -c ]; then echo "self-test: imported"; exit 0; fi\n'
        'echo "::error title=Invalid input::urgency: \\"urgent\\" is not an urgency."; exit 2'
        if passes
        else 'echo "boom" >&2; exit 3'
    )
    (context / "python").write_text(f"#!/bin/busybox sh\n{answer}\n", encoding="utf-8")
    (context / "python").chmod(0o755)
    (context / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY python /usr/local/bin/python\n",
        encoding="utf-8",
    )
    env = {**os.environ, **({"DOCKER_CONFIG": str(docker_config)} if docker_config else {})}
    label = ["--label", f"{engine.LABEL}={engine.RUN_ID}"]  # see tests/engine.py
    for command in (
        [
            "docker",
            "build",
            "--no-cache",
            "--platform",
            platform,
            "-t",
            reference,
            *label,
            str(context),
        ],
        ["docker", "push", reference],
    ):
        result = sh(*command, timeout=600, env=env)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
