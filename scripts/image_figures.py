"""The image's figures: its size, what sets the size, and what the container adds to a run.

    .venv/bin/python scripts/image_figures.py [--runs 10] [--json] [--image TAG]

Needs root and ``../shared/tools/docker-engine`` (see ``tests/container.py``): it starts the engine
if none runs, builds the Dockerfile on the stand-in base (or takes ``--image``, an image already
built with that tool, for example from an older commit) and then reports

1. the project's own layers (those on top of the base): uncompressed, and gzip-compressed at
   level 6 as a registry stores them (each layer of ``docker save``, compressed here);
2. the whole image uncompressed (``docker image inspect``'s ``Size``) and the base alone;
3. ``/action`` inside the image by top-level package: installed bytes, gzip-compressed bytes
   (a tar of the folder at level 6, so the sum is close to the layer's figure), bytecode files;
4. the wall time from ``docker run`` to the container's exit for the demo escalation against the
   sandbox, next to the same case run without a container (``python entrypoint.py`` from the
   checkout, as ``tests/e2e.run_action`` runs it): ``--runs`` of each, alternating, the sandbox
   reset before each, median and range. The difference is the container's own start cost.

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
json.dump(sorted(rows, key=lambda row: -row["gzip_bytes"]), sys.stdout)
"""


def layer_sizes(image: str, base: str) -> list[dict[str, int]]:
    """Size of each layer of ``image`` that ``base`` does not have: as stored and gzipped."""
    base_layers = json.loads(
        container.docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", base)
    )
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "image.tar"
        subprocess.run(["docker", "save", "-o", str(archive), image], check=True, timeout=300)
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
            own = manifest[0]["Layers"][len(base_layers) :]
            sizes = []
            for name in own:
                data = tar.extractfile(name).read()  # type: ignore[union-attr]
                sizes.append({"bytes": len(data), "gzip_bytes": len(gzip.compress(data, 6))})
    return sizes


def image_bytes(image: str) -> int:
    return int(container.docker("image", "inspect", "--format", "{{.Size}}", image).strip())


def run_times(image: str, runs: int) -> dict[str, list[float]]:
    """Wall seconds of the demo case, in a container and without one, alternating."""
    times: dict[str, list[float]] = {"container": [], "no_container": []}
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as scratch:
        for index in range(runs):
            for side in times:
                sandbox.reset()
                folder = Path(scratch) / f"{side}-{index}"
                if side == "container":
                    result = container.run_container(image, sandbox, folder, **SEED_CASE).result
                else:
                    result = run_action(sandbox, folder, **SEED_CASE)
                if result.returncode != 0:
                    raise SystemExit(f"{side} run failed:\n{result.stdout}\n{result.stderr}")
                times[side].append(result.elapsed)
    return times


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(runs: int, tag: str | None = None) -> dict[str, Any]:
    reason = container.engine_unavailable()
    if reason:
        raise SystemExit(f"no Docker engine: {reason}")
    container.start_engine()
    base = container.base_image()
    image = tag or container.build_image(TAG)
    layers = layer_sizes(image, base)
    packages = json.loads(
        container.docker(
            "run", "--rm", "--entrypoint", "/usr/local/bin/python", image, "-c", PACKAGES_PROBE
        )
    )
    times = run_times(image, runs)
    return {
        "own_layers": layers,
        "own_layers_bytes": sum(layer["bytes"] for layer in layers),
        "own_layers_gzip_bytes": sum(layer["gzip_bytes"] for layer in layers),
        "image_bytes": image_bytes(image),
        "base_bytes": image_bytes(base),
        "image": image,
        "base": base,
        "packages": packages,
        "runs": runs,
        "seconds": {side: spread(values) for side, values in times.items()},
    }


def mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def render(report: dict[str, Any]) -> str:
    seconds = report["seconds"]
    lines = [
        f"== {report['image']}: the project's own layers (on top of the base)",
        f"layers: {len(report['own_layers'])}; uncompressed {mb(report['own_layers_bytes'])}; "
        f"gzip -6 {mb(report['own_layers_gzip_bytes'])} (target <= 10 MB)",
        f"whole image, uncompressed: {mb(report['image_bytes'])} "
        f"(base {report['base']}: {mb(report['base_bytes'])})",
        "",
        "== /action by package (largest compressed first)",
        f"{'package':34} {'installed':>11} {'gzip -6':>11} {'.py':>5} {'.pyc':>5}",
    ]
    for row in report["packages"]:
        lines.append(
            f"{row['name']:34} {mb(row['bytes']):>11} {mb(row['gzip_bytes']):>11} "
            f"{row['py']:>5} {row['pyc']:>5}"
        )
    lines += [
        "",
        f"== demo escalation against the sandbox, {report['runs']} runs each, wall seconds",
        "(median [min-max])",
    ]
    for side, label in (("container", "docker run to exit"), ("no_container", "no container")):
        figures = seconds[side]
        lines.append(
            f"{label:22} {figures['median']:.3f} s [{figures['min']:.3f}-{figures['max']:.3f}]"
        )
    start = seconds["container"]["median"] - seconds["no_container"]["median"]
    lines.append(f"the container's own cost (difference of the medians): {start:.3f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per side (10)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--image", help="measure this image instead of building the Dockerfile")
    args = parser.parse_args(argv)
    report = measure(args.runs, args.image)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
