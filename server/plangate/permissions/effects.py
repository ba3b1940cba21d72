"""What a program does to files: the paths it writes, the paths it reads, and whether it is in
the curated read-only set that runs without asking when no rule names it.

Writes hidden in commands are edits: `tee f`, `cp x f`, `sed -i`, `touch f`, `dd of=f`, `rm f`...
are checked against the edit rules exactly like the edit tool, so `cp x .env` is denied by
`**/*.env*` as surely as an edit of `.env`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plangate.permissions.commands import Invocation
from plangate.permissions.words import Word


@dataclass(frozen=True)
class Write:
    """A path a command writes; `deletes` when it removes or moves it (folders included)."""

    path: Word
    deletes: bool = False


@dataclass
class Effects:
    """The file effects of one invocation."""

    writes: list[Write] = field(default_factory=list)
    reads: list[Word] = field(default_factory=list)
    read_only: bool = False


# Programs that only look: allowed without asking when no rule names them and they write nothing.
_READ_ONLY = frozenset(
    [
        "ls",
        "cat",
        "head",
        "tail",
        "less",
        "more",
        "grep",
        "egrep",
        "fgrep",
        "rg",
        "wc",
        "pwd",
        "echo",
        "printf",
        "which",
        "type",
        "tree",
        "file",
        "stat",
        "du",
        "df",
        "cut",
        "tr",
        "diff",
        "cmp",
        "basename",
        "dirname",
        "realpath",
        "readlink",
        "whoami",
        "id",
        "uname",
        "true",
        "false",
        "test",
        "[",
        "jq",
        "sha256sum",
        "sha1sum",
        "sha512sum",
        "md5sum",
        "cksum",
        "nl",
        "seq",
        "cd",
        "pushd",
        "popd",
        "column",
        "comm",
        "paste",
        "fold",
        "rev",
        "tac",
        "od",
        "hexdump",
        "strings",
        "printenv",
        "locale",
        "nproc",
        "uptime",
        "free",
        "date",
        "sort",
        "uniq",
        "find",
        "env",
        "command",
        "hostname",
        "expr",
        "sleep",
        ":",
        "git",
    ]
)
# Programs whose operands are files they read (checked against read rules and the workspace).
_READS_FILES = frozenset(
    [
        "ls",
        "cat",
        "head",
        "tail",
        "less",
        "more",
        "wc",
        "file",
        "stat",
        "du",
        "diff",
        "cmp",
        "nl",
        "tac",
        "od",
        "hexdump",
        "strings",
        "sha256sum",
        "sha1sum",
        "sha512sum",
        "md5sum",
        "cksum",
        "sort",
        "uniq",
        "cut",
        "paste",
        "column",
        "comm",
        "fold",
        "rev",
        "tree",
        "readlink",
        "realpath",
        "cd",
        "pushd",
        "find",
        "grep",
        "egrep",
        "fgrep",
        "rg",
        "jq",
    ]
)
_PATTERN_FIRST = frozenset({"grep", "egrep", "fgrep", "rg", "jq"})
_GIT_READ_ONLY = frozenset(
    [
        "status",
        "log",
        "diff",
        "show",
        "blame",
        "rev-parse",
        "ls-files",
        "ls-tree",
        "cat-file",
        "describe",
        "shortlog",
        "grep",
        "count-objects",
        "merge-base",
        "name-rev",
        "for-each-ref",
        "version",
        "help",
        "whatchanged",
        "show-ref",
        "check-ignore",
    ]
)
_GIT_BRANCH_WRITES = frozenset(
    [
        "-d",
        "-D",
        "-m",
        "-M",
        "-c",
        "-C",
        "--delete",
        "--move",
        "--copy",
        "--set-upstream-to",
        "-u",
        "--unset-upstream",
        "--edit-description",
        "-f",
        "--force",
        "--track",
        "-t",
    ]
)
_TOUCH_VALUES = frozenset({"-d", "-t", "-r", "--date", "--reference"})
_TRUNCATE_VALUES = frozenset({"-s", "-r", "--size", "--reference"})
_MKDIR_VALUES = frozenset({"-m", "--mode", "--context"})
_SPECIAL_FILES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty", "-")


# Variables a read-only command may be given without losing that status; any other one
# (LESSOPEN, PAGER, GIT_EXTERNAL_DIFF, ...) can make it run or write something.
_HARMLESS_VARIABLES = frozenset(
    {
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR",
        "COLORTERM",
        "COLUMNS",
        "LINES",
        "CI",
    }
)


def _harmless_variable(name: str) -> bool:
    return name in _HARMLESS_VARIABLES or name.startswith("LC_")


def is_special_file(path: str) -> bool:
    """Device files and `-` that stand for the terminal or the void, not a real file."""
    return path in _SPECIAL_FILES or path.startswith(("/dev/fd/", "/proc/self/fd/"))


def _operands(args: list[Word], value_flags: frozenset[str] = frozenset()) -> list[Word]:
    """Operands of a command: words that are not options nor the values of `value_flags`."""
    out: list[Word] = []
    skip = False
    done = False
    for word in args:
        if skip:
            skip = False
            continue
        text = word.text
        if not done and text == "--":
            done = True
            continue
        if not done and text.startswith("-") and text != "-" and word.literal:
            skip = text in value_flags
            continue
        out.append(word)
    return out


def _option_value(args: list[Word], names: tuple[str, ...]) -> list[Word]:
    """Values of `-o FILE`, `--output FILE`, `--output=FILE` style options."""
    values: list[Word] = []
    for i, word in enumerate(args):
        text = word.text
        for name in names:
            if text == name and i + 1 < len(args):
                values.append(args[i + 1])
            elif name.startswith("--") and text.startswith(name + "="):
                values.append(Word(text.split("=", 1)[1], word.dynamic, word.expands))
            elif not name.startswith("--") and text.startswith(name) and len(text) > len(name):
                values.append(Word(text[len(name) :], word.dynamic, word.expands))
    return values


def _copy_targets(args: list[Word], moves: bool) -> list[Write]:
    target_dir = _option_value(args, ("-t", "--target-directory"))
    operands = _operands(
        args,
        frozenset(
            {
                "-t",
                "--target-directory",
                "-S",
                "--suffix",
                "-m",
                "--mode",
                "-o",
                "--owner",
                "-g",
                "--group",
            }
        ),
    )
    writes: list[Write] = []
    if target_dir:
        sources, dest = operands, target_dir[0]
    elif len(operands) >= 2:
        sources, dest = operands[:-1], operands[-1]
    else:
        return [Write(w, deletes=moves) for w in operands]
    writes.append(Write(dest))
    for source in sources:
        name = source.text.rstrip("/").rsplit("/", 1)[-1]
        writes.append(
            Write(Word(f"{dest.text.rstrip('/')}/{name}", dest.dynamic or source.dynamic))
        )
        if moves:
            writes.append(Write(source, deletes=True))
    return writes


def effects(inv: Invocation) -> Effects:
    """The files `inv` writes and reads, and whether it is a read-only command."""
    program = inv.program
    args = inv.argv[1:]
    texts = [w.text for w in args]
    out = Effects(
        read_only=program in _READ_ONLY
        and not inv.problems
        and inv.escalates is None
        and all(_harmless_variable(name) for name in inv.assignments)
    )
    if program == "tee":
        out.writes = [Write(w) for w in _operands(args)]
    elif program in ("cp", "install", "rsync"):
        out.writes = _copy_targets(args, moves=False)
    elif program == "mv":
        out.writes = _copy_targets(args, moves=True)
    elif program == "ln":
        operands = _operands(args, frozenset({"-t", "--target-directory", "-S", "--suffix"}))
        out.writes = [Write(operands[-1])] if len(operands) >= 2 else []
        out.writes += [Write(w) for w in _option_value(args, ("-t", "--target-directory"))]
    elif program in ("rm", "rmdir", "unlink", "shred", "srm"):
        out.writes = [Write(w, deletes=True) for w in _operands(args)]
    elif program == "touch":
        out.writes = [Write(w) for w in _operands(args, _TOUCH_VALUES)]
    elif program == "truncate":
        out.writes = [Write(w) for w in _operands(args, _TRUNCATE_VALUES)]
    elif program in ("mkdir", "mkfifo", "mknod"):
        out.writes = [Write(w) for w in _operands(args, _MKDIR_VALUES)]
    elif program in ("chmod", "chown", "chgrp"):
        operands = _operands(args, frozenset({"--from"}))
        has_reference = any(t.startswith("--reference") for t in texts)
        out.writes = [Write(w) for w in (operands if has_reference else operands[1:])]
    elif program == "sed" and any(
        t == "--in-place"
        or t.startswith("--in-place=")
        or (t.startswith("-") and not t.startswith("--") and "i" in t[1:])
        for t in texts
    ):
        operands = _operands(args, frozenset({"-e", "-f", "--expression", "--file", "-l"}))
        has_script_option = any(t in ("-e", "-f", "--expression", "--file") for t in texts)
        out.writes = [Write(w) for w in (operands if has_script_option else operands[1:])]
    elif program == "dd":
        out.writes = [Write(Word(w.text[3:], w.dynamic)) for w in args if w.text.startswith("of=")]
    elif program == "curl":
        out.writes = [Write(w) for w in _option_value(args, ("-o", "--output"))]
    elif program == "wget":
        out.writes = [Write(w) for w in _option_value(args, ("-O", "--output-document"))]
    elif program == "git" and texts[:1] in (["rm"], ["mv"]):
        out.writes = [Write(w, deletes=True) for w in _operands(args[1:])]
    _read_only_guards(program, args, texts, out)
    if out.writes:
        out.read_only = False
    if out.read_only and program in _READS_FILES:
        out.reads = _read_operands(program, args, texts)
    return out


def _read_only_guards(program: str, args: list[Word], texts: list[str], out: Effects) -> None:
    """Options that turn a usually read-only program into one that writes or runs code."""
    if program == "sort":
        out.writes += [Write(w) for w in _option_value(args, ("-o", "--output"))]
        if any(t.startswith("--compress-program") for t in texts):
            out.read_only = False
    elif program == "uniq":
        operands = _operands(args, frozenset({"-f", "-s", "-w"}))
        out.writes += [Write(w) for w in operands[1:2]]
    elif program == "tree":
        out.writes += [Write(w) for w in _option_value(args, ("-o",))]
    elif program == "find":
        out.writes += [
            Write(w) for w in _option_value(args, ("-fprint", "-fprint0", "-fls", "-fprintf"))
        ]
        if "-delete" in texts:
            out.read_only = False
    elif program == "rg":
        if any(t.startswith("--pre") for t in texts):
            out.read_only = False
    elif program == "date":
        if any(t in ("-s", "--set") or t.startswith("--set=") for t in texts):
            out.read_only = False
    elif program == "hostname":
        if _operands(args):
            out.read_only = False
    elif program == "command":
        out.read_only = texts[:1] in (["-v"], ["-V"])
    elif program == "git":
        out.writes += [Write(w) for w in _option_value(args, ("--output",))]
        out.read_only = out.read_only and _git_read_only(texts)


def _git_read_only(texts: list[str]) -> bool:
    if not texts:
        return True
    sub, rest = texts[0], texts[1:]
    positional = [t for t in rest if not t.startswith("-")]
    if sub in _GIT_READ_ONLY:
        return not any(t.startswith(("--ext-diff", "--open-files-in-pager", "-O")) for t in rest)
    if sub == "branch":
        listing = any(t in ("-l", "--list") for t in rest)
        return not any(t in _GIT_BRANCH_WRITES for t in rest) and (listing or not positional)
    if sub == "tag":
        listing = any(t in ("-l", "--list") for t in rest)
        return listing or (not positional and not any(t in ("-d", "--delete") for t in rest))
    if sub == "remote":
        return not positional or positional[0] in ("show", "get-url")
    if sub == "stash":
        return bool(positional) and positional[0] in ("list", "show")
    if sub == "config":
        return any(t in ("--get", "--get-all", "--get-regexp", "--list", "-l") for t in rest)
    if sub == "reflog":
        return not positional or positional[0] == "show"
    return False


def _read_operands(program: str, args: list[Word], texts: list[str]) -> list[Word]:
    operands = _operands(
        args,
        frozenset(
            {
                "-e",
                "-f",
                "-m",
                "-A",
                "-B",
                "-C",
                "-g",
                "-t",
                "--glob",
                "--type",
                "-n",
                "-c",
                "--regexp",
                "--file",
                "-name",
                "-iname",
                "-path",
                "-type",
                "-maxdepth",
            }
        ),
    )
    if program in _PATTERN_FIRST and not any(
        t in ("-e", "-f", "--regexp", "--file") for t in texts
    ):
        operands = operands[1:]
    if program == "find":
        start = next((i for i, w in enumerate(operands) if w.text.startswith(("(", "!"))), None)
        operands = operands[:start]
    return [w for w in operands if not is_special_file(w.text)]
