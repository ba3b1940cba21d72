"""The project's own git repository, read only: where its HEAD stood when a phase began, so a
rollback can refuse once the branch or HEAD moved."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from plangate.workflow.checkpoints import GIT_TIMEOUT


class ProjectHead(BaseModel):
    """Where the project's own git repository stood: its HEAD commit ('' before the first
    commit) and branch ('' when HEAD is detached)."""

    model_config = ConfigDict(frozen=True)

    commit: str
    branch: str

    def describe(self) -> str:
        """`main at 1a2b3c4d5e`, for messages."""
        where = f"branch {self.branch}" if self.branch else "a detached HEAD"
        return f"{where} at {self.commit[:10] or 'no commit yet'}"


def project_head(workspace: Path) -> ProjectHead | None:
    """The HEAD of the git repository the workspace is in, or None when it is in none (or git
    cannot tell). Read-only: rev-parse and symbolic-ref take no lock and write nothing."""
    # The user's own config stays (safe.directory lives there); a GIT_DIR or GIT_WORK_TREE
    # in the server's environment must not point these at another repository.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")

    def git(*args: str) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(
                ["git", "-c", "core.fsmonitor=false", *args],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None

    inside = git("rev-parse", "--is-inside-work-tree")
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    commit = git("rev-parse", "--verify", "-q", "HEAD")
    branch = git("symbolic-ref", "-q", "HEAD")
    if commit is None or branch is None:
        return None
    return ProjectHead(
        commit=commit.stdout.strip() if commit.returncode == 0 else "",
        branch=branch.stdout.strip().removeprefix("refs/heads/") if branch.returncode == 0 else "",
    )
