"""The policy: an agent's rules plus built-in defaults, answering allow / ask / deny.

Precedence (docs/permissions.md has examples): among the agent's rules that match, a rule whose
pattern is narrower than another's wins over it (`git status` over `git *`); among rules that
are not comparable the stricter action wins (`config/**: allow` vs `**/*.env*: deny` on
`config/.env`: deny); on a further tie the later rule. Built-in defaults apply only when no
rule of the agent matches. Deny is final: no wrapper, default or later rule turns a matched
deny into less. A compound command is as strict as its strictest part.

The decision for a command is one chain (rule match, read-only set, run-time words, problems,
escalation, writes, reads) whose order is the precedence above, kept in `Policy` so that order
reads top to bottom; the read checks it ends with are in `reads`, the decisions' building
blocks in `decisions`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from plangate.layout import STATE_DIR
from plangate.permissions.commands import printed, unwrap
from plangate.permissions.decisions import (
    amended,
    as_strict_as_opencode,
    builtin,
    pick,
    short,
    unanalysable,
    verdict,
)
from plangate.permissions.effects import effects
from plangate.permissions.invocation import Invocation, Write, is_special_file
from plangate.permissions.paths import Location, Workspace
from plangate.permissions.patterns import (
    BashPattern,
    Match,
    PathPattern,
    canonicalize,
    compile_bash,
    compile_path,
)
from plangate.permissions.reads import BUILTIN_READ_RULES, ReadChecks, guarded_sample, reads_files
from plangate.permissions.rules import Action, Decision, Rule, strictest
from plangate.permissions.shell import analyse
from plangate.permissions.words import DYNAMIC, Word

MAX_NESTING = 5
PATH_KINDS = ("edit", "read", "external_directory")


_READ_ONLY_COMMAND = builtin("bash", "<read-only command>", Action.ALLOW, "read-only command")
_UNLISTED_COMMAND = builtin("bash", "*", Action.ASK, "unlisted command")
_ESCALATION = builtin("bash", "*", Action.ASK, "privileged")
_EMPTY = builtin("bash", "", Action.ALLOW, "empty command")
_OWN_STATE = builtin("edit", f"{STATE_DIR}/**", Action.DENY, "PlanGate's state")
_PATH_DEFAULTS = {
    "edit": builtin("edit", "**", Action.ALLOW, "workspace files"),
    "read": builtin("read", "**", Action.ALLOW, "workspace files"),
    "external_directory": builtin("external_directory", "*", Action.ASK, "outside the workspace"),
}


class Policy(ReadChecks):
    """Decides bash commands and file paths for one agent in one workspace."""

    def __init__(self, rules: Mapping[str, Sequence[Rule]], workspace: Path) -> None:
        self.workspace = Workspace(workspace)
        self._bash: list[tuple[Rule, BashPattern]] = [
            (rule, compile_bash(rule.pattern)) for rule in rules.get("bash", [])
        ]
        self._paths: dict[str, list[tuple[Rule, PathPattern]]] = {
            kind: [(rule, compile_path(rule.pattern)) for rule in rules.get(kind, [])]
            for kind in PATH_KINDS
        }
        # Per index read: the tracked files a read rule may guard.
        self._guarded_tracked: dict[frozenset[str], tuple[str, ...]] = {}
        # A name each guarded read pattern matches (`**/.env.*` -> `.env.x`): a glob that
        # matches one of them (`'.e*'`, `'*.env'`) may read a guarded file.
        self._guarded_samples = [
            guarded_sample(rule.pattern)
            for rule, _ in (*self._paths["read"], *BUILTIN_READ_RULES)
            if rule.action is not Action.ALLOW
        ]

    @property
    def bash_rules(self) -> list[Rule]:
        """The agent's bash rules, in order (the exec-time guard shadows the programs they
        name)."""
        return [rule for rule, _pattern in self._bash]

    # ---------------------------------------------------------------- paths

    def check_edit(self, path: str, cwd: str | None = None) -> Decision:
        """May the agent change (write, edit, delete) `path`?"""
        return self.check_path("edit", path, cwd)

    def check_read(self, path: str, cwd: str | None = None) -> Decision:
        """May the agent read `path`?"""
        return self.check_path("read", path, cwd)

    def check_path(self, kind: str, path: str, cwd: str | None = None) -> Decision:
        """Decide `kind` (edit or read) for `path`, following symlinks."""
        locations = self.workspace.locate(path, cwd)
        if kind == "edit" and any(loc.path.rsplit("/", 1)[-1] == ".git" for loc in locations):
            # A file named .git redirects git to another repository (`gitdir: ...`): it is as
            # protected as what is inside a .git folder.
            locations += self.workspace.locate(f"{path.rstrip('/')}/_", cwd)
        decision = strictest([self._location(kind, location, path) for location in locations])
        assert decision is not None
        return decision

    def _location(self, kind: str, location: Location, shown: str) -> Decision:
        verb = "edit of" if kind == "edit" else "read of"
        where = f"`{shown}`" if shown == location.path else f"`{shown}` (-> {location.path})"
        if kind == "edit" and location.inside and location.key.split("/", 1)[0] == STATE_DIR:
            # PlanGate's own state (event logs, checkpoints, plans): never the agent's to change.
            return Decision(
                action=Action.DENY,
                rule=_OWN_STATE,
                reason=f"{verb} {where} is denied: {STATE_DIR}/ is PlanGate's own state",
            )
        rule = as_strict_as_opencode(
            pick(r for r, p in self._paths[kind] if p.match(location.key)),
            next(
                (r for r, p in reversed(self._paths[kind]) if p.written.fullmatch(location.key)),
                None,
            ),
        )
        if location.inside:
            if rule is None and kind == "read":
                rule = pick(r for r, p in BUILTIN_READ_RULES if p.match(location.key))
            rule = rule or _PATH_DEFAULTS[kind]
            return Decision(
                action=rule.action,
                rule=rule,
                reason=f"{verb} {where} {verdict(rule.action)} by {rule.describe()}",
                read_only=kind == "read",
            )
        external = (
            pick(r for r, p in self._paths["external_directory"] if p.match(location.key))
            or _PATH_DEFAULTS["external_directory"]
        )
        decided = external
        if rule is not None and rule.action.strictness > external.action.strictness:
            decided = rule
        return Decision(
            action=decided.action,
            rule=decided,
            reason=f"{verb} {where}, outside the workspace, {verdict(decided.action)} by "
            f"{decided.describe()}",
            read_only=kind == "read",
        )

    # ---------------------------------------------------------------- bash

    def check_bash(self, command: str, cwd: str | None = None) -> Decision:
        """Decide a whole command line: every command in it that would execute is checked."""
        parts: list[Decision] = []
        self._script(command, cwd or self.workspace.root, 0, parts)
        if not parts:
            return Decision(
                action=Action.ALLOW, rule=_EMPTY, reason="nothing to run", read_only=True
            )
        final = strictest(parts)
        assert final is not None
        read_only = all(part.read_only for part in parts)
        if final.action is Action.ALLOW and len(parts) > 1:
            reasons = list(dict.fromkeys(part.reason for part in parts))
            return amended(final, reason="; ".join(reasons), read_only=read_only)
        return amended(final, read_only=read_only)

    def _script(self, source: str, cwd: str | None, depth: int, out: list[Decision]) -> None:
        analysis = analyse(source, cwd)
        snippet = short(source)
        for problem in analysis.problems:
            out.append(unanalysable(f"`{snippet}` {problem}"))
        nested: list[tuple[str, str | None]] = [(text, cwd) for text in analysis.scripts]
        stdin_shell = False
        for command in analysis.commands:
            unwrapped = unwrap(command)
            for invocation in unwrapped.invocations:
                out.append(self._invocation(invocation, source))
            nested += [
                (text, unwrapped.script_directories.get(index, command.cwd))
                for index, text in enumerate(unwrapped.scripts)
            ]
            stdin_shell = stdin_shell or unwrapped.reads_stdin_script
        if stdin_shell:
            # A shell reads commands from its input: check what could be fed to it, the
            # heredocs and here-strings and what echo/printf print.
            nested += [(text, cwd) for text in analysis.fed_texts if text is not None]
            nested += [
                (text, command.cwd) for command in analysis.commands for text in printed(command)
            ]
        for script, script_cwd in nested:
            if depth >= MAX_NESTING:
                out.append(unanalysable(f"`{short(script)}` is nested too deeply"))
            else:
                self._script(script, script_cwd, depth + 1, out)
        for redirect in analysis.redirects:
            if redirect.write:
                out.append(self._write(Write(redirect.target), redirect.cwd, redirect=True))
            else:
                out.append(self._read(redirect.target, redirect.cwd))

    def _invocation(self, inv: Invocation, source: str) -> Decision:
        canonical = canonicalize([w.text for w in inv.argv], inv.argv[0].dynamic, inv.text)
        shown = "`" + short(" ".join(w.text for w in inv.argv).replace(DYNAMIC, "…")) + "`"
        matches: list[Rule] = []
        maybes: list[Rule] = []
        for rule, pattern in self._bash:
            result = pattern.match(canonical)
            if result is Match.YES:
                matches.append(rule)
            elif result is Match.MAYBE:
                maybes.append(rule)
        file_effects = effects(inv)
        if file_effects.read_only:
            self._expansions(inv, file_effects)
        matched = as_strict_as_opencode(
            pick(matches),
            # opencode's decision: the last rule whose pattern matches the command as written.
            next(
                (
                    r
                    for r, p in reversed(self._bash)
                    if any(p.written.fullmatch(t) for t in canonical.texts)
                ),
                None,
            ),
        )
        if matched is not None:
            decision = Decision(
                action=matched.action,
                rule=matched,
                reason=f"{shown} matches {matched.describe()}: {matched.action.value}",
            )
        elif file_effects.read_only:
            decision = Decision(
                action=Action.ALLOW,
                rule=_READ_ONLY_COMMAND,
                reason=f"{shown} is a read-only command",
                read_only=True,
            )
        else:
            decision = Decision(
                action=Action.ASK,
                rule=_UNLISTED_COMMAND,
                reason=f"{shown} is not a read-only command and no rule names it: ask first",
            )
        if decision.action is not Action.DENY:
            risky = pick(r for r in maybes if r.action.strictness > decision.action.strictness)
            if risky is not None:
                decision = Decision(
                    action=Action.ASK,
                    rule=risky,
                    reason=f"{shown} has words computed at run time and could match "
                    f"{risky.describe()} ({risky.action.value}): ask first",
                )
        if inv.problems and (decision.action is Action.ALLOW or decision.rule is _UNLISTED_COMMAND):
            decision = unanalysable(f"{shown} {inv.problems[0]}")
        if (inv.escalates and decision.rule is _UNLISTED_COMMAND) or (
            decision.action is Action.ALLOW and inv.escalates
        ):
            decision = Decision(
                action=Action.ASK, rule=_ESCALATION, reason=f"{shown} {inv.escalates}: ask first"
            )
        parts = [decision]
        for write in file_effects.writes:
            parts.append(self._write(write, inv.cwd, source=source))
        if file_effects.writes and decision.rule is _READ_ONLY_COMMAND:
            parts[0] = Decision(
                action=Action.ASK,
                rule=_UNLISTED_COMMAND,
                reason=f"{shown} writes files: ask first",
            )
        parts += [self._read(word, inv.cwd) for word in file_effects.reads]
        # The repository is the workspace's own (another one found on the way is asked).
        parts += [self._read(word, self.workspace.root) for word in file_effects.root_reads]
        parts += [self._tree(tree, inv.cwd, shown) for tree in file_effects.trees]
        if file_effects.read_only and inv.cwd is not None:
            here = self.workspace.locate(inv.cwd)[-1]
            if not here.inside:  # `cd /etc && ls`, `git -C / log`: reading outside
                parts.append(self._read(Word(inv.cwd), None))
            elif (tracked := self._shows_guarded_tracked(inv, shown)) is not None:
                parts.append(tracked)
            elif self._foreign_repository(inv.program, here.path):
                parts.append(
                    Decision(
                        action=Action.ASK,
                        rule=_ESCALATION,
                        reason=f"{shown} runs in `{here.path}`, which holds a repository of its "
                        "own whose configuration can run programs: ask first",
                    )
                )
        elif file_effects.read_only and reads_files(inv.program):
            # `cd && ls`, `cd "$D" && cat x`: a read-only command in a folder known only at
            # run time may be reading the home folder.
            parts.append(unanalysable(f"{shown} runs in a folder known only at run time"))
        final = strictest(parts)
        assert final is not None
        read_only = all(part.read_only for part in parts)
        return amended(final, read_only=read_only)

    def _write(
        self, write: Write, cwd: str | None, *, redirect: bool = False, source: str = ""
    ) -> Decision:
        word = write.path
        if write.into is not None and not self._may_be_folder(write.into, cwd, source):
            return Decision(
                action=Action.ALLOW,
                rule=None,
                reason=f"`{write.into.text}` is not a folder",
                read_only=False,
            )
        if is_special_file(word.text) and not (redirect and word.text == "-"):
            return self._not_a_file(word, read_only=True)
        candidates = self._candidates(word, cwd)
        if write.recursive:
            candidates += [f"{c.rstrip('/')}/_" for c in candidates]
        decisions = [self.check_edit(candidate, cwd) for candidate in candidates]
        decision = strictest(decisions)
        assert decision is not None
        decision = amended(decision, read_only=False)
        if decision.action is Action.ALLOW and (not word.literal or cwd is None):
            return unanalysable(
                f"writes to `{word.text.replace(DYNAMIC, '…')}`, a path computed at run time"
            )
        if decision.rule is _PATH_DEFAULTS["edit"]:
            # No rule of the agent allows this write: a shell write is a significant command.
            return amended(decision, action=Action.ASK, reason=f"writes `{word.text}`: ask first")
        return decision

    def _may_be_folder(self, word: Word, cwd: str | None, source: str) -> bool:
        """Could `word` be a folder when the command runs? Yes when it is one now, when it is
        computed, and when the command line names it elsewhere (`mkdir d && cp x d`)."""
        if not word.literal or cwd is None or word.text.endswith("/"):
            return True
        # Named again (`mkdir d && cp x d`, `mkdir ./d`, `mkdir "$D"`): it may be made first.
        name = posixpath.basename(word.text.rstrip("/"))
        named = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
        if len(named.findall(source)) > 1 or "$" in source or "`" in source:
            return True
        location = self.workspace.locate(word.text, cwd)[0]
        absolute = (
            posixpath.join(self.workspace.root, location.path) if location.inside else location.path
        )
        return os.path.isdir(absolute)
