# The action's image: the package, its locked dependencies, and the bytecode of what runs import.
#
# Base image: the official python:3.13-slim, pinned by digest so that a build today and a build in a
# year start from the same bytes. The digest was copied from a public Dockerfile whose base image is
# kept current by Dependabot (and matches a public linux/arm64 build log of the same tag); it could
# not be checked against the registry from the machine this file was written on. Dependabot's docker
# ecosystem (.github/dependabot.yml) proposes each new digest. Both stages start from it.
FROM python:3.13-slim@sha256:7c61056e61ac89e852de05f3dc6fa51a6dd2181797bceed46aa725dd7cb2cd3b AS base

# --- build: install, run, compile what the runs imported, and leave the rest behind -------------
FROM base AS build
ENV PYTHONPATH=/action:/action/deps \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first, from the hash-locked file only, so that a code change reuses this layer and a
# tampered or substituted package fails the build. No bytecode yet: only what runs import gets any.
# Left out of the dependencies (docs/image.md): cryptography, which PyGithub pulls in only for
# GitHub App (JWT) authentication that the action never uses, pycparser, which cffi needs only to
# parse C declarations at run time (PyNaCl's bindings are compiled), the console scripts and the
# test suites some packages ship.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --no-compile --root-user-action=ignore --require-hashes \
      --target /action/deps -r /tmp/requirements.txt \
    && rm -rf /tmp/requirements.txt /action/deps/bin \
      /action/deps/cryptography /action/deps/cryptography-*.dist-info \
      /action/deps/pycparser /action/deps/pycparser-*.dist-info /action/deps/*/tests

COPY escalator/ /action/escalator/
COPY entrypoint.py /action/entrypoint.py
# Runs the action against the sandbox in a few cases and compiles exactly the modules they
# imported: those under /action in place, the standard library's (the base ships no bytecode)
# under /stage. Then the sandbox, the demo, port-setup and the CLI leave, and /action joins
# /stage, which the image copies over the base in one layer.
COPY scripts/image_bytecode.py /tmp/image_bytecode.py
RUN python /tmp/image_bytecode.py /action /stage \
    && rm -rf /tmp/image_bytecode.py \
      /action/escalator/sandbox /action/escalator/kit /action/escalator/faces/cli \
      /action/escalator/demo.py /action/escalator/demo_*.py /action/escalator/__main__.py \
    && mv /action /stage/action

# --- the image: the base and one layer ---------------------------------------------------------
FROM base

LABEL org.opencontainers.image.title="escalate-action" \
      org.opencontainers.image.description="Escalate a PagerDuty incident from a Port self-service action" \
      org.opencontainers.image.licenses="MIT"

# No pydantic plugin is installed here: pydantic need not look for one (entrypoint.py says so too).
ENV PYTHONPATH=/action:/action/deps \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYDANTIC_DISABLE_PLUGINS=__all__

COPY --from=build /stage/ /

# The runner runs the container as root with /github/workspace as working directory, whatever the
# image says: hence no USER, no WORKDIR, and an absolute path in exec form.
ENTRYPOINT ["/usr/local/bin/python", "/action/entrypoint.py"]
