"""The server's features, one module each; every module has `register(server)`, which adds
its handlers (`app.create_server` calls them in order)."""
