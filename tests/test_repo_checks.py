"""Checks that the repository's own files are valid: metadata, workflows, image and lock.

The linters are the ones `scripts/bootstrap` installs next to the interpreter running the tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools import BIN, lint_tool, shell_scripts, shellcheck_on_path

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
DOCKERFILE = REPO / "Dockerfile"


def run_tool(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    executable = lint_tool(tool)
    return subprocess.run(
        [str(executable), *args], cwd=REPO, capture_output=True, text=True, check=False
    )


def assert_tool_passes(tool: str, *args: str) -> None:
    result = run_tool(tool, *args)
    assert result.returncode == 0, f"{tool} {' '.join(args)}\n{result.stdout}\n{result.stderr}"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def action_metadata() -> dict[str, Any]:
    metadata: dict[str, Any] = load_yaml(REPO / "action.yml")
    return metadata


def workflow_steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
    ]


# --- linters -----------------------------------------------------------------------------------


def test_action_metadata_matches_schema() -> None:
    """action.yml is valid against the GitHub action metadata schema."""
    assert_tool_passes(
        "check-jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml"
    )


def test_workflows_match_schema() -> None:
    """Every workflow, the project's and the example, is valid against the workflow schema."""
    examples = sorted((REPO / "examples").glob("*.yml"))
    assert WORKFLOWS
    assert_tool_passes(
        "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        *(str(path) for path in [*WORKFLOWS, *examples]),
    )


def test_dependabot_config_matches_schema() -> None:
    """.github/dependabot.yml is valid against the Dependabot schema."""
    assert_tool_passes(
        "check-jsonschema", "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml"
    )


def test_dockerfile_passes_hadolint() -> None:
    """The Dockerfile has no hadolint finding."""
    assert_tool_passes("hadolint", "Dockerfile")


def test_workflows_pass_zizmor() -> None:
    """zizmor finds no issue in the workflows, action.yml, dependabot.yml or the example."""
    assert_tool_passes("zizmor", "--offline", ".", "examples/pagerduty-incident.yml")


def test_shell_scripts_pass_shellcheck() -> None:
    """Every shell script in scripts/ and .ci/ passes shellcheck, run as CI runs it."""
    assert shell_scripts()
    shellcheck_on_path()
    result = subprocess.run(
        ["bash", "scripts/check-shell"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Dockerfile and lock -----------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_base_image_is_official_python_slim_pinned_by_digest() -> None:
    """The image starts from the official python:3.X-slim, pinned by a sha256 digest; the other
    stages start from that one (the first FROM is the only image pulled)."""
    froms = [rest for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    first = re.fullmatch(r"python:3\.1[23]-slim@sha256:[0-9a-f]{64} AS (\w+)", froms[0])
    assert first, froms[0]
    stages = {first.group(1)}
    for rest in froms[1:]:
        image, _, name = rest.partition(" AS ")
        assert image in stages, rest
        stages.add(name)


def test_dependencies_install_from_the_hashed_lock_before_the_code() -> None:
    """pip installs only the hash-locked requirements, and does so before the code is copied."""
    instructions = dockerfile_instructions()
    runs = [
        i
        for i, (keyword, rest) in enumerate(instructions)
        if keyword == "RUN" and "pip install" in rest
    ]
    code = [
        i
        for i, (keyword, rest) in enumerate(instructions)
        if keyword == "COPY" and "escalator" in rest
    ]
    assert len(runs) == 1
    assert code
    pip = instructions[runs[0]][1]
    for flag in ("--no-cache-dir", "--require-hashes", "-r"):
        assert flag in pip
    assert "requirements.txt" in pip
    assert runs[0] < min(code)


def test_image_follows_the_docker_action_rules() -> None:
    """The image runs as root, relies on no WORKDIR and has an absolute exec-form ENTRYPOINT;
    its last stage adds nothing but the build stage's /stage."""
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert "USER" not in keywords
    assert "WORKDIR" not in keywords
    entrypoints = [rest for keyword, rest in instructions if keyword == "ENTRYPOINT"]
    assert entrypoints == ['["/usr/local/bin/python", "/action/entrypoint.py"]']
    last = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    final = instructions[last:]
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    for setting in (
        "PYTHONPATH=/action",
        "PYTHONUNBUFFERED=1",
        "PYTHONDONTWRITEBYTECODE=1",
        "PYDANTIC_DISABLE_PLUGINS=__all__",
    ):
        assert setting in env
    assert [rest for keyword, rest in final if keyword in ("COPY", "ADD", "RUN")] == [
        "--from=build /stage/ /"
    ]
    copies = " ".join(rest for keyword, rest in instructions if keyword == "COPY")
    assert "escalator/ /action/escalator/" in copies
    assert "entrypoint.py /action/entrypoint.py" in copies


def test_build_stage_leaves_out_what_no_run_needs() -> None:
    """The build stage removes the sandbox, demo, port-setup and CLI."""
    runs = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "RUN")
    for path in (
        "escalator/sandbox",
        "escalator/kit",
        "escalator/faces/cli",
        "escalator/demo.py",
        "escalator/__main__.py",
    ):
        assert f"/action/{path}" in runs, path


def dockerignore_allows(path: str) -> bool:
    """Whether the build context keeps `path`, by .dockerignore's last-match-wins rule."""
    allowed = True
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").rstrip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        if re.fullmatch(f"{regex}(/.*)?", path):
            allowed = negated
    return allowed


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("requirements.txt", True),
        ("requirements.in", False),
        ("scripts/image_bytecode.py", True),
        ("scripts/benchmark.py", False),
        ("entrypoint.py", True),
        ("escalator/faces/cli/__init__.py", True),
        ("escalator/sandbox/server.py", True),
        ("escalator/__pycache__/cli.cpython-313.pyc", False),
        ("tests/test_examples.py", False),
        ("escalator/kit/data/blueprints.json", True),
        ("examples/pagerduty-incident.yml", False),
        (".git/HEAD", False),
        (".venv/bin/python", False),
        ("README.md", False),
        ("escalator/sandbox/README.md", False),
    ],
)
def test_build_context_holds_only_what_the_image_needs(path: str, kept: bool) -> None:
    """.dockerignore keeps the package, the entrypoint, the lock and the build stage's script,
    and drops the rest."""
    assert dockerignore_allows(path) is kept


