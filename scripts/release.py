#!/usr/bin/env python3
"""The release steps that .github/workflows/release.yml runs, one subcommand per step.

    plan            read the version tag and decide: build a new image, or finish a release whose
                    tag already points at a release commit (a re-run); refuse a tag not on main
    self-test       run the image offline on every platform of the pushed index
    publish         check the image anonymously, tag it X.Y.Z / X.Y / X, then make the release
                    commit and push vX.Y.Z (and vX) in one atomic push with RELEASE_TOKEN
    github-release  create the GitHub release of the tag unless it exists

Every step reads the git repository it runs in (a clone of the project with all branches and
tags, as `actions/checkout` with `fetch-depth: 0` leaves it) and talks to the registry through the
docker CLI, so the same steps run on a runner against GHCR and locally against a bare git remote
and a registry on 127.0.0.1 (tests/test_release.py). Standard library only: the runner's python3
runs it before the project is installed. Docs: docs/releasing.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PLATFORMS = ("linux/amd64", "linux/arm64")
VERSION_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
SOURCE_IMAGE_LINE = "  image: Dockerfile"
RELEASE_IMAGE_LINE = re.compile(r"^  image: docker://(\S+)@(sha256:[0-9a-f]{64})$", re.M)
PYTHON = "/usr/local/bin/python"
ENTRYPOINT = "/action/entrypoint.py"
#: What a run may import (PyGithub with its native PyNaCl only with github_token).
SELF_TEST_IMPORTS = (
    "import escalator.faces.action, escalator.clients.github, github, pydantic_core; "
    "print('self-test: imported')"
)
SELF_TEST_IMPORTED = re.compile(r"^self-test: imported$", re.M)
SELF_TEST_INPUTS = [
    "-e", "GITHUB_ACTIONS=true", "-e", "INPUT_INCIDENT_ID=Q2LAR4ADCXC8IB",
    "-e", "INPUT_URGENCY=urgent", "-e", "INPUT_PAGERDUTY_TOKEN=not-a-real-key",
]  # fmt: skip
SELF_TEST_REFUSED = re.compile(r"^::error title=Invalid input::urgency: ", re.M)
BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
LOOPBACK_REGISTRY = re.compile(r"(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?")
DOCS = "docs/releasing.md"


class ReleaseError(Exception):
    """A release step cannot go on; the message says why and what to do."""


# --- small helpers -----------------------------------------------------------------------------


def run(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; raise ReleaseError with its stderr when it fails."""
    result = subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    if check and result.returncode != 0:
        raise ReleaseError(f"`{' '.join(args[:4])} ...` failed: {result.stderr.strip()[-2000:]}")
    return result


def git(*args: str, env: Mapping[str, str] | None = None) -> str:
    return run(["git", *args], env=env).stdout.strip()


def git_ok(*args: str) -> bool:
    return run(["git", *args], check=False).returncode == 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_outputs(values: Mapping[str, str]) -> None:
    """Write step outputs to $GITHUB_OUTPUT when set, and show them on stdout."""
    lines = [f"{name}={value}" for name, value in values.items()]
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def image_name(registry: str, repository: str) -> str:
    """The image's name: registry/owner/name, lowercased as registries require."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
        raise ReleaseError(f"repository {repository!r} is not OWNER/NAME; set GITHUB_REPOSITORY")
    return f"{registry}/{repository.lower()}"


def parse_tag(tag: str) -> tuple[int, int, int]:
    match = VERSION_TAG.fullmatch(tag)
    if not match:
        raise ReleaseError(f"{tag} is not a version tag vX.Y.Z: push a tag like v1.2.3")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def version_tags() -> list[str]:
    """Every vX.Y.Z tag of the repository."""
    return [tag for tag in git("tag", "--list", "v*").split() if VERSION_TAG.fullmatch(tag)]


def newest(tags: Sequence[str], prefix: tuple[int, ...]) -> str | None:
    """The highest version among `tags` whose leading numbers equal `prefix`."""
    matching = [tag for tag in tags if parse_tag(tag)[: len(prefix)] == prefix]
    return max(matching, key=parse_tag, default=None)


def image_tags(tag: str, tags: Sequence[str]) -> list[str]:
    """The image tags a release carries: X.Y.Z always, X.Y and X when it is the newest of each."""
    major, minor, patch = parse_tag(tag)
    names = [f"{major}.{minor}.{patch}"]
    if newest(tags, (major, minor)) == tag:
        names.append(f"{major}.{minor}")
    if newest(tags, (major,)) == tag:
        names.append(f"{major}")
    return names


# --- plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a run does for one tag: build a new image, or finish the release the tag already is."""

    mode: str  # "build" or "finish"
    source: str  # the commit on main that was tagged
    digest: str  # the image digest when mode is "finish", else ""


