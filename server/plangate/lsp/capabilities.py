"""What a client declares it handles beyond LSP: `capabilities.experimental.plangate` at
`initialize` (docs/protocol.md): `reviewEdit` (diffs answered hunk by hunk) and `sessionChanged`
(it shows the notifications; others are told the important moments as messages)."""

from __future__ import annotations

from lsprotocol import types


def declares(capabilities: types.ClientCapabilities, feature: str) -> bool:
    """True when the client set `experimental.plangate.<feature>` to true."""
    experimental = capabilities.experimental
    plangate = experimental.get("plangate") if isinstance(experimental, dict) else None
    return isinstance(plangate, dict) and plangate.get(feature) is True
