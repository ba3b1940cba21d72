"""MCP (Model Context Protocol) servers as a client: configured where users keep them,
started for a session, their tools held to the same gates and rules as the built-in ones."""
