"""How the agent thinks: the provider interface (`types`), Anthropic's API (`anthropic`),
provider construction (`factory`), usage and cost, context management, and the scripted
Messages API server. Nothing is imported here: the SDK is heavy, and the language server must
start fast."""
