"""A plan document reads back as the plan it renders (what a reviewer approved is what runs),
and a document that is not a plan is an error naming its line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plangate.demo.script import PLAN
from plangate.workflow.plan import AcceptanceCheck, Analysis, PhasePlan, Plan, render_markdown
from plangate.workflow.plan_document import PlanDocumentError, parse_plan

# One line of text, as people write it: no surrounding blanks, no Markdown heading of its own.
TEXT = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1)
    .map(str.strip)
    .filter(lambda t: t and not t.startswith(("#", "**", "- ")) and "\n" not in t)
)
PATH = st.from_regex(r"[a-z][a-z0-9_/.*-]{0,20}", fullmatch=True).filter(
    lambda p: ".." not in p.split("/") and not p.startswith("/")
)


@st.composite
def phases(draw: st.DrawFn) -> PhasePlan:
    criteria = draw(st.lists(TEXT, min_size=1, max_size=3, unique=True))
    checked = draw(st.lists(st.sampled_from(criteria), max_size=2))
    checks = [
        AcceptanceCheck(
            criterion=c,
            kind=draw(st.sampled_from(["test", "command", "file", "route"])),
            target=draw(PATH),
        )
        for c in checked
    ]
    return PhasePlan(
        name=draw(TEXT),
        goal=draw(TEXT),
        steps=draw(st.lists(TEXT, min_size=1, max_size=3)),
        files=draw(st.lists(PATH, max_size=3)),
        migrations=draw(st.lists(TEXT, max_size=2)),
        commands=draw(st.lists(PATH, max_size=2)),
        acceptance_criteria=criteria,
        checks=checks,
    )


@settings(max_examples=150, deadline=None)
@given(
    title=TEXT,
    summary=TEXT,
    requirements=st.lists(TEXT, min_size=1, max_size=3),
    security=st.lists(TEXT, max_size=2),
    steps=st.lists(phases(), min_size=1, max_size=3),
    risks=st.lists(TEXT, max_size=2),
)
def test_a_plan_reads_back_as_it_was_rendered(
    title: str,
    summary: str,
    requirements: list[str],
    security: list[str],
    steps: list[PhasePlan],
    risks: list[str],
) -> None:
    plan = Plan(
        title=title,
        summary=summary,
        analysis=Analysis(requirements=requirements, security=security),
        phases=steps,
        risks=risks,
    )
    # The document lists checks under their criterion: that is the order they come back in.
    ordered = [
        phase.model_copy(
            update={
                "checks": sorted(
                    phase.checks, key=lambda c: phase.acceptance_criteria.index(c.criterion)
                )
            }
        )
        for phase in plan.phases
    ]
    assert parse_plan(render_markdown(plan)) == plan.model_copy(update={"phases": ordered})


def test_the_demo_plan_reads_back() -> None:
    plan = Plan.model_validate(PLAN).with_documentation()
    assert parse_plan(render_markdown(plan)) == plan


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Title\n", 1, "starts with '# <title>'"),
        ("# T\n\nS\n\n## Phase 2: X\n", 5, "expected phase 1 here"),
        ("# T\n\nS\n\n## Analysis\n\n### Extra\n", 7, "'### Extra' is no section"),
        ("# T\n\nS\n\n## Phase 1: X\n\nGoal: g\n\nwhat is this\n", 9, "does not belong here"),
        ("# T\n\nS\n\n## Analysis\n\n**Requirements**\n\n- r\n", 1, "phases"),
    ],
)
def test_what_is_not_a_plan_is_an_error_at_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(PlanDocumentError, match=message) as error:
        parse_plan(text)
    assert error.value.line == line
