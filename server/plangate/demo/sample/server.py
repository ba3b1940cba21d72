"""Serve the API over HTTP on 127.0.0.1:8000."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.api import API
from app.db import connect

api = API(connect("tasks.db"))


class Handler(BaseHTTPRequestHandler):
    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(*api.handle("GET", self.path))

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self._send(*api.handle("POST", self.path, self.rfile.read(length)))


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
