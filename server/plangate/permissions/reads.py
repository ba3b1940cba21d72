"""The policy's read checks for commands: paths read (computed ones, globs that can match a
guarded name), folders read whole (recursive searches), tracked secrets shown from the git
index, and repositories nested in the workspace."""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from typing import TYPE_CHECKING

from plangate.permissions.decisions import amended, builtin, unanalysable
from plangate.permissions.gitindex import tracked_paths
from plangate.permissions.invocation import Effects, Invocation, Tree, is_special_file
from plangate.permissions.paths import Workspace
from plangate.permissions.patterns import PathPattern, compile_path
from plangate.permissions.programs import lookup
from plangate.permissions.rules import Action, Decision, Rule, strictest
from plangate.permissions.words import DYNAMIC, Word

# A folder read whole (`grep -r`) with more files than this is a question: each would be checked.
TREE_LIMIT = 20_000
# Secrets are not sent to the model unless the user says so; examples are fine.
BUILTIN_READ_RULES = [
    (builtin("read", pattern, action, "secrets"), compile_path(pattern))
    for pattern, action in (
        ("**/.env", Action.ASK),
        ("**/.env.*", Action.ASK),
        ("**/.env.example", Action.ALLOW),
        ("**/.env.sample", Action.ALLOW),
        ("**/.env.template", Action.ALLOW),
    )
]


class ReadChecks:
    """The read checks of `Policy` (which sets these attributes and decides single paths)."""

    workspace: Workspace
    _paths: dict[str, list[tuple[Rule, PathPattern]]]
    # Per index read: the tracked files a read rule may guard.
    _guarded_tracked: dict[frozenset[str], tuple[str, ...]]
    # A name each guarded read pattern matches: a glob that matches one may read a guarded file.
    _guarded_samples: list[str]

    if TYPE_CHECKING:

        def check_read(self, path: str, cwd: str | None = None) -> Decision: ...

    def read_may_be_restricted(self, relative: str) -> bool:
        """Cheap pre-check for listings: could any read rule other than allow (the agent's or a
        built-in one) apply to this workspace-relative path? False means the read is allowed,
        unless a symlink leads elsewhere (search tools do not follow symlinks)."""
        return any(
            rule.action is not Action.ALLOW and pattern.match(relative)
            for rule, pattern in (*self._paths["read"], *BUILTIN_READ_RULES)
        )

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
            return unanalysable(f"{shown} shows tracked files, and the index cannot be read")
        guarded = self._guarded_tracked.get(tracked)
        if guarded is None:
            guarded = tuple(p for p in sorted(tracked) if self.read_may_be_restricted(p))
            self._guarded_tracked = {tracked: guarded}
        for path in guarded:
            refused = self._refused_read(path, f"{shown} shows the contents of tracked files")
            if refused is not None:
                return refused
        return None

    def _refused_read(self, path: str, what: str) -> Decision | None:
        """None when the workspace-relative `path` may be read, else the decision, saying that
        `what` reads it."""
        decision = self.check_read(path, self.workspace.root)
        if decision.action is Action.ALLOW:
            return None
        return amended(decision, reason=f"{what}, `{path}` too: {decision.reason}")

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

    def _tree(self, tree: Tree, cwd: str | None, shown: str) -> Decision:
        """A folder read whole: the strictest read of the files in it (the folder's own read
        is checked with the other operands). Too many files to look at is a question."""
        allowed = Decision(action=Action.ALLOW, rule=None, reason="", read_only=True)
        if tree.path.dynamic:
            return unanalysable(f"{shown} reads every file under a folder named at run time")
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
                    return unanalysable(
                        f"reads every file under `{tree.path.text}`, more than {TREE_LIMIT}"
                    )
                path = posixpath.join(folder, name)
                relative = posixpath.relpath(path, self.workspace.root)
                if not os.path.islink(path) and not self.read_may_be_restricted(relative):
                    continue
                refused = self._refused_read(
                    relative, f"{shown} reads every file under `{tree.path.text}`"
                )
                if refused is not None:
                    return refused
        return allowed

    def _candidates(self, word: Word, cwd: str | None) -> list[str]:
        """The path `word` names (run-time parts as `_`) and, for a glob, what bash would
        expand it to now."""
        path = word.text.replace(DYNAMIC, "_")
        if word.expands and not word.dynamic:
            return [path, *self.workspace.expand(path, cwd)]
        return [path]

    @staticmethod
    def _not_a_file(word: Word, read_only: bool) -> Decision:
        """`/dev/null`, `-` and their like: no file to read or write."""
        return Decision(
            action=Action.ALLOW,
            rule=None,
            reason=f"`{word.text}` is not a file",
            read_only=read_only,
        )

    def _read(self, word: Word, cwd: str | None) -> Decision:
        if is_special_file(word.text):
            return self._not_a_file(word, read_only=True)
        candidates = self._candidates(word, cwd)
        path = candidates[0]
        # A glob also matches what is not on disk now: git matches pathspecs against history
        # (`git log -p -- '.e*'`), and the file may be made before it runs.
        if (
            word.expands
            and not word.dynamic
            and any(fnmatch.fnmatchcase(sample, path) for sample in self._guarded_samples)
        ):
            return unanalysable(f"reads `{path}`, a glob that can match a guarded file")
        decision = strictest([self.check_read(candidate, cwd) for candidate in candidates])
        assert decision is not None
        if decision.action is not Action.ALLOW:
            return decision
        if word.dynamic:
            # `cat $(echo .env)`, `F=.env; cat "$F"`: a path built at run time could be any
            # file, so it is not known harmless.
            return unanalysable(
                f"reads `{word.text.replace(DYNAMIC, '…')}`, a path computed at run time"
            )
        if cwd is None and not posixpath.isabs(posixpath.expanduser(word.text)):
            # After `cd` (home), `cd -` or `cd "$D"` a relative path could be `~/.netrc`.
            return unanalysable(f"reads `{word.text}` in a folder known only at run time")
        return decision


def guarded_sample(pattern: str) -> str:
    """A path a gitignore-style pattern matches: `**/.env.*` -> `.env.x`."""
    sample = pattern.strip("/").replace("**/", "").replace("/**", "/x").replace("**", "x")
    return re.sub(r"\[[^]]*\]|[*?]", "x", sample)


def reads_files(name: str) -> bool:
    """Does the program read files (`ls`, `cat`), rather than only print (`echo`, `pwd`)?"""
    program = lookup(name)
    return program is not None and (program.reads is not None or program.trees is not None)
