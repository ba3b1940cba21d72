"""The terminal front door: prompts for the engine's questions, and a readable transcript."""
