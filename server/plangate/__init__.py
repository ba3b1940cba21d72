"""PlanGate: a plan-gated coding agent for VS Code and any LSP editor."""

__version__ = "0.1.0"
