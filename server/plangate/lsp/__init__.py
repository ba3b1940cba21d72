"""The language server: the editor's front door to the engine."""
