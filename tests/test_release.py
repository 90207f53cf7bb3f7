"""scripts/release.py, step by step, against a bare git remote and a registry on 127.0.0.1.

The git-only tests need nothing but git. The registry tests need a Docker engine and Debian's
docker-registry package (see tests/release_env.py): they build a tiny two-platform image, push it
by digest, and run plan, self-test and publish as the release workflow does, then run them again
to show that a re-run only finishes what is missing; a second registry, readable only when logged
in, stands in for a new (private) GHCR package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import release_env
from tests.script_files import load_script

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "release.py"
REPOSITORY = "Acme/Escalate-Action"
TOKEN = "rt-local-test-token-5Vd8Qm"
CREDENTIALS = ("mia", "registry-pw-3Kd9Xs")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Mia Maintainer",
    "GIT_AUTHOR_EMAIL": "mia@example.com",
    "GIT_COMMITTER_NAME": "Mia Maintainer",
    "GIT_COMMITTER_EMAIL": "mia@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


release = load_script("release.py", "release_script")


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_ENV},
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def run_step(
    clone: Path, *args: str, outputs: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run one release step in `clone`, as the workflow's `run:` does, its GITHUB_OUTPUT file
    `outputs` (by default beside a test's own clone: never beside the repository)."""
    assert outputs is not None or clone != REPO, "give the repository's steps a temporary outputs"
    outputs = outputs or clone.parent / f"outputs-{clone.name}"
    outputs.write_text("", encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if k not in ("RELEASE_TOKEN", "GITHUB_ACTIONS")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=clone,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**base, **GIT_ENV, "GITHUB_OUTPUT": str(outputs), **env},
    )


def outputs_of(clone: Path) -> dict[str, str]:
    text = (clone.parent / f"outputs-{clone.name}").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if line)


class Project:
    """A bare remote with main and a maintainer's annotated tag, and fresh clones of it."""

    def __init__(self, root: Path, version: str = "1.2.3") -> None:
        self.root = root
        self.remote = root / "remote.git"
        self.work = root / "maintainer"
        git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(self.remote))
        git(root, "clone", "--quiet", str(self.remote), str(self.work))
        shutil.copy(REPO / "action.yml", self.work / "action.yml")
        self.commit(version)
        git(self.work, "push", "--quiet", "origin", "main")

    def commit(self, version: str) -> str:
        (self.work / "pyproject.toml").write_text(
            f'[project]\nname = "escalate-action"\nversion = "{version}"\n', encoding="utf-8"
        )
        git(self.work, "add", "-A")
        git(self.work, "commit", "--quiet", "--allow-empty", "-m", f"Version {version}")
        return git(self.work, "rev-parse", "HEAD")

    def tag(self, tag: str, ref: str = "HEAD") -> None:
        git(self.work, "tag", "--annotate", tag, "-m", f"Version {tag}", ref)
        git(self.work, "push", "--quiet", "origin", f"refs/tags/{tag}")

    def clone(self, name: str) -> Path:
        """A fresh clone with every branch and tag, as checkout with fetch-depth 0 leaves it."""
        path = self.root / name
        git(self.root, "clone", "--quiet", str(self.remote), str(path))
        return path

    def checkout_run(self, name: str, sha: str) -> Path:
        """A clone as the workflow's checkout leaves it with `ref: ${{ github.sha }}` and
        fetch-depth 0: every branch and tag fetched, HEAD detached at the run's SHA."""
        path = self.clone(name)
        git(path, "checkout", "--quiet", "--detach", sha)
        return path

    def remote_refs(self) -> dict[str, str]:
        lines = git(self.root, "ls-remote", str(self.remote)).splitlines()
        return {ref: sha for sha, ref in (line.split("\t") for line in lines)}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "release"  # tmp_path/runner holds the conftest's runner files
    root.mkdir()
    return Project(root)


def plan(clone: Path, tag: str, registry: str = "ghcr.io") -> subprocess.CompletedProcess[str]:
    return run_step(
        clone,
        *("plan", "--tag", tag, "--registry", registry, "--repository", REPOSITORY),
        RELEASE_TOKEN_SET="true",
    )


# --- the script's rules, without git -----------------------------------------------------------


