"""Rule patterns: bash command patterns and gitignore-style path patterns.

Bash patterns are compared on canonical argument lists, the same canonical form the engine
builds for commands: the program and its positional words in order, and its options as a set
(short clusters split, long aliases folded). So `rm -rf *` matches `rm -fr x`, `rm -r -f x`,
`rm --recursive --force x` and `rm -Rfv x`; and a bare `git commit` matches `git commit -m x`
(token prefix) but not `git commit-tree`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

import pathspec

from plangate.permissions.words import DYNAMIC

# Long options and capital short options that mean the same as a canonical short flag.
_FLAG_ALIASES: dict[str, dict[str, str]] = {
    "rm": {"--recursive": "-r", "-R": "-r", "--force": "-f", "--dir": "-d", "--verbose": "-v"},
    "cp": {"--recursive": "-r", "-R": "-r", "--force": "-f"},
    "mv": {"--force": "-f"},
    "chmod": {"--recursive": "-R"},
    "chown": {"--recursive": "-R"},
    "git": {"--force": "-f", "--all": "-A"},
}
_SHORT_CLUSTER = re.compile(r"-[A-Za-z]{2,}")


class Match(IntEnum):
    """Whether a pattern matches: YES, NO, or MAYBE when run-time words could make it match."""

    NO = 0
    MAYBE = 1
    YES = 2


@dataclass(frozen=True)
class Canonical:
    """A command line as patterns see it: positional words in order and a set of options."""

    words: tuple[str, ...]
    flags: frozenset[str]
    dynamic: bool
    # The command as written (its source, and its words one space apart): what opencode
    # matches patterns on.
    texts: tuple[str, ...] = ()


def _canonical_flag(program: str, flag: str) -> str:
    aliases = _FLAG_ALIASES.get(program, {})
    if flag in aliases:
        return aliases[flag]
    if flag.startswith("--") and len(flag) > 2:
        # GNU getopt accepts any unambiguous prefix of a long option: `--recur` is `--recursive`.
        candidates = {v for k, v in aliases.items() if k.startswith(flag)}
        if len(candidates) == 1:
            return candidates.pop()
    return flag


def canonicalize(argv: list[str], program_dynamic: bool = False, source: str = "") -> Canonical:
    """Split an argument list into positional words and a set of canonical options; `source`
    is the command's text as written, when known."""
    if not argv:
        return Canonical((), frozenset(), False)
    texts = tuple(dict.fromkeys(t for t in (source.strip(), " ".join(argv)) if t))
    program = argv[0]
    words = [program]
    flags: set[str] = set()
    dynamic = program_dynamic or DYNAMIC in program
    options_done = False
    for token in argv[1:]:
        if DYNAMIC in token:
            dynamic = True
            words.append(token)
            continue
        if not options_done and token == "--":
            options_done = True
            continue
        if not options_done and token.startswith("--") and len(token) > 2:
            flags.add(_canonical_flag(program, token.split("=", 1)[0]))
            continue
        if not options_done and token.startswith("-") and len(token) > 1:
            if _SHORT_CLUSTER.fullmatch(token):
                flags.update(_canonical_flag(program, "-" + ch) for ch in token[1:])
            else:
                flags.add(_canonical_flag(program, token))
            continue
        words.append(token)
    return Canonical(tuple(words), frozenset(flags), dynamic, texts)


@dataclass(frozen=True)
class BashPattern:
    """A compiled bash rule pattern."""

    source: str
    canonical: Canonical
    # The narrowest command this pattern matches: used to tell whether one pattern is
    # contained in another.
    sample: Canonical
    # The pattern as opencode reads it.
    written: Written

    def match(self, command: Canonical) -> Match:
        """YES, NO, or MAYBE when the command has run-time words that could make it match.
        A command also matches when the pattern matches it as written, the way opencode
        matches: `rm -rf*` is `rm -rf target` there, though `-rf*` is no option here."""
        found = self._canonical_match(command)
        if found is not Match.YES and any(self.written.fullmatch(t) for t in command.texts):
            return Match.YES
        return found

    def _canonical_match(self, command: Canonical) -> Match:
        positional = _match_words(self.canonical.words, command.words)
        if positional is Match.NO:
            return Match.NO
        if not self.canonical.flags <= command.flags:
            return Match.MAYBE if command.dynamic else Match.NO
        return positional


@lru_cache(maxsize=4096)
def compile_bash(pattern: str) -> BashPattern:
    """Compile a bash rule pattern (whitespace-separated tokens, `*` a wildcard)."""
    tokens = pattern.split()
    return BashPattern(
        source=pattern,
        canonical=canonicalize(tokens),
        sample=canonicalize([t.replace("*", "x") for t in tokens if t != "*"]),
        written=_as_written(" ".join(tokens)),
    )