def lock_requirements() -> dict[str, list[str]]:
    text = (REPO / "requirements.txt").read_text(encoding="utf-8")
    entries: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        block = block.strip()
        if not block or block.startswith("#"):
            continue
        name = re.match(r"[A-Za-z0-9._-]+", block)
        assert name, block
        assert re.match(r"[A-Za-z0-9._-]+==\S+", block), f"not pinned with ==: {block[:80]}"
        entries[re.sub(r"[-_.]+", "-", name.group(0).lower())] = re.findall(
            r"--hash=sha256:([0-9a-f]{64})", block
        )
    return entries


def test_lock_pins_every_package_with_hashes() -> None:
    """Every package in requirements.txt is pinned with == and carries at least one sha256 hash."""
    entries = lock_requirements()
    assert entries
    for name, hashes in entries.items():
        assert hashes, name


def test_lock_covers_the_runtime_dependencies() -> None:
    """Each runtime dependency of pyproject.toml is in requirements.txt."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = lock_requirements()
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        assert name
        assert re.sub(r"[-_.]+", "-", name.group(0).lower()) in locked, requirement


def test_lock_is_compiled_from_the_runtime_dependencies_as_dependabot_reads_it() -> None:
    """requirements.in lists exactly pyproject.toml's dependencies, and requirements.txt carries
    the pip-compile header whose options Dependabot repeats when it updates the lock."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = (REPO / "requirements.in").read_text(encoding="utf-8").splitlines()
    declared = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert declared == project["dependencies"]
    header = (REPO / "requirements.txt").read_text(encoding="utf-8").split("\n\n")[0]
    assert "autogenerated by pip-compile" in header
    assert "pip-compile --generate-hashes --strip-extras requirements.in" in header
    assert not (REPO / "requirements.lock").exists()


