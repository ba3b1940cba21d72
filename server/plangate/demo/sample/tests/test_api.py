import json
import unittest

from app.api import API
from app.db import connect


class APITest(unittest.TestCase):
    def setUp(self):
        self.api = API(connect())

    def test_create_and_get(self):
        status, task = self.api.handle("POST", "/tasks", json.dumps({"title": "Ship"}).encode())
        self.assertEqual(status, 201)
        status, same = self.api.handle("GET", f"/tasks/{task['id']}")
        self.assertEqual((status, same["title"]), (200, "Ship"))

    def test_list(self):
        self.api.handle("POST", "/tasks", b'{"title": "a"}')
        self.api.handle("POST", "/tasks", b'{"title": "b"}')
        status, body = self.api.handle("GET", "/tasks")
        self.assertEqual([t["title"] for t in body["tasks"]], ["a", "b"])

    def test_errors(self):
        self.assertEqual(self.api.handle("GET", "/tasks/99")[0], 404)
        self.assertEqual(self.api.handle("POST", "/tasks", b"not json")[0], 400)
        self.assertEqual(self.api.handle("POST", "/tasks", b"{}")[0], 400)
