"""git: global options, aliases and dashed programs; what its subcommands read and write.

Normalisation moves the subcommand next to the program: global options are skipped (`-C dir`
also moves the working directory), `stage` is `add`, `git -c alias.x=push x` runs push (and
`alias.x='!cmd'` runs cmd, whose text is checked as a command line), `git-push` (dashed
programs, as in /usr/lib/git-core) is `git push`, and `git commit --help` only shows the
manual. `git submodule foreach CMD` and `git bisect run CMD` run CMD: it is checked too.
`-c` settings other than display ones can make any git command run a program.

Effects: the reading subcommands (`status log diff show ...`, and `branch`, `tag`, `remote`,
`stash`, `config`, `reflog` when they only list) are read-only unless an option writes or runs
something (`--output`, `--ext-diff`, `-O`); `git rm`, `git mv`, `git restore`, `git checkout --`
write the files they name; `git show HEAD:.env` reads `.env`.
"""

from __future__ import annotations

import posixpath
import re

from plangate.permissions.invocation import (
    Effects,
    Invocation,
    Pending,
    Tree,
    Unwrapped,
    Write,
    asks_for_help,
    is_special_file,
    operands_of,
    values_of,
)
from plangate.permissions.options import find_option, has_flag
from plangate.permissions.programs.base import Program
from plangate.permissions.words import DYNAMIC, Word

_VALUE_OPTIONS = {
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--super-prefix",
    "--config-env",
    "--list-cmds",
    "--attr-source",
}
# Configuration that only changes how git prints; anything else (core.pager, core.fsmonitor,
# diff.external, credential.helper, ...) can make a read-only git command run a program.
_HARMLESS_CONFIG = (
    "color.",
    "column.",
    "advice.",
    "i18n.",
    "log.",
    "format.pretty",
    "core.quotepath",
    "diff.renames",
    "diff.algorithm",
    "diff.noprefix",
    "diff.mnemonicprefix",
    "status.",
    "user.name",
    "user.email",
    "init.defaultbranch",
    "safe.directory",
    "core.autocrlf",
)
# Settings whose value git runs through a shell.
_COMMAND_CONFIG = re.compile(
    r"core\.(pager|editor|sshcommand|fsmonitor|askpass)|sequence\.editor|diff\.external"
    r"|pager\..+|credential\.(.+\.)?helper|gpg\.(.+\.)?program|(diff|merge)tool\..+\.cmd"
    r"|filter\..+\.(clean|smudge|process)|diff\..+\.(textconv|command)"
    r"|interactive\.difffilter|remote\..+\.(uploadpack|receivepack)|uploadpack\.packobjectshook"
)
_SUBCOMMAND_ALIASES = {"stage": "add"}
# Subcommands that run a command given in their arguments: a `--help` there may be its.
_RUNS_COMMANDS = frozenset({"submodule", "bisect", "rebase", "filter-branch", "difftool"})
# Subcommands whose operands may name files (revisions checked as paths are harmless).
_READS_PATHS = frozenset("show log diff blame grep ls-files ls-tree cat-file".split())
_READ_ONLY = frozenset(
    """status log diff show blame rev-parse ls-files ls-tree cat-file describe shortlog grep
    count-objects merge-base name-rev for-each-ref version help whatchanged show-ref check-
    ignore""".split()
)
# Options that run programs or write files even on reading subcommands.
_RUNS_OR_WRITES = ("--ext-diff", "--open-files-in-pager", "--output", "-O")
_BRANCH_WRITES = (
    "-d",
    "-D",
    "-m",
    "-M",
    "-c",
    "-C",
    "-f",
    "-u",
    "-t",
    "--delete",
    "--move",
    "--copy",
    "--force",
    "--set-upstream-to",
    "--unset-upstream",
    "--edit-description",
    "--track",
    "--create-reflog",
)


