"""Where agents come from, in order: bundled, workspace `.opencode/agent(s)/`, `.claude/agents/`,
then the user's config folder. A later source overrides an earlier one by name, and the listing
says where each agent came from and what it overrode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

import plangate
from plangate.agents.definition import Agent, AgentFormat, Origin
from plangate.agents.parse import load_agent


def bundled_agents_dir() -> Path:
    """The bundled agents: package data in a wheel, the repository's agents/ in a checkout."""
    packaged = Path(str(resources.files("plangate").joinpath("bundled_agents")))
    if packaged.is_dir():
        return packaged
    return Path(plangate.__file__).resolve().parents[2] / "agents"


def user_agents_dir() -> Path:
    """`$XDG_CONFIG_HOME/plangate/agents`, by default `~/.config/plangate/agents`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "plangate" / "agents"


@dataclass(frozen=True)
class SearchDir:
    """One folder searched for agents."""

    path: Path
    origin: Origin
    format: AgentFormat


def search_dirs(workspace: Path | None) -> list[SearchDir]:
    """The folders searched, in order of increasing precedence."""
    dirs = [SearchDir(bundled_agents_dir(), Origin.BUNDLED, AgentFormat.OPENCODE)]
    if workspace is not None:
        dirs += [
            SearchDir(workspace / ".opencode" / "agent", Origin.OPENCODE, AgentFormat.OPENCODE),
            SearchDir(workspace / ".opencode" / "agents", Origin.OPENCODE, AgentFormat.OPENCODE),
            SearchDir(workspace / ".claude" / "agents", Origin.CLAUDE, AgentFormat.CLAUDE),
        ]
    dirs.append(SearchDir(user_agents_dir(), Origin.USER, AgentFormat.OPENCODE))
    return dirs


@dataclass
class AgentListing:
    """Agents by name after overrides, plus the ones that were overridden."""

    agents: dict[str, Agent] = field(default_factory=dict)
    overridden: list[Agent] = field(default_factory=list)

    def get(self, name: str) -> Agent | None:
        """The agent named `name`, if any."""
        return self.agents.get(name)


def discover(workspace: Path | None, today: date | None = None) -> AgentListing:
    """Load every agent file along the search path; later sources win by name."""
    listing = AgentListing()
    for directory in search_dirs(workspace):
        if not directory.path.is_dir():
            continue
        for file in sorted(directory.path.rglob("*.md")):
            # opencode names nested agents by their relative path: review/security.md.
            name = file.relative_to(directory.path).with_suffix("").as_posix()
            agent = load_agent(
                file,
                directory.origin,
                fmt=directory.format,
                name=name if directory.format is AgentFormat.OPENCODE else None,
                today=today,
            )
            previous = listing.agents.get(agent.name)
            if previous is not None:
                listing.overridden.append(previous)
            listing.agents[agent.name] = agent
    return listing


def find_agent(name_or_path: str, workspace: Path | None, today: date | None = None) -> Agent:
    """An agent by name (along the search path) or by the path of its file.

    Raises LookupError naming the known agents when there is no such agent.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".md" or candidate.is_file():
        if not candidate.is_file():
            raise LookupError(f"no agent file at {name_or_path}")
        return load_agent(candidate, Origin.EXPLICIT, today=today)
    listing = discover(workspace, today)
    agent = listing.get(name_or_path)
    if agent is None:
        known = ", ".join(sorted(listing.agents)) or "none"
        raise LookupError(f"no agent named '{name_or_path}'; known agents: {known}")
    return agent