@dataclass(frozen=True)
class Written:
    """A pattern as opencode reads it: `*` any text (spaces and `/` too), `?` one character,
    the whole text; a trailing ` *` may also match nothing (`git push *` is `git push` too).

    Matched by the classic two-pointer wildcard walk (back to the last `*` on a mismatch):
    time linear in the text for each star, never the exponential backtracking a regex of
    `.*`s can fall into on a long command."""

    pattern: str

    def fullmatch(self, text: str) -> bool:
        """Whether the whole of `text` matches."""
        if self.pattern.endswith(" *") and _wildcard(self.pattern[:-2], text):
            return True
        return _wildcard(self.pattern, text)


def _wildcard(pattern: str, text: str) -> bool:
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif star >= 0:
            p, mark = star + 1, mark + 1
            t = mark
        else:
            return False
    return all(ch == "*" for ch in pattern[p:])


def _as_written(pattern: str) -> Written:
    """`pattern`, read as opencode reads it (repeated stars are one)."""
    return Written(re.sub(r"\*+", "*", pattern))


def _match_words(pattern: tuple[str, ...], words: tuple[str, ...]) -> Match:
    """Token-prefix glob match: `*` alone spans any number of words, inside a word any text.

    Bottom-up over (pattern position, word position), so long commands cannot exhaust the
    stack. A run-time word could be any token, or expand to several words or none: MAYBE.
    """
    if pattern and words and pattern[0] != "*" and DYNAMIC not in words[0]:
        head = pattern[0]
        if head != words[0] and not ("*" in head and fnmatch.fnmatchcase(words[0], head)):
            return Match.NO  # the common case: a rule for another program
    rows, cols = len(pattern), len(words)
    # table[i][j]: how pattern[i:] matches words[j:]
    table = [[Match.NO] * (cols + 1) for _ in range(rows + 1)]
    table[rows] = [Match.YES] * (cols + 1)  # token prefix: any further words are fine
    for i in range(rows - 1, -1, -1):
        token = pattern[i]
        row, below = table[i], table[i + 1]
        if token == "*":
            best = below[cols]
            row[cols] = best
            for j in range(cols - 1, -1, -1):
                best = max(best, below[j])
                row[j] = best
            continue
        for j in range(cols - 1, -1, -1):
            word = words[j]
            if DYNAMIC in word:
                row[j] = max(_maybe(below[j + 1]), _maybe(row[j + 1]))
            elif word == token or ("*" in token and fnmatch.fnmatchcase(word, token)):
                row[j] = below[j + 1]
    return table[0][0]


def _maybe(result: Match) -> Match:
    return Match.MAYBE if result else Match.NO


@dataclass(frozen=True)
class PathPattern:
    """A compiled gitignore-style path pattern."""

    source: str
    regex: re.Pattern[str]
    # A path this pattern matches, as narrow as the pattern: used for containment.
    sample: str
    # The pattern as opencode reads it (`*` crosses folders: `migration/*` is all below).
    written: Written

    def match(self, relative: str) -> bool:
        """True when the workspace-relative (or absolute, for external rules) path matches,
        with gitignore's meaning or with opencode's."""
        return self.regex.match(relative) is not None or self.written.fullmatch(relative)


_BRACKET = re.compile(r"\[[^\]]*\]")
_NEVER = re.compile(r"(?!)")


@lru_cache(maxsize=4096)
def compile_path(pattern: str) -> PathPattern:
    """Compile a path rule pattern with gitignore semantics (pathspec's translation)."""
    compiled = pathspec.PathSpec.from_lines("gitignore", [pattern]).patterns
    regex = compiled[0].regex if compiled and compiled[0].include else None
    sample = _BRACKET.sub("x", pattern).replace("**", "d").replace("*", "x").replace("?", "q")
    sample = sample.strip("/") + ("/d" if pattern.endswith("/") else "")
    return PathPattern(
        source=pattern,
        regex=regex if isinstance(regex, re.Pattern) else _NEVER,
        sample=sample or "d",
        written=_as_written(pattern.removeprefix("./")),
    )


@lru_cache(maxsize=4096)
def narrower(kind: str, inner: str, outer: str) -> bool:
    """True when pattern `inner` matches a strict subset of what `outer` matches.

    Decided on samples: `outer` matches the narrowest thing `inner` matches, and not the
    other way round. `git status` is narrower than `git *`; `config/**` and `**/*.env*` are
    not comparable (each matches paths the other does not).
    """
    if kind == "bash":
        a, b = compile_bash(inner), compile_bash(outer)
        return b.match(a.sample) is Match.YES and a.match(b.sample) is not Match.YES
    p, q = compile_path(inner), compile_path(outer)
    return q.match(p.sample) and not p.match(q.sample)


def pattern_problem(kind: str, pattern: str) -> str | None:
    """Why a rule pattern is unusable, or None when it is fine."""
    if not str(pattern).strip():
        return "empty pattern"
    if kind in ("edit", "read", "external_directory"):
        if pattern.startswith("!"):
            return f"negated pattern '{pattern}' is not supported: write an allow rule instead"
        if pattern.startswith("#"):
            return f"pattern '{pattern}' starts with '#', which gitignore reads as a comment"
        try:
            compile_path(str(pattern))
        except Exception as exc:  # pathspec raises several types for bad patterns
            return f"invalid path pattern '{pattern}': {exc}"
    return None