def _normalise(words: list[Word], inv: Invocation, result: Unwrapped) -> list[list[Word]]:
    aliases: dict[str, str] = {}
    i = 1
    while i < len(words):
        text = words[i].text
        if not text.startswith("-"):
            break
        name, has_value, value = text.partition("=")
        if text.startswith("-c") and len(text) > 2:
            name, has_value, value = "-c", "=", text[2:]
        hit = find_option(name, _VALUE_OPTIONS)
        known = words[i].literal
        if hit is not None:
            name = hit.name
            if not has_value:
                value = words[i + 1].text if i + 1 < len(words) else ""
                known = i + 1 < len(words) and words[i + 1].literal
                i += 1
        if name == "-C":
            inv.cwd = (
                posixpath.normpath(posixpath.join(inv.cwd, value)) if inv.cwd and known else None
            )
        if name in ("-c", "--config-env"):
            key, _, setting = value.partition("=")
            key = key.lower()
            if key.startswith("alias."):
                aliases[key[len("alias.") :]] = setting
                inv.problems.append("defines a git alias on the command line")
            elif not key.startswith(_HARMLESS_CONFIG):
                inv.escalates = f"sets git configuration ({key}) that can run programs"
            if _COMMAND_CONFIG.fullmatch(key):
                # `core.pager='git push'`: git hands the value to a shell.
                if name == "-c" and known:
                    result.scripts.append(setting.removeprefix("!"))
                else:
                    inv.problems.append(f"sets {key} to a command known only at run time")
        if name in ("--git-dir", "--work-tree") or text.startswith("--exec-path"):
            # Another repository's configuration (core.fsmonitor, hooks, aliases) or another
            # folder of git programs: anything may run.
            inv.escalates = f"points git at another repository or programs ({name})"
        i += 1
    if i >= len(words):
        return [[words[0]]]
    sub, rest = words[i], words[i + 1 :]
    expansion = aliases.get(sub.text.lower())
    if expansion is not None:
        if expansion.startswith("!"):
            result.scripts.append(expansion[1:])  # a shell alias: its text runs
        else:
            expanded = [Word(part) for part in expansion.split()]
            if expanded:
                sub, rest = expanded[0], [*expanded[1:], *rest]
    sub = Word(_SUBCOMMAND_ALIASES.get(sub.text, sub.text), sub.dynamic, sub.expands)
    if sub.text not in _RUNS_COMMANDS and asks_for_help(rest):
        return [[words[0], Word("help"), sub]]  # only shows the manual
    return [[words[0], sub, *rest]]


def _runs(inv: Invocation, result: Unwrapped, pending: Pending) -> bool:
    """`git submodule foreach CMD` runs CMD through a shell in each submodule; `git bisect run
    CMD ARGS` runs CMD at each step. Both are checked as commands; git itself is matched too."""
    texts = [w.text for w in inv.argv]
    if texts[1:2] == ["submodule"] and "foreach" in texts:
        payload = inv.argv[texts.index("foreach") + 1 :]
        while payload and payload[0].text.startswith("-"):
            payload = payload[1:]  # --recursive
        if payload:
            result.script_from(payload, inv)
            return True
    if texts[1:3] == ["bisect", "run"] and len(texts) > 3:
        start = 4 if texts[3] == "--" else 3
        pending.append((inv.argv[start:], inv.escalates))
    return False


_CHECKOUT_VALUES = ("-b", "-B", "--orphan", "--conflict", "--pathspec-from-file")
_APPLY_READS_ONLY = ("--stat", "--numstat", "--summary", "--check")
_CLONE_VALUES = (
    "-b",
    "--branch",
    "-o",
    "--origin",
    "--depth",
    "--reference",
    "--separate-git-dir",
    "-c",
    "--config",
    "--template",
    "-u",
    "--upload-pack",
    "--shallow-since",
    "--filter",
    "-j",
    "--jobs",
    "--object-format",
    "-B",
)


