"""The GitHub API, used only to find the URL of this exact job (needs ``github_token``).

PyGithub is imported here and nowhere else, and this module is imported only when a token is
given, so a run without one pays nothing for it. The lookup is bounded twice: at most
:data:`MAX_PAGES` pages of jobs are asked for (a page number each, so an API that always names a
next page cannot keep it going), and the caller waits no longer than the run's deadline.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from escalator.errors import EscalatorError, ServiceUnavailable
from escalator.http import Deadline

if TYPE_CHECKING:
    from github.WorkflowJob import WorkflowJob

#: Jobs asked for per page, and the most pages read (a run with more jobs links the run).
PER_PAGE = 100
MAX_PAGES = 5
_PERMISSION_HINT = (
    "Give {github_token} the actions: read permission (or leave it empty to link the workflow run)."
)


class RunContext(Protocol):
    """What the lookup needs to know of the workflow run it is in."""

    @property
    def api_url(self) -> str: ...

    @property
    def repository(self) -> str: ...

    @property
    def run_id(self) -> str: ...

    @property
    def job(self) -> str: ...

    @property
    def runner_name(self) -> str: ...

    @property
    def run_url(self) -> str: ...


def find_job_url(context: RunContext, token: str, deadline: Deadline) -> str:
    """The web URL of the job this step runs in, or the workflow run's URL if it is not found.

    Raises :class:`ServiceUnavailable` when GitHub refuses, fails, or has not answered by the
    run's deadline.
    """
    if not (context.repository and context.run_id.isdigit()):
        return context.run_url
    found: dict[str, Any] = {}

    def look_up() -> None:
        try:
            found["url"] = _look_up(context, token, deadline)
        except EscalatorError as exc:
            found["error"] = exc

    # A daemon thread: a GitHub that hangs is left behind at the deadline, never waited for.
    worker = threading.Thread(target=look_up, name="github-job-link", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if "error" in found:
        raise found["error"]
    if "url" not in found:
        raise ServiceUnavailable(
            "GitHub",
            "listing this run's jobs did not finish before the run's deadline.",
            hint="Raise {timeout_seconds}, or leave {github_token} empty to link the workflow run.",
        )
    return str(found["url"])


def _look_up(context: RunContext, token: str, deadline: Deadline) -> str:
    import github  # imported lazily: a run without github_token never loads PyGithub

    client = github.Github(
        auth=github.Auth.Token(token),
        base_url=context.api_url or "https://api.github.com",
        timeout=max(1, int(min(10.0, deadline.remaining()))),
        retry=None,
        per_page=PER_PAGE,
        seconds_between_requests=None,
        lazy=True,
    )
    try:
        run = client.get_repo(context.repository).get_workflow_run(int(context.run_id))
        return _match(context, run.jobs(), deadline)
    except github.GithubException as exc:
        raise ServiceUnavailable(
            "GitHub", f"listing this run's jobs answered {exc.status}.", hint=_PERMISSION_HINT
        ) from exc
    except Exception as exc:  # PyGithub raises requests' errors as they come
        raise ServiceUnavailable(
            "GitHub", f"listing this run's jobs failed ({type(exc).__name__})."
        ) from exc
    finally:
        client.close()


def _match(context: RunContext, jobs: Any, deadline: Deadline) -> str:
    """Read pages of jobs until this one is found: the running job on this runner, else the
    running job of this name, else the run."""
    by_name = ""
    for page_number in range(MAX_PAGES):
        if deadline.remaining() <= 0:
            break
        page: list[WorkflowJob] = jobs.get_page(page_number)
        for job in page:
            if job.status != "in_progress":
                continue
            if context.runner_name and job.runner_name == context.runner_name:
                return str(job.html_url)
            if not by_name and job.name == context.job:
                by_name = str(job.html_url)
        if len(page) < PER_PAGE:
            break
    return by_name or context.run_url