def file_at(commit: str, path: str) -> str:
    return git("show", f"{commit}:{path}")


def on_main(commit: str, main_ref: str) -> bool:
    return git_ok("merge-base", "--is-ancestor", commit, main_ref)


def make_plan(tag: str, image: str, main_ref: str) -> Plan:
    """Read the tag: a source commit on main to build, or a finished release commit to finish."""
    major, minor, patch = parse_tag(tag)
    if not git_ok("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}"):
        raise ReleaseError(f"tag {tag} is not in this clone: fetch the tags (fetch-depth: 0)")
    commit = git("rev-parse", f"{tag}^{{commit}}")
    released = RELEASE_IMAGE_LINE.search(file_at(commit, "action.yml"))
    if released:
        return finished_release(tag, commit, image, released, main_ref)
    if SOURCE_IMAGE_LINE not in file_at(commit, "action.yml").splitlines():
        raise ReleaseError(
            f"{tag}: action.yml has neither '{SOURCE_IMAGE_LINE.strip()}' nor a digest"
        )
    if not on_main(commit, main_ref):
        raise ReleaseError(
            f"{tag} points at {commit[:12]}, which is not on {main_ref}: "
            "tag a commit of main (delete the tag with `git push --delete origin TAG`)"
        )
    declared = tomllib.loads(file_at(commit, "pyproject.toml"))["project"]["version"]
    if declared != f"{major}.{minor}.{patch}":
        raise ReleaseError(f"tag {tag} but pyproject.toml says version {declared}: bump it first")
    return Plan(mode="build", source=commit, digest="")


def finished_release(
    tag: str, commit: str, image: str, released: re.Match[str], main_ref: str
) -> Plan:
    """Check that a tag at a release commit is one this workflow made, and plan to finish it."""
    if released.group(1) != image:
        raise ReleaseError(f"{tag}: action.yml uses {released.group(1)}, not {image}")
    parents = git("rev-list", "--parents", "-n", "1", commit).split()[1:]
    if len(parents) != 1 or not on_main(parents[0], main_ref):
        raise ReleaseError(f"{tag}: the release commit's parent is not a commit of {main_ref}")
    changed = git("diff", "--name-only", parents[0], commit).split()
    if changed != ["action.yml"]:
        raise ReleaseError(f"{tag}: the release commit changes {changed}, not action.yml alone")
    return Plan(mode="finish", source=parents[0], digest=released.group(2))


def cmd_plan(args: argparse.Namespace) -> None:
    token_set = os.environ.get("RELEASE_TOKEN_SET") == "true" or bool(
        os.environ.get("RELEASE_TOKEN")
    )
    if not token_set:
        raise ReleaseError(
            "the secret RELEASE_TOKEN is not set, so the tags could not be pushed: "
            f"create it as {DOCS} says, then re-run; nothing was built or moved"
        )
    image = image_name(args.registry, args.repository)
    plan = make_plan(args.tag, image, args.main_ref)
    log(f"{args.tag}: {plan.mode} (source {plan.source[:12]}, image {image})")
    write_outputs({"mode": plan.mode, "image": image, "source": plan.source, "digest": plan.digest})


# --- registry ----------------------------------------------------------------------------------


def registry_host(image: str) -> str:
    return image.split("/", 1)[0]


def anonymous_env(empty_dir: str) -> dict[str, str]:
    """The environment of a docker client with no credentials at all."""
    return {"DOCKER_CONFIG": empty_dir}


