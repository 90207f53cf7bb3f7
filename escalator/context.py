"""Where a run happens: the GitHub workflow run around it (empty outside GitHub).

A type shared by the faces, the use case and the GitHub client, so none of them imports another
for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GitHubContext:
    """What the action knows of the workflow run it is in (empty outside GitHub)."""

    server_url: str = ""
    api_url: str = ""
    repository: str = ""
    run_id: str = ""
    run_attempt: str = ""
    job: str = ""
    runner_name: str = ""

    @property
    def run_url(self) -> str:
        """The workflow run's page (with its attempt), or '' outside GitHub."""
        if not (self.server_url and self.repository and self.run_id):
            return ""
        url = f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"
        if self.run_attempt and self.run_attempt != "1":
            url += f"/attempts/{self.run_attempt}"
        return url