def _writes(args: list[Word], texts: list[str]) -> list[Write]:
    if not texts:
        return []
    sub, rest = texts[0], args[1:]
    writes = [Write(w) for w in values_of(rest, ("--output",))]
    if sub in ("rm", "mv") and not has_flag(texts[1:], ("--cached",)):
        writes += [Write(w, recursive=True) for w in operands_of(rest)]
    elif sub == "restore":
        writes += [Write(w) for w in operands_of(rest, ("-s", "--source"))]
    elif sub == "checkout" and "--" in texts:
        writes += [Write(w) for w in args[texts.index("--") + 1 :]]
    elif sub == "checkout":
        # `git checkout HEAD .env`: after a tree-ish the operands are paths, and a lone
        # operand may be a path too; a branch name checked as a path is harmless.
        writes += [Write(w) for w in operands_of(rest, _CHECKOUT_VALUES)]
    elif sub == "apply" and not has_flag(texts[1:], _APPLY_READS_ONLY):
        # The patch names the files it writes: known only at run time (`--directory`).
        folder = next(iter(values_of(rest, ("--directory",))), None)
        base = folder.text.rstrip("/") + "/" if folder is not None else ""
        writes.append(Write(Word(base + DYNAMIC, dynamic=True), recursive=True))
    elif sub in ("clone", "init") or texts[:2] == ["worktree", "add"]:
        operands = operands_of(rest[1:] if sub == "worktree" else rest, _CLONE_VALUES)
        where = operands[-1:] if sub != "clone" or len(operands) > 1 else []
        writes += [Write(w, recursive=True) for w in where]
        if sub == "clone" and len(operands) == 1:  # named after the URL
            writes.append(Write(Word(DYNAMIC, dynamic=True), recursive=True))
    elif sub == "format-patch":
        folders = values_of(rest, ("-o", "--output-directory"))
        writes += [Write(w, recursive=True) for w in folders]
    elif sub == "config" and not _config_reads_only(texts[1:]):
        # A setting that can run programs (core.fsmonitor, core.pager, alias.*, ...) is an
        # edit of the config file; a display or identity setting stays a plain question.
        keys = [t.lower() for t in texts[1:] if not t.startswith("-")][:1]
        harmless = bool(keys) and keys[0].startswith(_HARMLESS_CONFIG)
        if values_of(rest, ("-f", "--file")) or not harmless:
            writes.append(Write(_config_file(rest, texts[1:])))
    return writes


_CONFIG_READS = (
    "--get",
    "--get-all",
    "--get-regexp",
    "--get-urlmatch",
    "--get-color",
    "--get-colorbool",
    "--list",
    "-l",
)


def _config_reads_only(texts: list[str]) -> bool:
    """`git config --get k`, `--list`, or a key alone (`git config user.name`) only read."""
    if has_flag(texts, _CONFIG_READS):
        return True
    operands = [t for t in texts if not t.startswith("-")]
    setting = ("--unset", "--unset-all", "--add", "--replace-all", "--edit", "-e", "--rename")
    return len(operands) <= 1 and not has_flag(texts, setting)


def _config_file(rest: list[Word], texts: list[str]) -> Word:
    """The file a setting goes to: `--file F`, `--global`, `--system`, or the repository's."""
    given = values_of(rest, ("-f", "--file"))
    if given:
        return given[0]
    if has_flag(texts, ("--global",)):
        return Word("~/.gitconfig")
    if has_flag(texts, ("--system",)):
        return Word("/etc/gitconfig")
    if has_flag(texts, ("--worktree",)):
        return Word(".git/config.worktree")
    return Word(".git/config")


def _guard(args: list[Word], texts: list[str], out: Effects) -> None:
    out.read_only = out.read_only and _read_only(texts)


def _read_only(texts: list[str]) -> bool:
    if not texts:
        return True
    sub, rest = texts[0], texts[1:]
    positional = [t for t in rest if not t.startswith("-")]
    if any(find_option(t, _RUNS_OR_WRITES) for t in rest):
        return False
    if sub in _READ_ONLY:
        return True
    if sub == "branch":
        listing = has_flag(rest, ("-l", "--list"))
        return not has_flag(rest, _BRANCH_WRITES) and (listing or not positional)
    if sub == "tag":
        listing = has_flag(rest, ("-l", "--list"))
        return listing or (not positional and not has_flag(rest, ("-d", "--delete")))
    if sub == "remote":
        return not positional or positional[0] in ("show", "get-url")
    if sub == "stash":
        return bool(positional) and positional[0] in ("list", "show")
    if sub == "config":
        return _config_reads_only(rest)
    if sub == "reflog":
        return not positional or positional[0] == "show"
    return False


_REVISION_VALUES = ("-e", "-f", "--format", "--pretty", "-n", "-C", "-L")


def _reads(args: list[Word], texts: list[str]) -> list[Word]:
    """Paths a reading git command may show: operands, the path of `REV:path`, `:path` and
    `:N:path` (the index), and the files a pathspec glob matches."""
    if not args or args[0].text not in _READS_PATHS:
        return []
    rest = args[1:]
    cut = next((i for i, w in enumerate(rest) if w.text == "--"), len(rest))
    paths: list[Word] = []
    for word in operands_of(rest[:cut], _REVISION_VALUES):
        path = _revision_path(word)
        if path is None:
            paths.append(word)
        elif path.text.startswith(("./", "../")):
            paths.append(path)  # `REV:./x` is relative to the working folder
    paths += [_pathspec(word) for word in rest[cut + 1 :]]
    # `git log -L1,9:.env` (or `-L:name:.env`) shows those lines of .env through history.
    paths += [Word(w.text.rpartition(":")[2], w.dynamic) for w in values_of(rest[:cut], ("-L",))]
    return [w for w in paths if not is_special_file(w.text)]


