"""docs/protocol.md is what the models generate, and covers every plangate/ method."""

from __future__ import annotations

from pathlib import Path

from plangate.lsp.methods import METHODS, render_docs

ROOT = Path(__file__).resolve().parents[2]


def test_protocol_docs_are_generated_from_the_models() -> None:
    assert (ROOT / "docs" / "protocol.md").read_text() == render_docs(), (
        "docs/protocol.md is stale: run `python -m plangate.lsp.methods > docs/protocol.md`"
    )


def test_every_method_the_server_handles_is_documented_with_an_example() -> None:
    from plangate.lsp.app import create_server

    features = create_server().protocol.fm.features
    handled = {name for name in features if name.startswith("plangate/")}
    documented = {m.name for m in METHODS}
    assert handled <= documented, handled - documented
    for method in METHODS:
        assert method.params is not None or method.result is not None, method.name
        if method.params is None:
            continue
        assert method.example, method.name
        if method.direction == "request":  # the example is valid input
            method.params.model_validate(method.example)
