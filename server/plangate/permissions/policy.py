"""The policy: an agent's rules plus built-in defaults, answering allow / ask / deny.

Precedence (docs/permissions.md has examples): among the agent's rules that match, a rule whose
pattern is narrower than another's wins over it (`git status` over `git *`); among rules that
are not comparable the stricter action wins (`config/**: allow` vs `**/*.env*: deny` on
`config/.env`: deny); on a further tie the later rule. Built-in defaults apply only when no
rule of the agent matches. Deny is final: no wrapper, default or later rule turns a matched
deny into less. A compound command is as strict as its strictest part.

Over 350 lines, on purpose: the decision for a command is one chain (rule match, read-only
set, run-time words, problems, escalation, writes, reads) whose order is the precedence above;
kept in one class so that order reads top to bottom.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from plangate.layout import STATE_DIR
from plangate.permissions.commands import printed, unwrap
from plangate.permissions.effects import effects
from plangate.permissions.gitindex import tracked_paths
from plangate.permissions.invocation import Effects, Invocation, Tree, Write, is_special_file
from plangate.permissions.paths import Location, Workspace
from plangate.permissions.patterns import (
    BashPattern,
    Match,
    PathPattern,
    canonicalize,
    compile_bash,
    compile_path,
    narrower,
)
from plangate.permissions.programs import lookup
from plangate.permissions.rules import Action, Decision, Rule, strictest
from plangate.permissions.shell import analyse
from plangate.permissions.words import DYNAMIC, Word

MAX_NESTING = 5
PATH_KINDS = ("edit", "read", "external_directory")


def _builtin(permission: str, pattern: str, action: Action, name: str) -> Rule:
    return Rule(permission=permission, pattern=pattern, action=action, builtin=name)


_READ_ONLY_COMMAND = _builtin("bash", "<read-only command>", Action.ALLOW, "read-only command")
_UNLISTED_COMMAND = _builtin("bash", "*", Action.ASK, "unlisted command")
_UNANALYSABLE = _builtin("bash", "*", Action.ASK, "unanalysable")
_ESCALATION = _builtin("bash", "*", Action.ASK, "privileged")
_EMPTY = _builtin("bash", "", Action.ALLOW, "empty command")
_OWN_STATE = _builtin("edit", f"{STATE_DIR}/**", Action.DENY, "PlanGate's state")
_PATH_DEFAULTS = {
    "edit": _builtin("edit", "**", Action.ALLOW, "workspace files"),
    "read": _builtin("read", "**", Action.ALLOW, "workspace files"),
    "external_directory": _builtin("external_directory", "*", Action.ASK, "outside the workspace"),
}
# A folder read whole (`grep -r`) with more files than this is a question: each would be checked.
TREE_LIMIT = 20_000
# Secrets are not sent to the model unless the user says so; examples are fine.
_BUILTIN_READ_RULES = [
    (_builtin("read", pattern, action, "secrets"), compile_path(pattern))
    for pattern, action in (
        ("**/.env", Action.ASK),
        ("**/.env.*", Action.ASK),
        ("**/.env.example", Action.ALLOW),
        ("**/.env.sample", Action.ALLOW),
        ("**/.env.template", Action.ALLOW),
    )
]


class Policy:
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
            _sample(rule.pattern)
            for rule, _ in (*self._paths["read"], *_BUILTIN_READ_RULES)
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

    def read_may_be_restricted(self, relative: str) -> bool:
        """Cheap pre-check for listings: could any read rule other than allow (the agent's or a
        built-in one) apply to this workspace-relative path? False means the read is allowed,
        unless a symlink leads elsewhere (search tools do not follow symlinks)."""
        return any(
            rule.action is not Action.ALLOW and pattern.match(relative)
            for rule, pattern in (*self._paths["read"], *_BUILTIN_READ_RULES)
        )

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
        rule = _pick(r for r, p in self._paths[kind] if p.match(location.key))
        if location.inside:
            if rule is None and kind == "read":
                rule = _pick(r for r, p in _BUILTIN_READ_RULES if p.match(location.key))
            rule = rule or _PATH_DEFAULTS[kind]
            return Decision(
                action=rule.action,
                rule=rule,
                reason=f"{verb} {where} {_verdict(rule.action)} by {rule.describe()}",
                read_only=kind == "read",
            )
        external = (
            _pick(r for r, p in self._paths["external_directory"] if p.match(location.key))
            or _PATH_DEFAULTS["external_directory"]
        )
        decided = external
        if rule is not None and rule.action.strictness > external.action.strictness:
            decided = rule
        return Decision(
            action=decided.action,
            rule=decided,
            reason=f"{verb} {where}, outside the workspace, {_verdict(decided.action)} by "
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
            return _with(final, reason="; ".join(reasons), read_only=read_only)
        return _with(final, read_only=read_only)

    def _script(self, source: str, cwd: str | None, depth: int, out: list[Decision]) -> None:
        analysis = analyse(source, cwd)
        snippet = _short(source)
        for problem in analysis.problems:
            out.append(_unanalysable(f"`{snippet}` {problem}"))
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
                out.append(_unanalysable(f"`{_short(script)}` is nested too deeply"))
            else:
                self._script(script, script_cwd, depth + 1, out)
        for redirect in analysis.redirects:
            if redirect.write:
                out.append(self._write(Write(redirect.target), redirect.cwd, redirect=True))
            else:
                out.append(self._read(redirect.target, redirect.cwd))

    def _invocation(self, inv: Invocation, source: str) -> Decision:
        canonical = canonicalize([w.text for w in inv.argv], inv.argv[0].dynamic)
        shown = "`" + _short(" ".join(w.text for w in inv.argv).replace(DYNAMIC, "…")) + "`"
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
        matched = _pick(matches)
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
            risky = _pick(r for r in maybes if r.action.strictness > decision.action.strictness)
            if risky is not None:
                decision = Decision(
                    action=Action.ASK,
                    rule=risky,
                    reason=f"{shown} has words computed at run time and could match "
                    f"{risky.describe()} ({risky.action.value}): ask first",
                )
        if inv.problems and (decision.action is Action.ALLOW or decision.rule is _UNLISTED_COMMAND):
            decision = _unanalysable(f"{shown} {inv.problems[0]}")
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
        elif file_effects.read_only and _reads_files(inv.program):
            # `cd && ls`, `cd "$D" && cat x`: a read-only command in a folder known only at
            # run time may be reading the home folder.
            parts.append(_unanalysable(f"{shown} runs in a folder known only at run time"))
        final = strictest(parts)
        assert final is not None
        read_only = all(part.read_only for part in parts)
        return _with(final, read_only=read_only)

    def _shows_guarded_tracked(self, inv: Invocation, shown: str) -> Decision | None:
        """A question when `inv` shows contents of tracked files without naming them and the
        repository tracks a file the read rules guard (`git log -p` with `.env.production`
        committed); None otherwise."""
        program = lookup(inv.program)
        args = inv.argv[1:]
        if program is None or program.shows_tracked is None:
            return None
        if not program.shows_tracked(args, [w.text for w in args]):
            return None
        index = self._index_file()
        if index is None:
            return None
        tracked = tracked_paths(index)
        if tracked is None:
            return _unanalysable(f"{shown} shows tracked files, and the index cannot be read")
        guarded = self._guarded_tracked.get(tracked)
        if guarded is None:
            guarded = tuple(p for p in sorted(tracked) if self.read_may_be_restricted(p))
            self._guarded_tracked = {tracked: guarded}
        for path in guarded:
            decision = self.check_read(path, self.workspace.root)
            if decision.action is not Action.ALLOW:
                return _with(
                    decision,
                    reason=f"{shown} shows the contents of tracked files, `{path}` too: "
                    f"{decision.reason}",
                )
        return None

    def _index_file(self) -> str | None:
        """The workspace repository's index (`.git/index`, or where a `.git` file points)."""
        dot_git = posixpath.join(self.workspace.root, ".git")
        if os.path.isdir(dot_git):
            return posixpath.join(dot_git, "index")
        try:
            with open(dot_git, encoding="utf-8") as handle:
                line = handle.readline()
        except (OSError, UnicodeDecodeError):
            return None
        if not line.startswith("gitdir:"):
            return None
        gitdir = posixpath.join(self.workspace.root, line[len("gitdir:") :].strip())
        return posixpath.join(gitdir, "index")

    def _foreign_repository(self, name: str, relative: str) -> bool:
        """Would `name` find a repository other than the workspace's own from `relative`?
        A `.git` in a subfolder, or a subfolder laid out as a bare repository (`HEAD`,
        `config`, `objects`: git accepts it, with its core.worktree and core.fsmonitor)."""
        program = lookup(name)
        if program is None or not program.finds_repository:
            return False
        folder = relative
        while folder not in (".", ""):
            absolute = posixpath.join(self.workspace.root, folder)
            if os.path.lexists(posixpath.join(absolute, ".git")) or (
                os.path.lexists(posixpath.join(absolute, "HEAD"))
                and os.path.lexists(posixpath.join(absolute, "objects"))
            ):
                return True
            folder = posixpath.dirname(folder)
        return False

    def _expansions(self, inv: Invocation, file_effects: Effects) -> None:
        """Globs and braces in a read-only command's words: what they expand to may be
        options (a file named `--pre=x`) or files the read rules guard (`cat .e*`)."""
        for word in inv.argv[1:]:
            if not word.expands or word.dynamic:
                continue
            if "{" in word.text:
                continue  # spelled out in the brace-expanded text `shell.analyse` checks too
            matches = self.workspace.expand(word.text, inv.cwd)
            if any(m.rsplit("/", 1)[-1].startswith("-") for m in matches):
                file_effects.read_only = False
                return
            file_effects.reads += [Word(m) for m in matches]

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
            return Decision(
                action=Action.ALLOW,
                rule=None,
                reason=f"`{word.text}` is not a file",
                read_only=True,
            )
        path = word.text.replace(DYNAMIC, "_")
        candidates = [path]
        if word.expands and not word.dynamic:
            candidates += self.workspace.expand(path, cwd)  # what bash's glob would hit
        if write.recursive:
            candidates += [f"{c.rstrip('/')}/_" for c in candidates]
        decisions = [self.check_edit(candidate, cwd) for candidate in candidates]
        decision = strictest(decisions)
        assert decision is not None
        decision = _with(decision, read_only=False)
        if decision.action is Action.ALLOW and (not word.literal or cwd is None):
            return _unanalysable(
                f"writes to `{word.text.replace(DYNAMIC, '…')}`, a path computed at run time"
            )
        if decision.rule is _PATH_DEFAULTS["edit"]:
            # No rule of the agent allows this write: a shell write is a significant command.
            return _with(decision, action=Action.ASK, reason=f"writes `{word.text}`: ask first")
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

    def _tree(self, tree: Tree, cwd: str | None, shown: str) -> Decision:
        """A folder read whole: the strictest read of the files in it (the folder's own read
        is checked with the other operands). Too many files to look at is a question."""
        allowed = Decision(action=Action.ALLOW, rule=None, reason="", read_only=True)
        if tree.path.dynamic:
            return _unanalysable(f"{shown} reads every file under a folder named at run time")
        top = self.workspace.locate(tree.path.text, cwd)[0]
        if not top.inside:
            return allowed  # reading outside the workspace is asked about already
        root = posixpath.join(self.workspace.root, top.path)
        seen = 0
        for folder, dirs, names in os.walk(root):
            if not tree.hidden:
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                names = [n for n in names if not n.startswith(".")]
            for name in [*names, *(d for d in dirs if os.path.islink(posixpath.join(folder, d)))]:
                seen += 1
                if seen > TREE_LIMIT:
                    return _unanalysable(
                        f"reads every file under `{tree.path.text}`, more than {TREE_LIMIT}"
                    )
                path = posixpath.join(folder, name)
                relative = posixpath.relpath(path, self.workspace.root)
                if not os.path.islink(path) and not self.read_may_be_restricted(relative):
                    continue
                decision = self.check_read(relative)
                if decision.action is not Action.ALLOW:
                    return _with(
                        decision,
                        reason=f"{shown} reads every file under `{tree.path.text}`, "
                        f"`{relative}` too: {decision.reason}",
                    )
        return allowed

    def _read(self, word: Word, cwd: str | None) -> Decision:
        if is_special_file(word.text):
            return Decision(
                action=Action.ALLOW,
                rule=None,
                reason=f"`{word.text}` is not a file",
                read_only=True,
            )
        path = word.text.replace(DYNAMIC, "_")
        candidates = [path]
        if word.expands and not word.dynamic:
            candidates += self.workspace.expand(path, cwd)  # what the glob would hit
            # A glob also matches what is not on disk now: git matches pathspecs against
            # history (`git log -p -- '.e*'`), and the file may be made before it runs.
            if any(fnmatch.fnmatchcase(sample, path) for sample in self._guarded_samples):
                return _unanalysable(f"reads `{path}`, a glob that can match a guarded file")
        decision = strictest([self.check_read(candidate, cwd) for candidate in candidates])
        assert decision is not None
        if decision.action is not Action.ALLOW:
            return decision
        if word.dynamic:
            # `cat $(echo .env)`, `F=.env; cat "$F"`: a path built at run time could be any
            # file, so it is not known harmless.
            return _unanalysable(
                f"reads `{word.text.replace(DYNAMIC, '…')}`, a path computed at run time"
            )
        if cwd is None and not posixpath.isabs(posixpath.expanduser(word.text)):
            # After `cd` (home), `cd -` or `cd "$D"` a relative path could be `~/.netrc`.
            return _unanalysable(f"reads `{word.text}` in a folder known only at run time")
        return decision


def _sample(pattern: str) -> str:
    """A path a gitignore-style pattern matches: `**/.env.*` -> `.env.x`."""
    sample = pattern.strip("/").replace("**/", "").replace("/**", "/x").replace("**", "x")
    return re.sub(r"\[[^]]*\]|[*?]", "x", sample)


def _reads_files(name: str) -> bool:
    """Does the program read files (`ls`, `cat`), rather than only print (`echo`, `pwd`)?"""
    program = lookup(name)
    return program is not None and (program.reads is not None or program.trees is not None)


def _pick(rules: Iterable[Rule]) -> Rule | None:
    """The deciding rule among matching ones.

    A rule is set aside when another matching rule is narrower (matches a strict subset of
    what it matches: `git status` inside `git *`). Among the rest the stricter action wins,
    and on a further tie the later rule.
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


def _with(
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


def _unanalysable(reason: str) -> Decision:
    return Decision(
        action=Action.ASK,
        rule=_UNANALYSABLE,
        reason=f"{reason}: PlanGate cannot tell statically what it does, so it asks",
    )


def _verdict(action: Action) -> str:
    return {Action.ALLOW: "is allowed", Action.ASK: "needs approval", Action.DENY: "is denied"}[
        action
    ]


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