def test_image_tags_move_only_to_the_newest_release_of_each_line() -> None:
    """X.Y.Z always; X.Y and X only when the tag is the newest of its minor and major line."""
    tags = ["v1.1.0", "v1.2.0", "v1.2.1", "v2.0.0"]
    assert release.image_tags("v1.2.1", tags) == ["1.2.1", "1.2", "1"]
    assert release.image_tags("v1.1.0", tags) == ["1.1.0", "1.1"]
    assert release.image_tags("v1.2.0", tags) == ["1.2.0"]
    assert release.image_tags("v2.0.0", tags) == ["2.0.0", "2.0", "2"]


def test_image_name_is_lowercased_and_checked() -> None:
    """The image is registry/owner/name in lowercase; a malformed repository is refused."""
    assert release.image_name("ghcr.io", REPOSITORY) == "ghcr.io/acme/escalate-action"
    with pytest.raises(release.ReleaseError, match="OWNER/NAME"):
        release.image_name("ghcr.io", "")


# --- plan, with git alone ----------------------------------------------------------------------


def test_plan_builds_a_tagged_commit_of_main(project: Project) -> None:
    """A version tag on main with a matching pyproject.toml version plans a build of that commit."""
    project.tag("v1.2.3")
    clone = project.clone("runner")
    result = plan(clone, "v1.2.3")
    assert result.returncode == 0, result.stderr
    planned = outputs_of(clone)
    assert planned["mode"] == "build"
    assert planned["image"] == "ghcr.io/acme/escalate-action"
    assert planned["source"] == git(clone, "rev-parse", "v1.2.3^{commit}")
    assert planned["digest"] == ""


def test_plan_refuses_a_tag_that_is_not_on_main(project: Project) -> None:
    """A tag on a commit that main does not contain is refused, naming the commit."""
    git(project.work, "checkout", "--quiet", "-b", "side")
    side = project.commit("1.2.3")
    git(project.work, "push", "--quiet", "origin", "side")
    project.tag("v1.2.3", side)
    clone = project.clone("runner")
    result = plan(clone, "v1.2.3")
    assert result.returncode == 1
    assert "not on refs/remotes/origin/main" in result.stderr
    assert side[:12] in result.stderr


def test_plan_refuses_a_version_pyproject_does_not_declare(project: Project) -> None:
    """Tag v1.3.0 on a commit whose pyproject.toml says 1.2.3 is refused: bump it first."""
    project.tag("v1.3.0")
    result = plan(project.clone("runner"), "v1.3.0")
    assert result.returncode == 1
    assert "pyproject.toml says version 1.2.3" in result.stderr


def test_plan_stops_when_the_release_token_is_missing(project: Project) -> None:
    """Without the RELEASE_TOKEN secret the run stops at the plan, before any build or move."""
    project.tag("v1.2.3")
    clone = project.clone("runner")
    result = run_step(clone, "plan", "--tag", "v1.2.3", "--repository", REPOSITORY)
    assert result.returncode == 1
    assert "RELEASE_TOKEN is not set" in result.stderr
    assert outputs_of(clone) == {}


def test_a_rerun_at_the_original_sha_plans_to_finish_after_the_tag_moved(
    project: Project,
) -> None:
    """A re-run checks out the run's original SHA, whose tag now points at the release commit,
    and the plan finishes that release instead of failing or building again."""
    project.tag("v1.2.3")
    original = project.remote_refs()["refs/tags/v1.2.3^{}"]  # the re-run's GITHUB_SHA
    digest = "sha256:" + "5" * 64
    action = (project.work / "action.yml").read_text(encoding="utf-8")
    released = action.replace(
        "  image: Dockerfile\n", f"  image: docker://ghcr.io/acme/escalate-action@{digest}\n"
    )
    assert released != action
    git(project.work, "checkout", "--quiet", "--detach")
    (project.work / "action.yml").write_text(released, encoding="utf-8")
    git(project.work, "commit", "--quiet", "-am", "Release v1.2.3")
    git(project.work, "tag", "--force", "--annotate", "v1.2.3", "-m", "Release v1.2.3")
    git(project.work, "push", "--quiet", "--force", "origin", "refs/tags/v1.2.3")
    moved = project.remote_refs()["refs/tags/v1.2.3^{}"]
    assert moved != original  # where checkout of the tag ref, without `ref`, refuses to run
    clone = project.checkout_run("rerun", original)
    assert git(clone, "rev-parse", "HEAD") == original
    result = plan(clone, "v1.2.3")
    assert result.returncode == 0, result.stderr
    assert outputs_of(clone) == {
        "mode": "finish",
        "image": "ghcr.io/acme/escalate-action",
        "source": original,
        "digest": digest,
    }


