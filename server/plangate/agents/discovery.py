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
from plangate.agents.builder import Builder
from plangate.agents.definition import Agent, AgentFormat, AgentSource, Origin
from plangate.agents.opencode_config import ConfigFile, ProjectConfig, load_config
from plangate.agents.parse import load_agent, opencode_agent
from plangate.diagnostics import Diagnostic, Severity
from plangate.permissions.rules import Rule


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
    # Problems in the workspace's opencode.json files (shown by `plangate check`).
    config_diagnostics: list[Diagnostic] = field(default_factory=list)

    def get(self, name: str) -> Agent | None:
        """The agent named `name`, if any."""
        return self.agents.get(name)


def discover(workspace: Path | None, today: date | None = None) -> AgentListing:
    """Load every agent along the search path (agent files, and the `agent` blocks of
    opencode.json); later sources win by name. The project's opencode.json rules, default
    model and instructions then apply to every agent, as they do in opencode."""
    listing = AgentListing()
    config = load_config(workspace) if workspace is not None else ProjectConfig()
    listing.config_diagnostics = [d for f in config.files for d in config_problems(f, today)]
    for i, directory in enumerate(search_dirs(workspace)):
        if i == 1:  # after the bundled agents, before the workspace's agent files
            for name, defined_in in config.agents().items():
                _add(listing, config_agent(defined_in, name, today))
        if not directory.path.is_dir():
            continue
        for file in sorted(directory.path.rglob("*.md")):
            # opencode names nested agents by their relative path: review/security.md.
            name = file.relative_to(directory.path).with_suffix("").as_posix()
            _add(
                listing,
                load_agent(
                    file,
                    directory.origin,
                    fmt=directory.format,
                    name=name if directory.format is AgentFormat.OPENCODE else None,
                    today=today,
                ),
            )
    listing.agents = {name: with_project(a, config, today) for name, a in listing.agents.items()}
    return listing


def _add(listing: AgentListing, agent: Agent) -> None:
    previous = listing.agents.get(agent.name)
    if previous is not None:
        listing.overridden.append(previous)
    listing.agents[agent.name] = agent


def config_agent(file: ConfigFile, name: str, today: date | None = None) -> Agent:
    """An agent defined in opencode.json's `agent` block."""
    builder = Builder(file.section("agent", name))
    source = AgentSource(path=file.path, origin=Origin.OPENCODE_CONFIG, format=AgentFormat.OPENCODE)
    return opencode_agent(builder, source, name, today, base=file.path.parent)


def config_problems(file: ConfigFile, today: date | None = None) -> list[Diagnostic]:
    """Everything to say about one opencode.json: JSON errors, its agents' problems, its
    permission block's and its model's notes; the same list in `plangate check` and on the
    file in the editor."""
    found = list(file.parsed.diagnostics)
    block = file.parsed.data.get("agent")
    for name, spec in block.items() if isinstance(block, dict) else []:
        if isinstance(spec, dict):
            found += config_agent(file, name, today).diagnostics
    builder = Builder(file.section())
    if "permission" in file.parsed.data:
        builder.permissions("permission", file.parsed.data["permission"])
    model = file.parsed.data.get("model")
    if isinstance(model, str) and model.strip():
        builder.model(model.strip(), today)
    return found + builder.in_order()


def with_project(agent: Agent, config: ProjectConfig, today: date | None = None) -> Agent:
    """`agent` under the project's opencode.json: its `permission` rules come first (the
    agent's own, later, win where opencode's would), its `model` when the agent names none,
    its `instructions` entries. (Warnings on those files are said once, on the files:
    `config_problems`; their errors stop every agent, as they stop opencode: rules must not
    just go missing.)"""
    rules: dict[str, list[Rule]] = {}
    off: dict[str, bool] = {}
    errors = [d for d in config.diagnostics if d.severity is Severity.ERROR]
    for file in config.with_key("permission"):
        builder = Builder(file.section())
        for kind, found in builder.permissions(
            "permission", file.parsed.data["permission"]
        ).items():
            rules.setdefault(kind, []).extend(found)
        off |= builder.disabled_tools()
        errors += [d for d in builder.diagnostics if d.severity is Severity.ERROR]
    update: dict[str, object] = {}
    if errors:
        update["diagnostics"] = [*agent.diagnostics, *errors]
    if rules:
        merged = {kind: [*found, *agent.permission.get(kind, [])] for kind, found in rules.items()}
        update["permission"] = {**agent.permission, **merged}
    if off:
        update["tools"] = {**agent.tools, **off}
    default = config.model()
    if default is not None and agent.model is None and agent.source.origin is not Origin.BUNDLED:
        update["model"] = default[0]
        update["model_id"] = Builder(default[1].section()).model(default[0], today)
    entries = config.instructions()
    if entries:
        update["instructions"] = entries
    return agent.model_copy(update=update) if update else agent


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
