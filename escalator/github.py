"""The GitHub API, used only to find the URL of this exact job (needs ``github_token``).

PyGithub is imported here and nowhere else, and this module is imported only when a token is
given, so a run without one pays nothing for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from escalator.errors import ServiceUnavailable
from escalator.http import Deadline

if TYPE_CHECKING:
    from escalator.context import GitHubContext


def find_job_url(context: GitHubContext, token: str, deadline: Deadline) -> str:
    """The web URL of the job this step runs in, or the workflow run's URL if it is not found."""
    import github  # imported lazily: a run without github_token never loads PyGithub

    if not (context.repository and context.run_id.isdigit()):
        return context.run_url
    client = github.Github(
        auth=github.Auth.Token(token),
        base_url=context.api_url or "https://api.github.com",
        timeout=max(1, int(min(10.0, deadline.remaining()))),
        retry=None,
        seconds_between_requests=None,
        lazy=True,
    )
    try:
        run = client.get_repo(context.repository).get_workflow_run(int(context.run_id))
        jobs = list(run.jobs())
    except github.GithubException as exc:
        raise ServiceUnavailable(
            "GitHub",
            f"listing this run's jobs answered {exc.status}.",
            hint="Give github_token the actions: read permission (or leave it empty to link "
            "the workflow run).",
        ) from None
    except Exception as exc:  # noqa: BLE001  # PyGithub raises requests' errors as they come
        raise ServiceUnavailable(
            "GitHub", f"listing this run's jobs failed ({type(exc).__name__})."
        ) from None
    finally:
        client.close()
    running = [job for job in jobs if job.status == "in_progress"]
    for job in running:
        if context.runner_name and job.runner_name == context.runner_name:
            return str(job.html_url)
    for job in running:
        if job.name == context.job:
            return str(job.html_url)
    return context.run_url
