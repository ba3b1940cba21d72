"""A hostile agent file cannot hang PlanGate: YAML aliases that expand exponentially ("billion
laughs") and oversized frontmatter are refused with an error, quickly (issue 14, item 10)."""

from __future__ import annotations

import time
from pathlib import Path

from plangate.agents.parse import parse_agent

BOMB = """---
description: a
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: [*h, *h, *h, *h, *h, *h, *h, *h, *h]
---
body
"""


def test_an_alias_bomb_is_refused_quickly() -> None:
    started = time.monotonic()
    agent = parse_agent(BOMB, Path("agents/bomb.md"))
    assert time.monotonic() - started < 5
    [error] = [d for d in agent.errors if d.code == "frontmatter-size"]
    assert "more than 10,000 values" in error.message


def test_oversized_frontmatter_is_not_read() -> None:
    text = "---\ndescription: big\nnotes: '" + "x" * 300_000 + "'\n---\nbody\n"
    agent = parse_agent(text, Path("agents/big.md"))
    assert [d.code for d in agent.errors] == ["frontmatter-size"]


def test_a_few_aliases_still_work() -> None:
    text = "---\ndescription: &d small\nprompt: *d\n---\nbody\n"
    agent = parse_agent(text, Path("agents/ok.md"))
    assert not agent.errors and agent.description == "small"
