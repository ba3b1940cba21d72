"""Reading command-line options the way getopt does: clusters, glued values, abbreviations.

`-uo FILE` is `-u -o FILE`, `-oFILE` is `-o FILE`, and GNU programs accept any unambiguous
prefix of a long option (`--out=FILE` is `--output=FILE`). A checker that compares option
strings literally misses all three.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class OptionHit:
    """An option found in a token: its canonical name and the value glued to it, if any."""

    name: str
    value: str | None


def find_option(token: str, names: Iterable[str]) -> OptionHit | None:
    """Does `token` give one of `names` (short `-x` or long `--xyz`)? With its glued value.

    A long option matches when the token's name is a prefix of it (three characters at least);
    in a short cluster, flags may come before it and the rest of the cluster is its value.
    """
    if not token.startswith("-") or token in ("-", "--"):
        return None
    if token.startswith("--"):
        name, has_value, value = token.partition("=")
        for full in names:
            if full.startswith("--") and (
                name == full or (len(name) >= 3 and full.startswith(name))
            ):
                return OptionHit(full, value if has_value else None)
        return None
    shorts = {n for n in names if len(n) == 2 and not n.startswith("--")}
    for index, letter in enumerate(token[1:], start=1):
        if f"-{letter}" in shorts:
            rest = token[index + 1 :]
            return OptionHit(f"-{letter}", rest or None)
        if not letter.isalpha():
            return None
    return None


def option_values(args: list[str], names: Iterable[str]) -> list[tuple[int, str]]:
    """(index, value) of every use of the value options `names` in `args`."""
    wanted = tuple(names)
    found: list[tuple[int, str]] = []
    for index, token in enumerate(args):
        if token == "--":
            break
        hit = find_option(token, wanted)
        if hit is None:
            continue
        if hit.value is not None:
            found.append((index, hit.value))
        elif index + 1 < len(args):
            found.append((index + 1, args[index + 1]))
    return found


def has_flag(args: list[str], names: Iterable[str]) -> bool:
    """True when any of the flags `names` is given (clustered, or a long-option prefix)."""
    wanted = tuple(names)
    for token in args:
        if token == "--":
            return False
        if not token.startswith("-") or token == "-":
            continue
        if token.startswith("--"):
            if find_option(token, wanted) is not None:
                return True
            continue
        letters = token[1:]
        if letters.isalpha() and any(f"-{letter}" in wanted for letter in letters):
            return True
        if token in wanted:
            return True
    return False
