"""The permission engine: pure and deterministic; no I/O beyond resolving paths."""

from plangate.permissions.policy import Policy
from plangate.permissions.rules import Action, Decision, Rule

__all__ = ["Action", "Decision", "Policy", "Rule"]
