"""Building blocks of the policy's decisions: built-in rules, picking the deciding rule among
matching ones, and the wording of decisions."""

from __future__ import annotations

from collections.abc import Iterable

from plangate.permissions.patterns import narrower
from plangate.permissions.rules import Action, Decision, Rule


def builtin(permission: str, pattern: str, action: Action, name: str) -> Rule:
    return Rule(permission=permission, pattern=pattern, action=action, builtin=name)


_UNANALYSABLE = builtin("bash", "*", Action.ASK, "unanalysable")


def pick(rules: Iterable[Rule]) -> Rule | None:
    """The deciding rule among matching ones (in file order).

    A rule is set aside when another matching rule is narrower (matches a strict subset of
    what it matches: `git status` inside `git *`). Among the rest the stricter action wins,
    and on a further tie the later rule. (`as_strict_as_opencode` then weighs the rule
    opencode would apply.)
    """
    candidates = list(rules)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    best: Rule | None = None
    for rule in candidates:
        if any(
            other is not rule and narrower(rule.permission, other.pattern, rule.pattern)
            for other in candidates
        ):
            continue
        if best is None or rule.action.strictness >= best.action.strictness:
            best = rule
    return best or candidates[-1]


def as_strict_as_opencode(ours: Rule | None, theirs: Rule | None) -> Rule | None:
    """The deciding rule: ours (`pick`), unless the rule opencode would apply (the last one
    matching the way it matches) is stricter: a file never means less here than there."""
    if theirs is not None and (ours is None or theirs.action.strictness > ours.action.strictness):
        return theirs
    return ours


def amended(
    decision: Decision,
    *,
    action: Action | None = None,
    reason: str | None = None,
    read_only: bool | None = None,
) -> Decision:
    """A changed copy (cheaper than pydantic's model_copy on the hot path)."""
    return Decision(
        action=action or decision.action,
        rule=decision.rule,
        reason=reason if reason is not None else decision.reason,
        read_only=decision.read_only if read_only is None else read_only,
    )


def unanalysable(reason: str) -> Decision:
    return Decision(
        action=Action.ASK,
        rule=_UNANALYSABLE,
        reason=f"{reason}: PlanGate cannot tell statically what it does, so it asks",
    )


def verdict(action: Action) -> str:
    return {Action.ALLOW: "is allowed", Action.ASK: "needs approval", Action.DENY: "is denied"}[
        action
    ]


def short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
