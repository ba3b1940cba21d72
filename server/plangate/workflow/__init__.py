"""The plan-gated workflow engine: the seed's rules, enforced. Knows nothing of LSP or
terminals: front doors answer its `Approvals` questions and follow its events."""
