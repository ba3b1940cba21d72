"""Hunks of a change: every subset composes to the old text with exactly those hunks applied."""

from __future__ import annotations

import itertools
import random

from plangate.tools.hunks import compose, hunks


def test_hunks_of_a_change() -> None:
    old = "a\nb\nc\nd\ne\n"
    new = "A\nb\nc\nd\ne\nf\n"
    found = hunks(old, new)
    assert [(h.old_start, h.old_lines, h.new_start, h.new_lines) for h in found] == [
        (0, 1, 0, 1),
        (5, 0, 5, 1),
    ]
    assert compose(old, new, {0}) == "A\nb\nc\nd\ne\n"
    assert compose(old, new, {1}) == "a\nb\nc\nd\ne\nf\n"


def test_line_endings_are_kept() -> None:
    old, new = "x\r\ny\r\nz", "x\r\nY\r\nz"
    assert compose(old, new, {0}) == new and compose(old, new, set()) == old


def test_every_subset_of_random_changes() -> None:
    rng = random.Random(15)
    for _ in range(200):
        old = [f"{rng.randrange(5)}\n" for _ in range(rng.randrange(8))]
        new = [f"{rng.randrange(5)}\n" for _ in range(rng.randrange(8))]
        a, b = "".join(old), "".join(new)
        found = hunks(a, b)
        assert compose(a, b, {h.index for h in found}) == b
        assert compose(a, b, set()) == a
        for size in range(len(found) + 1):
            for chosen in itertools.combinations(found, size):
                middle = compose(a, b, {h.index for h in chosen}).splitlines(keepends=True)
                # Each chosen hunk's lines are the proposal's, at the place it says.
                shift = 0
                for hunk in found:
                    start = hunk.old_start + shift
                    if hunk in chosen:
                        assert (
                            middle[start : start + hunk.new_lines]
                            == new[hunk.new_start : hunk.new_start + hunk.new_lines]
                        )
                        shift += hunk.new_lines - hunk.old_lines
                    else:
                        assert (
                            middle[start : start + hunk.old_lines]
                            == old[hunk.old_start : hunk.old_start + hunk.old_lines]
                        )
                assert len(middle) == len(old) + shift
