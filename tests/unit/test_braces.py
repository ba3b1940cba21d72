"""Brace expansion as the engine spells it out before parsing (permissions/braces.py)."""

from __future__ import annotations

import pytest

from plangate.permissions.braces import MAX_WORDS, TooManyWords, expand_text


@pytest.mark.parametrize(
    ("source", "expanded"),
    [
        ("git p{u,}sh", "git push psh"),
        ("{git,push}", "git push"),
        ("rm -{r,f} x", "rm -r -f x"),
        ("a{b,c{d,e}}f", "abf acdf acef"),
        ("echo {1..3} {a..c} {5..1..2}", "echo 1 2 3 a b c 5 3 1"),
        ("x=$(echo {a,b});ls", "x=$(echo a b);ls"),
        ("echo `{rm,} -rf x`", "echo `rm  -rf x`"),
    ],
)
def test_unquoted_groups_are_spelled_out(source: str, expanded: str) -> None:
    assert expand_text(source) == expanded


@pytest.mark.parametrize(
    "source",
    [
        "echo '{a,b}' \"{c,d}\"",  # quoted braces are literal
        "echo \\{a,b}",  # so is an escaped one
        "echo ${x} ${y:-{a}}",  # parameter expansion, and a group without a comma
        "echo {a} {a..}",  # no comma, not a sequence
        "f() { a,b; }",  # a group of commands
    ],
)
def test_what_bash_leaves_alone_stays(source: str) -> None:
    assert expand_text(source) == source


def test_a_group_making_too_many_words_is_refused() -> None:
    with pytest.raises(TooManyWords):
        expand_text("echo {1.." + str(MAX_WORDS + 1) + "}")
