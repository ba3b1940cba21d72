"""Agent definitions: markdown files with YAML frontmatter, validated into `Agent` models."""

from plangate.agents.definition import Agent, AgentFormat, AgentSource, Origin
from plangate.agents.discovery import discover, find_agent
from plangate.agents.parse import load_agent

__all__ = ["Agent", "AgentFormat", "AgentSource", "Origin", "discover", "find_agent", "load_agent"]
