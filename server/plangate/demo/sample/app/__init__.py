"""tasks-api: a tiny JSON API over SQLite."""
