"""The layers hold: `lsp/` has no import circle, the engine never imports a front door, and
building the language server loads none of the engine.

Imports are read from the source (AST), wherever they are: module level, inside functions
(the lazy imports) and under `if TYPE_CHECKING:` alike, since a circle through type-only
imports is still a circle in the design.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

SOURCES = Path(__file__).resolve().parents[2] / "server"
PACKAGE = SOURCES / "plangate"
FRONT_DOORS = ("plangate.lsp", "plangate.terminal", "plangate.cli", "plangate.demo")
# `python -m plangate` is the command line's own entry point.
ENTRY_POINTS = {"plangate.__main__"}
ENGINE = ("plangate.workflow", "plangate.model", "plangate.tools", "plangate.permissions")


def _name(path: Path) -> str:
    parts = list(path.relative_to(SOURCES).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def imports(module: str) -> set[str]:
    """Every plangate module `module` imports, resolved to the most specific module known
    (`from plangate.lsp import agentfiles` is plangate.lsp.agentfiles)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return {name for name in found if _within(name, "plangate")}


def lsp_graph() -> dict[str, set[str]]:
    """plangate.lsp's modules and the plangate.lsp modules each imports."""
    lsp = {m for m in MODULES if _within(m, "plangate.lsp")}
    return {m: {i for i in imports(m) if i in lsp and i != m} for m in sorted(lsp)}


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = lsp_graph()
    assert "plangate.lsp.server" in graph["plangate.lsp.app"]  # module level
    assert "plangate.lsp.ports" in graph["plangate.lsp.sessions"]  # under TYPE_CHECKING
    assert "plangate.lsp.agentfiles" in graph["plangate.lsp.features.agent_files"]  # lazy
    assert "plangate.lsp.features.requests" in graph["plangate.lsp.features.commands"]


def test_lsp_has_no_import_circle() -> None:
    try:
        order = list(TopologicalSorter(lsp_graph()).static_order())
    except CycleError as error:
        circle = " -> ".join(error.args[1])
        raise AssertionError(f"import circle in plangate.lsp: {circle}") from None
    assert len(order) == len(lsp_graph())


def test_only_front_doors_import_front_doors() -> None:
    wrong = {
        module: sorted(i for i in imports(module) if any(_within(i, d) for d in FRONT_DOORS))
        for module in MODULES
        if module not in ENTRY_POINTS and not any(_within(module, d) for d in FRONT_DOORS)
    }
    assert not {m: i for m, i in wrong.items() if i}, "the engine imports a front door"
    assert any(_within(m, "plangate.workflow") for m in wrong)  # the check saw the engine


def test_building_the_server_loads_none_of_the_engine() -> None:
    """`plangate serve` answers `initialize` before the engine and the SDK load (they load in
    a background thread after it): creating the server and its features must not import them."""
    script = (
        "import sys\n"
        "from plangate.lsp.app import create_server\n"
        "create_server()\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    heavy = ("pydantic", "anthropic", "plangate.agents", *ENGINE)
    assert not [m for m in loaded if any(_within(m, h) for h in heavy)]
