"""The image's figures: its size, what sets the size, and what the container adds to a run.

    .venv/bin/python scripts/image_figures.py [--runs 10] [--json] [--image TAG] [--compare TAG]

Needs a Docker engine and a base image as the container tests find them (``tests/engine.py``:
the pinned base, ``ESCALATOR_TEST_BASE_IMAGE``, or the engine tool's stand-in). It builds the
Dockerfile (or takes ``--image``, an image already built, for example from an older commit), and
then reports

1. the project's own layers (those on top of the base): uncompressed, and gzip-compressed at
   level 6 as a registry stores them (each layer of ``docker save``, compressed here);
2. the whole image uncompressed (``docker image inspect``'s ``Size``) and the base alone, and the
   whole image as a pull pays it: every layer, the base's included, gzip -6, for the engine's
   platform;
3. what the layer holds: ``/action`` by top-level package and the standard library's bytecode
   the build added; installed bytes, gzip-compressed bytes (a tar of each part at level 6, so the
   sum is close to the layer's figure), ``.py`` and ``.pyc`` files;
4. the wall time from ``docker run`` to the container's exit for the demo escalation against the
   sandbox, next to the same case run without a container (``python entrypoint.py`` from the
   checkout, as ``tests/e2e.run_action`` runs it): ``--runs`` of each, alternating, the sandbox
   reset before each, median and range. The difference is the container's own start cost.
   ``--compare TAG`` adds another image (one built from an older commit, say): its sizes, and its
   runs in the same alternation;
5. the time to import the action in the container, with the build's bytecode, then with the
   standard library's bytecode deleted (inside that throwaway container), which is how the
   official ``python:3.13-slim`` ships: it deletes every ``.pyc``, and the stand-in base has
   Debian's.

Nothing here is a test: the times are whatever the machine gives.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from escalator.sandbox import Sandbox  # noqa: E402  # after the path is set
from tests import container  # noqa: E402
from tests.e2e import SEED_CASE, run_action  # noqa: E402

TAG = "escalate-action:figures"
NO_CONTAINER = "no container"

PACKAGES_PROBE = r"""
import io, json, os, sys, tarfile, zlib
def gz(*paths):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in paths:
            tar.add(path, arcname=path)
    return len(zlib.compress(buffer.getvalue(), 6)) + 18
rows = []
deps = "/action/deps" if os.path.isdir("/action/deps") else None
for parent in filter(None, ("/action", deps)):
    for name in sorted(os.listdir(parent)):
        path = os.path.join(parent, name)
        if path == "/action/deps" or name.endswith(".dist-info") or name == "__pycache__":
            continue
        files = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs] or [path]
        cache = os.path.join(parent, "__pycache__")
        if os.path.isfile(path) and os.path.isdir(cache):  # a module file: its bytecode
            files += [os.path.join(cache, f) for f in os.listdir(cache)
                      if f.startswith(name.split(".")[0] + ".")]
        rows.append({"name": path.removeprefix("/action/").removeprefix("deps/"),
                     "bytes": sum(os.path.getsize(f) for f in files),
                     "gzip_bytes": gz(*files) if os.path.isfile(path) else gz(path),
                     "pyc": sum(f.endswith(".pyc") for f in files),
                     "py": sum(f.endswith(".py") for f in files)})
meta = [os.path.join(deps, n) for n in os.listdir(deps) if n.endswith(".dist-info")] if deps else []
rows.append({"name": "*.dist-info (metadata, licences)",
             "bytes": sum(os.path.getsize(os.path.join(d, f)) for m in meta
                          for d, _, fs in os.walk(m) for f in fs),
             "gzip_bytes": gz(*meta) if meta else 0, "pyc": 0, "py": 0})
import sysconfig
built = []  # the build's bytecode of the standard library: hash-based, unchecked (flags 1)
for folder, _, names in os.walk(sysconfig.get_paths()["stdlib"]):
    for name in names:
        if name.endswith(".pyc"):
            with open(os.path.join(folder, name), "rb") as file:
                if int.from_bytes(file.read(8)[4:8], "little") == 1:
                    built.append(os.path.join(folder, name))
if built:
    rows.append({"name": "standard library bytecode", "gzip_bytes": gz(*built), "py": 0,
                 "bytes": sum(os.path.getsize(f) for f in built), "pyc": len(built)})
json.dump(sorted(rows, key=lambda row: -row["gzip_bytes"]), sys.stdout)
"""

IMPORT_PROBE = r"""
import json, os, statistics, subprocess, sys, sysconfig, time
def median_import(runs=10):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import escalator.faces.action"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)
with_bytecode = median_import()
for folder, _, names in os.walk(sysconfig.get_paths()["stdlib"]):  # as the official base has it
    for name in names:
        if name.endswith(".pyc"):
            os.remove(os.path.join(folder, name))
json.dump({"with_bytecode": with_bytecode, "stdlib_without": median_import()}, sys.stdout)
"""


def layer_sizes(image: str, base: str) -> tuple[list[dict[str, int]], int]:
    """Each layer of ``image`` that ``base`` does not have (as stored and gzipped), and the gzip
    size of all of its layers, the base's included: what a pull of the image transfers."""
    base_layers = json.loads(
        container.docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", base)
    )
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "image.tar"
        subprocess.run(["docker", "save", "-o", str(archive), image], check=True, timeout=300)
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
            sizes = []
            for name in manifest[0]["Layers"]:
                data = tar.extractfile(name).read()  # type: ignore[union-attr]
                sizes.append({"bytes": len(data), "gzip_bytes": len(gzip.compress(data, 6))})
    return sizes[len(base_layers) :], sum(layer["gzip_bytes"] for layer in sizes)


