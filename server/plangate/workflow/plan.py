"""The plan the model proposes through the `propose_plan` tool, and its markdown rendering."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

DOCUMENTATION = "Documentation"
SCHEMAS = ("json", "yaml", "yml")  # the files an OpenAPI or Swagger schema is written in


class Analysis(BaseModel):
    """The seed's ANALYZE list."""

    model_config = ConfigDict(extra="forbid")

    requirements: list[str] = Field(description="API requirements and acceptance criteria")
    schema_and_relationships: list[str] = Field(
        default_factory=list, description="Database schema and relationships"
    )
    performance: list[str] = Field(default_factory=list, description="Performance requirements")
    security: list[str] = Field(default_factory=list, description="Security constraints")


class AcceptanceCheck(BaseModel):
    """How one acceptance criterion is checked when the phase is validated: a test (its node
    id: `tests/test_api.py::test_create` or `tests.test_api.ApiTest.test_create`), a
    command that must exit 0, a file that must exist, or an HTTP route the tests must name."""

    model_config = ConfigDict(extra="forbid")

    criterion: str = Field(min_length=1, description="The acceptance criterion it checks")
    kind: Literal["test", "command", "file", "route"]
    target: str = Field(min_length=1, description="The test id, command, file or `GET /path`")


class PhasePlan(BaseModel):
    """One phase of the work."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="e.g. Database, API endpoints, Optimisation")
    goal: str = Field(min_length=1)
    steps: list[str] = Field(min_length=1)
    files: list[str] = Field(
        default_factory=list, description="Files to create or modify, relative to the workspace"
    )
    migrations: list[str] = Field(default_factory=list)
    commands: list[str] = Field(
        default_factory=list,
        description="Commands this phase will run that change things (`*` matches anything: "
        "`npm run *`), and MCP tools it will call that do (`mcp__server__tool`)",
    )
    acceptance_criteria: list[str] = Field(min_length=1)
    checks: list[AcceptanceCheck] = Field(
        default_factory=list,
        description="Checks of the acceptance criteria: the phase is done only when they pass",
    )

    @model_serializer(mode="wrap")
    def _without_no_checks(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Logged plans keep the shape they had before checks existed: no `"checks": []`.
        data: dict[str, Any] = handler(self)
        if not data.get("checks"):
            data.pop("checks", None)
        return data

    @model_validator(mode="after")
    def _checks_name_criteria(self) -> PhasePlan:
        for check in self.checks:
            if check.criterion not in self.acceptance_criteria:
                raise ValueError(
                    f"check of '{check.criterion}': its criterion must be one of the phase's "
                    "acceptance_criteria, word for word"
                )
        return self

    @field_validator("files")
    @classmethod
    def _relative(cls, files: list[str]) -> list[str]:
        for path in files:
            if path.startswith("/") or ".." in path.split("/"):
                raise ValueError(f"'{path}' must be relative to the workspace, without '..'")
        return [path.removeprefix("./") for path in files]


class Plan(BaseModel):
    """The whole plan; phases run in order, documentation last."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    analysis: Analysis
    phases: list[PhasePlan] = Field(min_length=1)
    risks: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)

    def with_documentation(self) -> Plan:
        """The plan with a documentation phase last (the seed's DOCUMENT step)."""
        if self.phases and self.phases[-1].name.strip().lower().startswith("doc"):
            return self
        docs = PhasePlan(
            name=DOCUMENTATION,
            goal="Document the API",
            steps=[
                "Update the OpenAPI or GraphQL schema",
                "Add endpoint documentation",
                "Document error responses",
                "Add usage examples",
            ],
            # What documenting touches: it is this phase's declaration (workflow/contract.py).
            # Not every Markdown file: AGENTS.md or CLAUDE.md would instruct later sessions.
            files=[
                "docs/**",
                "**/README.md",
                "**/CHANGELOG.md",
                "**/API.md",
                *(f"**/{name}.{ext}" for name in ("openapi", "swagger") for ext in SCHEMAS),
                "**/*.graphql",
            ],
            acceptance_criteria=["Every endpoint changed in this plan is documented"],
        )
        return self.model_copy(update={"phases": [*self.phases, docs]})


PLAN_TOOL_DESCRIPTION = (
    "Propose the implementation plan for the user's approval. Call it after analysing the "
    "workspace (read-only tools only until the plan is approved). Phases run one at a time, "
    "each after the user approves it; list for each phase the files it will create or modify "
    "(names, folders or globs) and the commands and MCP tools that change things: anything else "
    "in that phase needs the user's approval of a plan amendment. Give acceptance criteria a "
    "check where one can run (`checks`: a test id, a command, a file that must exist, a route "
    "the tests name): the phase is done only when they pass. "
    "The default shape follows the backend workflow: Database (schema, migrations, ORM models), "
    "API endpoints (validation, auth, errors, logging), Optimisation (caching, queries, rate "
    "limiting, monitoring); a Documentation phase is added last unless you include one."
)


def render_markdown(plan: Plan) -> str:
    """The plan as the markdown document the editor shows (with code lenses on phases)."""
    lines = [f"# {plan.title}", "", plan.summary, "", "## Analysis", ""]
    sections = (
        ("Requirements", plan.analysis.requirements),
        ("Schema and relationships", plan.analysis.schema_and_relationships),
        ("Performance", plan.analysis.performance),
        ("Security", plan.analysis.security),
    )
    for heading, items in sections:
        if items:
            lines += [f"**{heading}**", "", *[f"- {item}" for item in items], ""]
    for index, phase in enumerate(plan.phases, start=1):
        lines += [f"## Phase {index}: {phase.name}", "", f"Goal: {phase.goal}", ""]
        lines += [f"{n}. {step}" for n, step in enumerate(phase.steps, start=1)] + [""]
        for heading, items in (
            ("Files", [f"`{f}`" for f in phase.files]),
            ("Migrations", phase.migrations),
            ("Commands", [f"`{c}`" for c in phase.commands]),
            ("Acceptance criteria", criteria(phase)),
        ):
            if items:
                lines += [f"**{heading}**", "", *[f"- {item}" for item in items], ""]
    if plan.risks:
        lines += ["## Risks", "", *[f"- {risk}" for risk in plan.risks], ""]
    if plan.open_questions:
        lines += ["## Open questions", "", *[f"- {q}" for q in plan.open_questions], ""]
    return "\n".join(lines).rstrip() + "\n"


def criteria(phase: PhasePlan) -> list[str]:
    """Each acceptance criterion with how it is checked, or marked "not checked"."""
    lines = []
    for criterion in phase.acceptance_criteria:
        checks = [c for c in phase.checks if c.criterion == criterion]
        how = "; ".join(f"{c.kind} `{c.target}`" for c in checks) or "not checked"
        lines.append(f"{criterion} ({how})")
    return lines