@pytest.mark.slow
def test_lock_is_what_requirements_in_compiles_to() -> None:
    """scripts/lock --check (pip-compile from PyPI) finds requirements.txt up to date."""
    completed = subprocess.run(
        ["bash", "scripts/lock", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


# --- workflows ---------------------------------------------------------------------------------


def test_third_party_actions_are_pinned_by_commit() -> None:
    """Each action used is local, or pinned by commit SHA with a version comment, or by digest."""
    for path in WORKFLOWS:
        lines = path.read_text(encoding="utf-8").splitlines()
        for line in lines:
            match = re.match(r"\s*(?:-\s+)?uses:\s*(\S+)(.*)", line)
            if not match or match.group(1).startswith("./"):
                continue
            reference, comment = match.groups()
            if reference.startswith("docker://"):
                assert re.search(r"@sha256:[0-9a-f]{64}$", reference), f"{path.name}: {line}"
            else:
                assert re.search(r"@[0-9a-f]{40}$", reference), f"{path.name}: {line}"
                assert re.search(r"#\s*v\d", comment), f"{path.name}: no version comment: {line}"


def test_every_job_has_a_timeout() -> None:
    """Every job that runs steps sets timeout-minutes."""
    for path in WORKFLOWS:
        for job_id, job in load_yaml(path)["jobs"].items():
            if "steps" in job:
                assert "timeout-minutes" in job, f"{path.name}: {job_id}"


def test_workflows_default_to_least_privilege() -> None:
    """Each workflow grants at most read access at the top; writes are granted per job."""
    for path in WORKFLOWS:
        workflow = load_yaml(path)
        assert "permissions" in workflow, path.name
        assert set(workflow["permissions"].values()) <= {"read", "none"}, path.name


def test_checkouts_do_not_persist_credentials() -> None:
    """No checkout leaves the job's token in .git/config."""
    for path in WORKFLOWS:
        for job_id, step in workflow_steps(load_yaml(path)):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, (
                    f"{path.name}: {job_id}"
                )


def ci_workflow() -> dict[str, Any]:
    workflow: dict[str, Any] = load_yaml(REPO / ".github" / "workflows" / "ci.yml")
    return workflow


def test_ci_tests_every_supported_python() -> None:
    """The CI test matrix is exactly the Python versions pyproject.toml's classifiers declare."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {
        classifier.rsplit(" :: ", 1)[1]
        for classifier in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", classifier)
    }
    matrix = ci_workflow()["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert set(matrix) == declared == {"3.11", "3.12", "3.13"}


def test_ci_runs_every_check() -> None:
    """CI runs ruff, mypy, schema checks, hadolint, zizmor, shellcheck, actionlint and pytest."""
    text = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    for check in (
        "ruff check",
        "ruff format --check",
        "mypy",
        "vendor.github-actions",
        "vendor.github-workflows",
        "vendor.dependabot",
        "hadolint",
        "zizmor",
        "shellcheck",
        "rhysd/actionlint",
        "pytest",
    ):
        assert check in text, check


def test_ci_runs_the_action_on_itself_and_checks_its_outputs() -> None:
    """The self-test job runs `uses: ./` against the sandbox and asserts the outputs it needs."""
    steps = ci_workflow()["jobs"]["self-test"]["steps"]
    runs = [step for step in steps if step.get("uses") == "./"]
    assert runs
    first = runs[0]
    assert "escalator sandbox" in " ".join(str(step.get("run", "")) for step in steps)
    assert "ESCALATOR_INSECURE_HTTP_HOSTS" in first["env"]
    later = " ".join(str(step.get("env", "")) + str(step.get("run", "")) for step in steps)
    for output in ("changed", "escalation_policy_id"):
        assert f"steps.{first['id']}.outputs.{output}" in later, output
    declared = set(action_metadata()["inputs"])
    for step in runs:
        assert set(step["with"]) <= declared


def test_release_builds_both_platforms_and_pins_the_image() -> None:
    """The release pushes an amd64 and arm64 image and points action.yml at its digest."""
    text = (REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    workflow = load_yaml(REPO / ".github" / "workflows" / "release.yml")
    triggers = workflow.get("on", workflow.get(True))
    assert triggers["push"]["tags"]
    assert "linux/amd64,linux/arm64" in text
    script = (REPO / "scripts" / "release.py").read_text(encoding="utf-8")
    assert 'f"  image: docker://{image}@{digest}"' in script
    assert 'PLATFORMS = ("linux/amd64", "linux/arm64")' in script
    assert 'return f"{registry}/{repository.lower()}"' in script


def test_source_action_builds_from_the_dockerfile() -> None:
    """On main, action.yml builds from the Dockerfile; release commits use the prebuilt image."""
    assert action_metadata()["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_license_is_mit_for_the_maintainers() -> None:
    """LICENSE is the MIT licence held by the escalate-action maintainers."""
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert re.search(r"Copyright \(c\) \d{4} escalate-action maintainers", text)
    assert "WITHOUT WARRANTY OF ANY KIND" in text