def test_publish_without_a_token_moves_nothing(project: Project) -> None:
    """publish refuses to start without RELEASE_TOKEN, and the remote's tags stay as they were."""
    project.tag("v1.2.3")
    before = project.remote_refs()
    clone = project.clone("runner")
    source = git(clone, "rev-parse", "v1.2.3^{commit}")
    result = run_step(
        clone,
        *("publish", "--tag", "v1.2.3", "--image", "ghcr.io/acme/escalate-action"),
        *("--digest", "sha256:" + "0" * 64, "--source", source),
    )
    assert result.returncode == 1
    assert "RELEASE_TOKEN is empty" in result.stderr
    assert project.remote_refs() == before


# --- the whole path, with a Docker engine and a registry ---------------------------------------


class Images:
    """The stand-in image, pushed by digest: one index that passes, one that fails on arm64."""

    def __init__(self, registry: str, root: Path) -> None:
        self.registry = registry
        self.image = f"{registry}/acme/escalate-action"
        staged = {}
        for platform, passes in (
            ("linux/amd64", True),
            ("linux/arm64", True),
            ("arm64-bad", False),
        ):
            tag = f"staging-{platform.replace('/', '-')}"
            target = "linux/arm64" if platform == "arm64-bad" else platform
            release_env.build_stand_in(root / tag, f"{self.image}:{tag}", target, passes=passes)
            staged[platform] = tag
        repository = "acme/escalate-action"
        self.digest = release_env.push_index(
            registry, repository, {p: staged[p] for p in ("linux/amd64", "linux/arm64")}
        )
        self.bad_digest = release_env.push_index(
            registry,
            repository,
            {"linux/amd64": staged["linux/amd64"], "linux/arm64": staged["arm64-bad"]},
        )

    def tag_digest(self, tag: str) -> str | None:
        return release_env.manifest_digest(self.registry, "acme/escalate-action", tag)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    release_env.ensure_docker_engine()
    release_env.ensure_commands("skopeo")
    root = tmp_path_factory.mktemp("registry")
    with release_env.local_registry(root) as registry:
        yield Images(registry, root)


@pytest.mark.slow
def test_self_test_fails_on_the_platform_whose_image_fails(images: Images, tmp_path: Path) -> None:
    """self-test runs each platform of the index and names the one whose image fails."""
    step = ("self-test", "--image", images.image, "--digest")
    ok = run_step(REPO, *step, images.digest, outputs=tmp_path / "outputs")
    assert ok.returncode == 0, ok.stderr
    assert "self-test passed on linux/arm64" in ok.stderr
    bad = run_step(REPO, *step, images.bad_digest, outputs=tmp_path / "outputs")
    assert bad.returncode == 1
    assert "self-test failed on linux/arm64 (exit 3)" in bad.stderr


def publish(clone: Path, images: Images, tag: str, **env: str) -> subprocess.CompletedProcess[str]:
    planned = outputs_of(clone)
    digest = planned["digest"] or images.digest
    return run_step(
        clone,
        *("publish", "--tag", tag, "--image", planned["image"], "--digest", digest),
        *("--source", planned["source"]),
        RELEASE_IMAGE_TOOL="skopeo",  # no buildx builder here is set up for a plain-http registry
        **env,
    )