def _trees(args: list[Word], texts: list[str]) -> list[Tree]:
    """`git grep --no-index` and `--untracked` search the files on disk, not only tracked
    ones: every file under the pathspecs (the working folder when none) is read."""
    if texts[:1] != ["grep"] or not has_flag(texts[1:], ("--no-index", "--untracked")):
        return []
    rest = args[1:]
    cut = next((i for i, w in enumerate(rest) if w.text == "--"), None)
    folders = rest[cut + 1 :] if cut is not None else []
    return [Tree(w) for w in folders or [Word(".")]]


# Options that make a git command print names or numbers, not contents.
_NAMES_ONLY = (
    "--stat",
    "--name-only",
    "--name-status",
    "--numstat",
    "--shortstat",
    "--summary",
    "--dirstat",
    "--compact-summary",
    "--raw",
    "-s",
    "--no-patch",
    "--quiet",
    "--exit-code",
)
_PATCH = ("-p", "-u", "--patch", "--patch-with-stat", "--patch-with-raw", "--word-diff", "--cc")
_GREP_NAMES = ("-l", "-L", "--files-with-matches", "--files-without-match", "-c", "--count", "-q")


def _shows_tracked(args: list[Word], texts: list[str]) -> bool:
    """Does this reading command print contents of tracked files it does not name? A
    pathspec after `--` limits it to files checked as reads already."""
    if not texts:
        return False
    sub, rest = texts[0], texts[1:]
    if "--" in rest:
        if rest[rest.index("--") + 1 :]:
            return False
        rest = rest[: rest.index("--")]
    operands = [t for t in rest if not t.startswith("-")]
    if sub == "diff":
        return not has_flag(rest, _NAMES_ONLY)
    if sub in ("log", "whatchanged"):
        return has_flag(rest, _PATCH) and not has_flag(rest, _NAMES_ONLY)
    if sub == "show":
        revisions = [t for t in operands if ":" not in t]
        return (bool(revisions) or not operands) and not has_flag(rest, _NAMES_ONLY)
    if sub == "grep":
        return not has_flag(rest, _GREP_NAMES)
    if sub == "stash":
        return operands[:1] == ["show"] and has_flag(rest, _PATCH)
    if sub == "cat-file":
        return any(":" not in t for t in operands[1:] or operands)
    return False


def _root_reads(args: list[Word], texts: list[str]) -> list[Word]:
    """`REV:path`, `:path`, `:N:path`: paths from the top of the repository."""
    if not args or args[0].text not in _READS_PATHS:
        return []
    rest = args[1:]
    cut = next((i for i, w in enumerate(rest) if w.text == "--"), len(rest))
    paths = [_revision_path(word) for word in operands_of(rest[:cut], _REVISION_VALUES)]
    return [w for w in paths if w is not None and not w.text.startswith(("./", "../"))]


def _revision_path(word: Word) -> Word | None:
    """The path in `REV:path`, `:path` or `:N:path` (a merge stage in the index), if any."""
    revision, colon, path = word.text.partition(":")
    if not colon or not path:
        return None
    if revision == "" and path[:2] in ("0:", "1:", "2:", "3:"):
        path = path[2:]
    return Word(path, word.dynamic)


def _pathspec(word: Word) -> Word:
    """A path after `--` is a pathspec: git matches its glob characters itself (`'.e*'` reads
    `.env` though bash leaves it alone), and magic (`:(glob)`, `:!x`, `:^x`) can select
    files no word names, so it is a path known only at run time."""
    text = word.text
    if text.startswith(":") and len(text) > 1 and not text[1].isalnum() and text[1] not in "./":
        return Word(DYNAMIC, dynamic=True)
    return Word(text, word.dynamic, word.expands or any(c in text for c in "*?["))


PROGRAMS = (
    Program(
        names=("git",),
        dashed="git-",
        normalise=_normalise,
        runs=_runs,
        read_only=True,
        reads=_reads,
        root_reads=_root_reads,
        trees=_trees,
        writes=_writes,
        guard=_guard,
        finds_repository=True,
        shows_tracked=_shows_tracked,
    ),
)