def image_bytes(image: str) -> int:
    return int(container.docker("image", "inspect", "--format", "{{.Size}}", image).strip())


def run_times(images: list[str], runs: int) -> dict[str, list[float]]:
    """Wall seconds of the demo case in a container of each image and without one, alternating
    run by run so that every side sees the same machine."""
    times: dict[str, list[float]] = {image: [] for image in images} | {NO_CONTAINER: []}
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as scratch:
        for index in range(runs):
            for number, side in enumerate(times):
                sandbox.reset()
                folder = Path(scratch) / f"{number}-{index}"
                if side == NO_CONTAINER:
                    result = run_action(sandbox, folder, **SEED_CASE)
                else:
                    result = container.run_container(side, sandbox, folder, **SEED_CASE).result
                if result.returncode != 0:
                    raise SystemExit(f"{side} run failed:\n{result.stdout}\n{result.stderr}")
                times[side].append(result.elapsed)
    return times


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def sizes(image: str, base: str) -> dict[str, Any]:
    layers, whole_gzip = layer_sizes(image, base)
    return {
        "whole_image_gzip_bytes": whole_gzip,
        "own_layers": layers,
        "own_layers_bytes": sum(layer["bytes"] for layer in layers),
        "own_layers_gzip_bytes": sum(layer["gzip_bytes"] for layer in layers),
        "image_bytes": image_bytes(image),
    }


def measure(runs: int, image: str | None, compare: list[str]) -> dict[str, Any]:
    reason = container.engine_unavailable()
    if reason:
        raise SystemExit(f"no Docker engine: {reason}")
    container.start_engine()
    base = container.base_image()
    image = image or container.build_image(TAG)
    packages = json.loads(
        container.docker(
            "run", "--rm", "--entrypoint", "/usr/local/bin/python", image, "-c", PACKAGES_PROBE
        )
    )
    imports = json.loads(
        container.docker(
            "run", "--rm", "--entrypoint", "/usr/local/bin/python", image, "-c", IMPORT_PROBE
        )
    )
    times = run_times([image, *compare], runs)
    return {
        "image": image,
        "base": base,
        "base_bytes": image_bytes(base),
        "sizes": {tag: sizes(tag, base) for tag in [image, *compare]},
        "packages": packages,
        "import_seconds": imports,
        "runs": runs,
        "seconds": {side: spread(values) for side, values in times.items()},
    }


def mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def render(report: dict[str, Any]) -> str:
    lines = [f"base {report['base']}: {mb(report['base_bytes'])} uncompressed", ""]
    for tag, figures in report["sizes"].items():
        lines += [
            f"== {tag}: the project's own layers (on top of the base)",
            f"layers: {len(figures['own_layers'])}; uncompressed "
            f"{mb(figures['own_layers_bytes'])}; gzip -6 {mb(figures['own_layers_gzip_bytes'])}"
            " (target <= 10 MB)",
            f"whole image, uncompressed: {mb(figures['image_bytes'])}; gzip -6, base included "
            f"(a pull): {mb(figures['whole_image_gzip_bytes'])}",
            "",
        ]
    lines += [
        f"== {report['image']}: what the layer holds (largest compressed first)",
        f"{'part':34} {'installed':>11} {'gzip -6':>11} {'.py':>5} {'.pyc':>5}",
    ]
    for row in report["packages"]:
        lines.append(
            f"{row['name'][:34]:34} {mb(row['bytes']):>11} {mb(row['gzip_bytes']):>11} "
            f"{row['py']:>5} {row['pyc']:>5}"
        )
    imports = report["import_seconds"]
    lines += [
        "",
        f"== {report['image']}: python -c 'import escalator.faces.action' in the container, "
        "median of 10",
        f"{'with the bytecode the build compiled':49} {imports['with_bytecode']:.3f} s",
        f"{'standard library bytecode removed (as official)':49} {imports['stdlib_without']:.3f} s",
    ]
    lines += [
        "",
        f"== demo escalation against the sandbox, {report['runs']} runs each, alternating,"
        " wall seconds, median [min-max]",
    ]
    seconds = report["seconds"]
    without = seconds[NO_CONTAINER]["median"]
    for side, figures in seconds.items():
        label = "no container (python entrypoint.py)" if side == NO_CONTAINER else side
        cost = (
            ""
            if side == NO_CONTAINER
            else f"  container's own cost {figures['median'] - without:.3f} s"
        )
        lines.append(
            f"{label:36} {figures['median']:.3f} s [{figures['min']:.3f}-{figures['max']:.3f}]"
            + cost
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per side (10)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--image", help="measure this image instead of building the Dockerfile")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="TAG",
        help="another image built with the tool (an older commit's): its size, and its runs "
        "alternating with the others",
    )
    args = parser.parse_args(argv)
    report = measure(args.runs, args.image, args.compare)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
