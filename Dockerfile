# The action's image: the escalator package and its locked runtime dependencies, nothing else.
#
# Base image: the official python:3.13-slim, pinned by digest so that a build today and a build in a
# year start from the same bytes. The digest was copied from a public Dockerfile whose base image is
# kept current by Dependabot (and matches a public linux/arm64 build log of the same tag); it could
# not be checked against the registry from the machine this file was written on. Dependabot's docker
# ecosystem (.github/dependabot.yml) proposes each new digest.
FROM python:3.13-slim@sha256:7c61056e61ac89e852de05f3dc6fa51a6dd2181797bceed46aa725dd7cb2cd3b

LABEL org.opencontainers.image.title="escalate-action" \
      org.opencontainers.image.description="Escalate a PagerDuty incident from a Port self-service action" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONPATH=/action \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first, from the hash-locked file only, so that a code change reuses this layer and a
# tampered or substituted package fails the build.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

COPY escalator/ /action/escalator/
COPY entrypoint.py /action/entrypoint.py
# Compiled once here, so no run pays for compiling the package (PYTHONDONTWRITEBYTECODE only stops
# the container from writing bytecode at run time).
RUN python -m compileall -q /action/escalator

# The runner runs the container as root with /github/workspace as working directory, whatever the
# image says: hence no USER, no WORKDIR, and an absolute path in exec form.
ENTRYPOINT ["/usr/local/bin/python", "/action/entrypoint.py"]