@pytest.mark.slow
def test_release_then_rerun_finishes_only_what_is_missing(project: Project, images: Images) -> None:
    """A release tags the image and moves vX.Y.Z and vX at once; a re-run, checked out at the
    run's original SHA after the tag moved, only restores vX."""
    project.tag("v1.2.3")
    source = project.remote_refs()["refs/tags/v1.2.3^{}"]
    first = project.clone("first-run")
    assert plan(first, "v1.2.3", images.registry).returncode == 0
    assert outputs_of(first)["mode"] == "build"
    result = publish(first, images, "v1.2.3", RELEASE_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr

    refs = project.remote_refs()
    released = refs["refs/tags/v1.2.3^{}"]
    assert refs["refs/tags/v1"] == released
    git(first, "fetch", "--quiet", "origin", "--tags", "--force")
    action = git(first, "show", f"{released}:action.yml")
    assert f"  image: docker://{images.image}@{images.digest}" in action.splitlines()
    assert git(first, "rev-parse", f"{released}^") == source
    assert git(first, "diff", "--name-only", source, released) == "action.yml"
    message = git(first, "cat-file", "tag", "refs/tags/v1.2.3")
    assert "replaces the annotated tag" in message
    assert "Mia Maintainer" in message
    for name in ("1.2.3", "1.2", "1"):
        assert images.tag_digest(name) == images.digest, name

    # A re-run (the run that the tag push itself starts, or a maintainer's): v1 was lost meanwhile.
    git(project.work, "push", "--quiet", "origin", ":refs/tags/v1")
    assert released != source  # the tag moved: the re-run checks out its original SHA
    again = project.checkout_run("second-run", source)
    assert plan(again, "v1.2.3", images.registry).returncode == 0
    assert outputs_of(again)["mode"] == "finish"
    assert outputs_of(again)["digest"] == images.digest
    assert outputs_of(again)["source"] == source
    result = publish(again, images, "v1.2.3", RELEASE_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    assert project.remote_refs() == refs
    assert images.tag_digest("1") == images.digest


@dataclass(frozen=True)
class PrivateImage:
    """The stand-in pushed to a registry that only a logged-in user may read, like a new package."""

    registry: str
    image: str
    digest: str
    docker_config: Path  # logged in, as the publish job is


@pytest.fixture(scope="module")
def private_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateImage]:
    release_env.ensure_docker_engine()
    root = tmp_path_factory.mktemp("private-registry")
    with release_env.local_registry(root, release_env.htpasswd_line(*CREDENTIALS)) as registry:
        config = root / "docker-config"
        config.mkdir()
        login = release_env.sh(
            *("docker", "login", registry, "--username", CREDENTIALS[0], "--password-stdin"),
            input=CREDENTIALS[1],
            env={**os.environ, "DOCKER_CONFIG": str(config)},
        )
        assert login.returncode == 0, login.stderr
        image = f"{registry}/acme/escalate-action"
        for platform in ("linux/amd64", "linux/arm64"):
            tag = f"staging-{platform.replace('/', '-')}"
            release_env.build_stand_in(
                root / tag, f"{image}:{tag}", platform, passes=True, docker_config=config
            )
        digest = release_env.push_index(
            registry,
            "acme/escalate-action",
            {"linux/amd64": "staging-linux-amd64", "linux/arm64": "staging-linux-arm64"},
            CREDENTIALS,
        )
        yield PrivateImage(registry, image, digest, config)


@pytest.mark.slow
def test_a_private_image_stops_the_release_before_any_tag_moves(
    project: Project, private_image: PrivateImage
) -> None:
    """Logged in the image reads fine, anonymously it does not: publish stops, moving nothing."""
    logged_in = release_env.sh(
        *("docker", "manifest", "inspect", "--insecure"),
        f"{private_image.image}@{private_image.digest}",
        env={**os.environ, "DOCKER_CONFIG": str(private_image.docker_config)},
    )
    assert logged_in.returncode == 0, logged_in.stderr
    project.tag("v1.2.3")
    before = project.remote_refs()
    clone = project.clone("runner")
    assert plan(clone, "v1.2.3", private_image.registry).returncode == 0
    result = run_step(
        clone,
        *("publish", "--tag", "v1.2.3", "--image", private_image.image),
        *("--digest", private_image.digest, "--source", outputs_of(clone)["source"]),
        RELEASE_TOKEN=TOKEN,
        RELEASE_IMAGE_TOOL="skopeo",
        DOCKER_CONFIG=str(private_image.docker_config),
    )
    assert result.returncode == 1
    assert "cannot be read anonymously" in result.stderr
    assert "make the package public" in result.stderr
    assert project.remote_refs() == before
    for name in ("1.2.3", "1.2", "1"):
        found = release_env.manifest_digest(
            private_image.registry, "acme/escalate-action", name, CREDENTIALS
        )
        assert found is None, name
