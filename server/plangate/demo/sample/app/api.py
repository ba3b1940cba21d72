"""The JSON API: handle(method, path, body) returns (status, payload)."""

import json
from urllib.parse import parse_qs, urlparse


class API:
    def __init__(self, conn):
        self.conn = conn

    def handle(self, method, path, body=b""):
        url = urlparse(path)
        parts = [part for part in url.path.split("/") if part]
        if parts == ["tasks"] and method == "GET":
            return self.list_tasks(parse_qs(url.query))
        if parts == ["tasks"] and method == "POST":
            return self.create_task(body)
        if len(parts) == 2 and parts[0] == "tasks" and method == "GET":
            return self.get_task(parts[1])
        return 404, {"error": "not found"}

    def list_tasks(self, query):
        rows = self.conn.execute("SELECT * FROM tasks ORDER BY id").fetchall()
        return 200, {"tasks": [dict(row) for row in rows]}

    def create_task(self, body):
        try:
            data = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return 400, {"error": "body must be JSON"}
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            return 400, {"error": "title is required"}
        cursor = self.conn.execute("INSERT INTO tasks (title) VALUES (?)", (title.strip(),))
        return 201, self._row(cursor.lastrowid)

    def get_task(self, task_id):
        if not task_id.isdigit():
            return 400, {"error": "id must be a number"}
        row = self._row(int(task_id))
        return (200, row) if row else (404, {"error": "not found"})

    def _row(self, task_id):
        row = self.conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return dict(row) if row else None
