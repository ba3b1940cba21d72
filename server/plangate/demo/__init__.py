"""The offline demo: a scripted backend-developer session on a sample API."""