def platform_manifests(
    image: str, digest: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Each platform's manifest digest in the index `image@digest`; every one of PLATFORMS must be.

    Runs and pulls go by these digests: a daemon keeps one local image per reference, so running
    the index's digest for a second platform could start the first platform's image again.
    """
    reference = f"{image}@{digest}"
    insecure = ["--insecure"] if LOOPBACK_REGISTRY.fullmatch(registry_host(image)) else []
    inspected = run(["docker", "manifest", "inspect", *insecure, reference], env=env, check=False)
    if inspected.returncode != 0:
        raise ReleaseError(f"{reference} cannot be read: {inspected.stderr.strip()[-300:]}")
    found = {
        f"{entry['platform']['os']}/{entry['platform']['architecture']}": entry["digest"]
        for entry in json.loads(inspected.stdout).get("manifests", [])
        if "platform" in entry
    }
    missing = [platform for platform in PLATFORMS if platform not in found]
    if missing:
        raise ReleaseError(f"{reference} is not a multi-platform index: {missing} missing")
    return {platform: found[platform] for platform in PLATFORMS}


def check_public(image: str, digest: str) -> None:
    """Read the index and pull every platform with no credentials, as a user's runner does."""
    with tempfile.TemporaryDirectory(prefix="anonymous-docker-") as empty:
        env = anonymous_env(empty)
        try:
            manifests = platform_manifests(image, digest, env)
        except ReleaseError as error:
            raise ReleaseError(
                f"{error}\nthe image cannot be read anonymously: make the package public as "
                f"{DOCS} says, then re-run; no git tag was moved"
            ) from None
        for platform, manifest in manifests.items():
            run(
                ["docker", "pull", "--quiet", "--platform", platform, f"{image}@{manifest}"],
                env=env,
            )
    log(f"{image}@{digest}: public, {', '.join(PLATFORMS)} pulled anonymously")


def pulled_digest(reference: str) -> str:
    """The digest an anonymous `docker pull` of `reference` resolves to."""
    with tempfile.TemporaryDirectory(prefix="anonymous-docker-") as empty:
        pulled = run(
            ["docker", "pull", "--platform", PLATFORMS[0], reference], env=anonymous_env(empty)
        )
    match = re.search(r"Digest: (sha256:[0-9a-f]{64})", pulled.stdout)
    if not match:
        raise ReleaseError(f"docker pull {reference} printed no digest")
    return match.group(1)


def has_buildx() -> bool:
    return run(["docker", "buildx", "version"], check=False).returncode == 0


def tag_image(image: str, digest: str, names: Sequence[str]) -> None:
    """Point each image tag at the index `digest`, then check each tag resolves to it.

    `docker buildx imagetools create` does it on the runner. Where buildx is missing, or when
    RELEASE_IMAGE_TOOL=skopeo (the repository's tests), skopeo copies the index byte for byte.
    """
    source = f"{image}@{digest}"
    tool = os.environ.get("RELEASE_IMAGE_TOOL") or ("buildx" if has_buildx() else "skopeo")
    if tool == "buildx":
        tags = [arg for name in names for arg in ("--tag", f"{image}:{name}")]
        run(["docker", "buildx", "imagetools", "create", *tags, source])
    else:
        tls = "false" if LOOPBACK_REGISTRY.fullmatch(registry_host(image)) else "true"
        for name in names:
            run(
                [
                    "skopeo", "copy", "--all", "--preserve-digests", f"--src-tls-verify={tls}",
                    f"--dest-tls-verify={tls}", f"docker://{source}", f"docker://{image}:{name}",
                ]
            )  # fmt: skip
    for name in names:
        resolved = pulled_digest(f"{image}:{name}")
        if resolved != digest:
            raise ReleaseError(f"{image}:{name} resolves to {resolved}, not {digest}")
    log(f"{image}: tagged {', '.join(names)} -> {digest}")


# --- self-test ---------------------------------------------------------------------------------


def self_test(image: str, manifest: str, platform: str) -> None:
    """Run the image on `platform` with no network, as the runner would, twice: every module a
    run may load imports (native libraries for that platform included), and the entrypoint
    refuses an invalid input with its own ::error and exit status 2, sending nothing."""
    base = ["docker", "run", "--rm", "--network", "none", "--platform", platform]
    runs = [
        (
            [*base, "--entrypoint", PYTHON, f"{image}@{manifest}", "-c", SELF_TEST_IMPORTS],
            0,
            SELF_TEST_IMPORTED,
        ),
        (
            [*base, *SELF_TEST_INPUTS, "--entrypoint", PYTHON, f"{image}@{manifest}", ENTRYPOINT],
            2,
            SELF_TEST_REFUSED,
        ),
    ]
    for command, expected, shows in runs:
        result = run(command, check=False)
        if result.returncode != expected or not shows.search(result.stdout):
            tail = (result.stdout + result.stderr).strip()[-1500:]
            raise ReleaseError(
                f"self-test failed on {platform} (exit {result.returncode}):\n{tail}"
            )
    log(f"{image}@{manifest}: self-test passed on {platform}")


def cmd_self_test(args: argparse.Namespace) -> None:
    for platform, manifest in platform_manifests(args.image, args.digest).items():
        self_test(args.image, manifest, platform)


# --- publish -----------------------------------------------------------------------------------


def run_input(args: Sequence[str], stdin: str, env: Mapping[str, str] | None = None) -> str:
    """Run a command with `stdin` as its input; return its stdout."""
    result = subprocess.run(
        list(args),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    if result.returncode != 0:
        raise ReleaseError(f"`{' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout.strip()


BOT = {
    "GIT_AUTHOR_NAME": BOT_NAME,
    "GIT_AUTHOR_EMAIL": BOT_EMAIL,
    "GIT_COMMITTER_NAME": BOT_NAME,
    "GIT_COMMITTER_EMAIL": BOT_EMAIL,
}


def release_commit(tag: str, source: str, image: str, digest: str) -> str:
    """A child of `source` whose action.yml runs the image by digest; returns its SHA.

    Made with git's plumbing, so the checkout's working tree and index are left alone.
    """
    lines = file_at(source, "action.yml").split("\n")
    lines[lines.index(SOURCE_IMAGE_LINE)] = f"  image: docker://{image}@{digest}"
    blob = run_input(["git", "hash-object", "-w", "--stdin"], "\n".join(lines) + "\n")
    tree_lines = [
        re.sub(r" [0-9a-f]{40}\t", f" {blob}\t", entry) if entry.endswith("\taction.yml") else entry
        for entry in git("ls-tree", source).split("\n")
    ]
    tree = run_input(["git", "mktree"], "\n".join(tree_lines) + "\n")
    message = f"Release {tag}: run the prebuilt image {image}@{digest}"
    return git("commit-tree", tree, "-p", source, "-m", message, env=BOT)


def tag_message(tag: str, source: str) -> str:
    """The release tag's message: what it points at, and the maintainer's tag it replaces."""
    fields = git(
        "for-each-ref", f"refs/tags/{tag}", "--format=%(objecttype)%09%(objectname)%09%(taggername)"
    ).split("\t")
    replaced = (
        f"It replaces the annotated tag {fields[1]} by {fields[2]} on that commit; the tagger's"
        f" clone keeps that tag object and its signature, if any (git verify-tag {fields[1]})."
        if fields[0] == "tag"
        else "It replaces a lightweight tag on that commit."
    )
    return (
        f"Release {tag}\n\n"
        f"Source: {source}, a commit of main; this tag points at its release commit, which"
        f" changes action.yml alone.\n{replaced}\n"
    )


@dataclass(frozen=True)
class Moves:
    """The git refs one atomic push sets, each with the value it must still have (the lease)."""

    refs: dict[str, str]  # ref -> new object
    leases: dict[str, str]  # ref -> expected current object ("" when it must not exist)


def ref_object(ref: str) -> str:
    result = run(["git", "rev-parse", "--verify", "--quiet", ref], check=False)
    return result.stdout.strip()


def plan_moves(tag: str, source: str, image: str, digest: str) -> Moves:
    """Make the release commit and tag when needed; decide whether vX moves with it."""
    refs: dict[str, str] = {}
    leases: dict[str, str] = {}
    tag_ref = f"refs/tags/{tag}"
    if git("rev-parse", f"{tag}^{{commit}}") == source:
        leases[tag_ref] = ref_object(tag_ref)
        message = tag_message(tag, source)
        commit = release_commit(tag, source, image, digest)
        tagger = git("var", "GIT_COMMITTER_IDENT", env=BOT)
        refs[tag_ref] = run_input(
            ["git", "mktag"],
            f"object {commit}\ntype commit\ntag {tag}\ntagger {tagger}\n\n{message}",
        )
    release = git("rev-parse", f"{refs.get(tag_ref, tag)}^{{commit}}")
    major = f"v{parse_tag(tag)[0]}"
    major_ref = f"refs/tags/{major}"
    if newest(version_tags(), parse_tag(tag)[:1]) != tag:
        log(f"{tag} is not the newest release of {major}: {major} stays where it is")
    elif ref_object(f"{major_ref}^{{commit}}") != release:
        leases[major_ref] = ref_object(major_ref)
        refs[major_ref] = release
    return Moves(refs=refs, leases=leases)


def push_moves(moves: Moves, remote: str, token: str) -> None:
    """Push every move in one atomic push, each leased on the value this clone saw."""
    if not moves.refs:
        log("every git tag is already in place")
        return
    header = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::add-mask::{header}", flush=True)
    # The header goes through the environment, not the command line, so no process list shows it.
    auth = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {header}",
    }
    leases = [f"--force-with-lease={ref}:{old}" for ref, old in moves.leases.items()]
    specs = [f"{new}:{ref}" for ref, new in moves.refs.items()]
    result = run(["git", "push", "--atomic", *leases, remote, *specs], env=auth, check=False)
    if result.returncode != 0:
        message = result.stderr.replace(token, "***").replace(header, "***").strip()[-1500:]
        raise ReleaseError(
            f"the atomic push was refused, so no tag moved:\n{message}\n"
            "a newer run may have moved a tag since this clone was made: re-run the release"
        )
    log("pushed " + ", ".join(f"{ref} -> {new[:12]}" for ref, new in moves.refs.items()))


def cmd_publish(args: argparse.Namespace) -> None:
    token = os.environ.get("RELEASE_TOKEN", "")
    if not token:
        raise ReleaseError(
            f"RELEASE_TOKEN is empty: create the secret as {DOCS} says; nothing was moved"
        )
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", args.digest):
        raise ReleaseError(
            f"--digest {args.digest!r} is not sha256:<64 hex>: pass the pushed index"
        )
    check_public(args.image, args.digest)
    tag_image(args.image, args.digest, image_tags(args.tag, version_tags()))
    push_moves(plan_moves(args.tag, args.source, args.image, args.digest), args.remote, token)


# --- GitHub release ----------------------------------------------------------------------------


def cmd_github_release(args: argparse.Namespace) -> None:
    if run(["gh", "release", "view", args.tag], check=False).returncode == 0:
        log(f"the GitHub release {args.tag} exists already")
        return
    run(
        [
            "gh",
            "release",
            "create",
            args.tag,
            "--verify-tag",
            "--generate-notes",
            "--title",
            args.tag,
        ]
    )
    log(f"created the GitHub release {args.tag}")


# --- command line ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="release.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="decide build or finish for a version tag")
    plan.add_argument("--tag", required=True)
    plan.add_argument("--registry", default="ghcr.io")
    plan.add_argument("--repository", default=os.environ.get("GITHUB_REPOSITORY", ""))
    plan.add_argument("--main-ref", default="refs/remotes/origin/main")
    test = commands.add_parser("self-test", help="run the image offline on each platform")
    test.add_argument("--image", required=True)
    test.add_argument("--digest", required=True)
    publish = commands.add_parser("publish", help="check, tag the image, push the git tags")
    publish.add_argument("--tag", required=True)
    publish.add_argument("--image", required=True)
    publish.add_argument("--digest", required=True)
    publish.add_argument("--source", required=True)
    publish.add_argument("--remote", default="origin")
    release = commands.add_parser("github-release", help="create the GitHub release if missing")
    release.add_argument("--tag", required=True)
    return parser


COMMANDS = {
    "plan": cmd_plan,
    "self-test": cmd_self_test,
    "publish": cmd_publish,
    "github-release": cmd_github_release,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if shutil.which("git") is None:
        log("release.py needs git on PATH")
        return 1
    try:
        COMMANDS[args.command](args)
    except ReleaseError as error:
        prefix = "::error::" if os.environ.get("GITHUB_ACTIONS") == "true" else "release: "
        print(
            prefix + str(error).replace("\n", "%0A" if prefix == "::error::" else "\n"),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
