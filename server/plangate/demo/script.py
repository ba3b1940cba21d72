"""What the scripted model does in the demo: a realistic backend-developer session.

Turns are picked by how many the model has already taken in the conversation, so the session
is the same however often it is retried or resumed. Over 350 lines because it is data: the
sample's source files held in strings, phase by phase.
"""

from __future__ import annotations

from typing import Any

from plangate.model.scripted import ScriptedTurn, ToolUse

TASK = (
    "Add task priorities (low, normal, high): store them, accept and validate them in "
    "POST /tasks, let GET /tasks filter by priority, cache the task list, and document the API."
)

PLAN: dict[str, Any] = {
    "title": "Task priorities",
    "summary": "Add a priority to tasks, validated and filterable, with a cached list and "
    "documentation.",
    "analysis": {
        "requirements": [
            "Tasks have a priority: low, normal (default) or high",
            "POST /tasks accepts and validates priority; GET /tasks?priority= filters",
        ],
        "schema_and_relationships": ["tasks gains priority TEXT NOT NULL DEFAULT 'normal'"],
        "performance": ["Index tasks.priority; cache list responses, cleared on writes"],
        "security": ["Reject unknown priorities with 400; queries stay parameterised"],
    },
    "phases": [
        {
            "name": "Database",
            "goal": "Store a priority for every task",
            "steps": [
                "Add the priority column with a default",
                "Index it",
                "Migrate existing databases",
            ],
            "files": ["app/db.py"],
            "migrations": ["ALTER TABLE tasks ADD COLUMN priority"],
            "acceptance_criteria": ["Existing tests pass", "Old databases are migrated"],
        },
        {
            "name": "API endpoints",
            "goal": "Accept, validate and filter priorities",
            "steps": [
                "Validate priority in POST /tasks",
                "Filter GET /tasks by priority",
                "Test both",
            ],
            "files": ["app/api.py", "tests/test_priority.py"],
            "acceptance_criteria": ["400 for an unknown priority", "Filtering works"],
        },
        {
            "name": "Optimisation",
            "goal": "Serve repeated list requests from a cache",
            "steps": ["Cache list responses per filter", "Clear the cache on every write"],
            "files": ["app/api.py"],
            "acceptance_criteria": [
                "Lists stay correct after writes",
                "The tests cover GET /tasks",
            ],
            "checks": [
                {"criterion": "The tests cover GET /tasks", "kind": "route", "target": "GET /tasks"}
            ],
        },
        {
            "name": "Documentation",
            "goal": "Document the API",
            "steps": ["Endpoints", "Error responses", "Examples"],
            "files": ["docs/API.md"],
            "acceptance_criteria": ["Every endpoint and error is documented"],
            "checks": [
                {
                    "criterion": "Every endpoint and error is documented",
                    "kind": "file",
                    "target": "docs/API.md",
                }
            ],
        },
    ],
    "risks": ["Clients sending unknown priorities now get 400"],
    "open_questions": [],
}

TEST_PRIORITY = """import json
import unittest

from app.api import API
from app.db import connect


class PriorityTest(unittest.TestCase):
    def setUp(self):
        self.api = API(connect())

    def post(self, **data):
        return self.api.handle("POST", "/tasks", json.dumps(data).encode())

    def test_default_priority_is_normal(self):
        status, task = self.post(title="Write docs")
        self.assertEqual((status, task["priority"]), (201, "normal"))

    def test_explicit_priorities(self):
        for priority in ("low", "normal", "high"):
            status, task = self.post(title=f"{priority} task", priority=priority)
            self.assertEqual((status, task.get("priority")), (201, priority))

    def test_unknown_priority_is_rejected(self):
        status, body = self.post(title="x", priority="urgent")
        self.assertEqual(status, 400)
        self.assertIn("priority", body["error"])

    def test_filter_sees_new_tasks(self):
        self.post(title="a", priority="high")
        self.post(title="b", priority="low")
        self.assertEqual(self.titles("/tasks?priority=high"), ["a"])
        self.post(title="c", priority="high")
        self.assertEqual(self.titles("/tasks?priority=high"), ["a", "c"])
        self.assertEqual(self.api.handle("GET", "/tasks?priority=urgent")[0], 400)

    def titles(self, path):
        return [task["title"] for task in self.api.handle("GET", path)[1]["tasks"]]
"""

TEST_CACHE = """import json
import unittest

from app.api import API
from app.db import connect


class CacheTest(unittest.TestCase):
    def test_a_write_clears_the_cached_list(self):
        api = API(connect())
        self.assertEqual(api.handle("GET", "/tasks")[1]["tasks"], [])
        api.handle("POST", "/tasks", json.dumps({"title": "new"}).encode())
        self.assertEqual([t["title"] for t in api.handle("GET", "/tasks")[1]["tasks"]], ["new"])
"""

DOCS = """# tasks-api

JSON over HTTP. Every error is `{"error": "<message>"}` with a 4xx status.

## GET /tasks

Lists tasks, oldest first. `?priority=low|normal|high` keeps one priority.

    200 {"tasks": [{"id": 1, "title": "Ship", "done": 0, "priority": "high"}]}
    400 {"error": "priority must be one of low, normal, high"}

## POST /tasks

Creates a task. `title` is required; `priority` is optional (default `normal`).

    curl -X POST localhost:8000/tasks -d '{"title": "Ship", "priority": "high"}'
    201 {"id": 1, "title": "Ship", "done": 0, "priority": "high"}
    400 {"error": "title is required"}

## GET /tasks/<id>

    200 {"id": 1, "title": "Ship", "done": 0, "priority": "high"}
    400 {"error": "id must be a number"}
    404 {"error": "not found"}
"""


def _edit(path: str, old: str, new: str, id: str) -> ToolUse:
    return ToolUse("edit", {"file_path": path, "old_string": old, "new_string": new}, id=id)


STEPS: list[ScriptedTurn] = [
    ScriptedTurn(
        text="I'll start with the layout of the project and its code.",
        tool_calls=[ToolUse("list", {}, id="d-list")],
    ),
    ScriptedTurn(
        text="Reading the storage layer, the API and its tests.",
        tool_calls=[
            ToolUse("read", {"file_path": "app/db.py"}, id="d-read-db"),
            ToolUse("read", {"file_path": "app/api.py"}, id="d-read-api"),
            ToolUse("read", {"file_path": "tests/test_api.py"}, id="d-read-tests"),
        ],
    ),
    ScriptedTurn(
        text="The schema has no priority and queries are parameterised. Checking how "
        "the tests run before I plan.",
        tool_calls=[
            ToolUse("bash", {"command": "ls tests && grep -n 'def ' app/api.py"}, id="d-grep")
        ],
    ),
    ScriptedTurn(text="Here is my plan.", tool_calls=[ToolUse("propose_plan", PLAN, id="d-plan")]),
    # Phase 1: database
    ScriptedTurn(
        text="Adding the column, its index and a migration.",
        tool_calls=[
            _edit(
                "app/db.py",
                "    done INTEGER NOT NULL DEFAULT 0\n);\n",
                "    done INTEGER NOT NULL DEFAULT 0,\n"
                "    priority TEXT NOT NULL DEFAULT 'normal'\n);\n"
                "CREATE INDEX IF NOT EXISTS tasks_priority ON tasks (priority);\n",
                id="d-db1",
            ),
            _edit(
                "app/db.py",
                "    conn.executescript(SCHEMA)\n    return conn\n",
                "    migrate(conn)\n    return conn\n\n\ndef migrate(conn):\n"
                '    """Bring an existing database up to date (adds the priority column)."""\n'
                '    columns = {row[1] for row in conn.execute("PRAGMA table_info(tasks)")}\n'
                '    if columns and "priority" not in columns:\n'
                '        conn.execute("ALTER TABLE tasks ADD COLUMN priority TEXT NOT NULL '
                "DEFAULT 'normal'\")\n"
                "    conn.executescript(SCHEMA)\n",
                id="d-db2",
            ),
        ],
    ),
    ScriptedTurn(
        tool_calls=[
            ToolUse(
                "complete_phase",
                {
                    "summary": "tasks.priority added (default normal, indexed); old databases are migrated."
                },
                id="d-done1",
            )
        ]
    ),
    # Phase 2: API endpoints (with a typo that validation catches)
    ScriptedTurn(
        text="Tests first, then validation and filtering.",
        tool_calls=[
            ToolUse(
                "write",
                {"file_path": "tests/test_priority.py", "content": TEST_PRIORITY},
                id="d-test",
            ),
            _edit(
                "app/api.py",
                "\n\nclass API:\n",
                '\n\nPRIORITIES = ("low", "nomral", "high")\n\n\nclass API:\n',
                id="d-api1",
            ),
            _edit(
                "app/api.py",
                '        cursor = self.conn.execute("INSERT INTO tasks (title) VALUES (?)", '
                "(title.strip(),))\n",
                '        priority = data.get("priority", "normal")\n'
                "        if priority not in PRIORITIES:\n"
                '            return 400, {"error": f"priority must be one of {\', \'.join(PRIORITIES)}"}\n'
                "        cursor = self.conn.execute(\n"
                '            "INSERT INTO tasks (title, priority) VALUES (?, ?)", '
                "(title.strip(), priority)\n        )\n",
                id="d-api2",
            ),
            _edit(
                "app/api.py",
                '        rows = self.conn.execute("SELECT * FROM tasks ORDER BY id").fetchall()\n',
                '        priority = query.get("priority", [None])[0]\n'
                "        if priority is None:\n"
                '            rows = self.conn.execute("SELECT * FROM tasks ORDER BY id").fetchall()\n'
                "        elif priority in PRIORITIES:\n"
                "            rows = self.conn.execute(\n"
                '                "SELECT * FROM tasks WHERE priority = ? ORDER BY id", (priority,)\n'
                "            ).fetchall()\n"
                "        else:\n"
                '            return 400, {"error": f"priority must be one of {\', \'.join(PRIORITIES)}"}\n',
                id="d-api3",
            ),
        ],
    ),
    ScriptedTurn(
        text="Turning on debug logging for local runs.",
        tool_calls=[ToolUse("write", {"file_path": ".env", "content": "DEBUG=1\n"}, id="d-env")],
    ),
    ScriptedTurn(
        text="Committing this phase.",
        tool_calls=[
            ToolUse(
                "bash",
                {"command": "git add -A && git commit -m 'Add task priorities'"},
                id="d-commit",
            )
        ],
    ),
    ScriptedTurn(
        tool_calls=[
            ToolUse(
                "complete_phase",
                {
                    "summary": "POST /tasks validates priority; GET /tasks filters by it; tests added."
                },
                id="d-done2a",
            )
        ]
    ),
    ScriptedTurn(
        text="The failing test shows 'normal' is misspelled in PRIORITIES.",
        tool_calls=[_edit("app/api.py", '"nomral"', '"normal"', id="d-fix")],
    ),
    ScriptedTurn(
        tool_calls=[
            ToolUse(
                "complete_phase",
                {"summary": "Fixed the misspelled priority; validation and filtering pass."},
                id="d-done2b",
            )
        ]
    ),
    # Phase 3: optimisation
    ScriptedTurn(
        text="Caching list responses per filter, cleared on every write.",
        tool_calls=[
            _edit(
                "app/api.py",
                "        self.conn = conn\n",
                "        self.conn = conn\n"
                "        # List responses by priority filter; cleared on every write.\n"
                "        self._cache = {}\n",
                id="d-cache1",
            ),
            _edit(
                "app/api.py",
                '        priority = query.get("priority", [None])[0]\n        if priority is None:\n',
                '        priority = query.get("priority", [None])[0]\n'
                "        if priority in self._cache:\n"
                "            return 200, self._cache[priority]\n"
                "        if priority is None:\n",
                id="d-cache2",
            ),
            _edit(
                "app/api.py",
                '        return 200, {"tasks": [dict(row) for row in rows]}\n',
                '        payload = {"tasks": [dict(row) for row in rows]}\n'
                "        self._cache[priority] = payload\n"
                "        return 200, payload\n",
                id="d-cache3",
            ),
            _edit(
                "app/api.py",
                "(title.strip(), priority)\n        )\n",
                "(title.strip(), priority)\n        )\n        self._cache.clear()\n",
                id="d-cache4",
            ),
        ],
    ),
    # Outside what phase 3 declared: a plan amendment the user approves first.
    ScriptedTurn(
        text="A stale cache would be a silent bug, so the invalidation needs a test of its own: "
        "tests/test_cache.py.",
        tool_calls=[
            ToolUse(
                "write",
                {"file_path": "tests/test_cache.py", "content": TEST_CACHE},
                id="d-cache-test",
            )
        ],
    ),
    ScriptedTurn(
        tool_calls=[
            ToolUse(
                "complete_phase",
                {
                    "summary": "GET /tasks responses are cached per filter and invalidated on writes."
                },
                id="d-done3",
            )
        ]
    ),
    # Phase 4: documentation
    ScriptedTurn(
        text="Documenting the endpoints, errors and examples.",
        tool_calls=[ToolUse("write", {"file_path": "docs/API.md", "content": DOCS}, id="d-docs")],
    ),
    ScriptedTurn(
        tool_calls=[
            ToolUse(
                "complete_phase",
                {"summary": "docs/API.md documents every endpoint, error and an example."},
                id="d-done4",
            )
        ]
    ),
    ScriptedTurn(text="All four phases are done."),
]


# How the engine asks for a revised plan (the plan, or one phase of it).
REVISION_ASKED = (
    "Revise it and call propose_plan again",
    "Call propose_plan with the revised plan",
)


def demo_model(body: dict[str, Any]) -> ScriptedTurn:
    """The scripted model's next turn for a request: the script's, or a revised plan when the
    user asked for one (its phases then run as scripted)."""
    taken = sum(1 for message in body["messages"] if message["role"] == "assistant")
    last = str(body["messages"][-1]["content"])
    if any(asked in last for asked in REVISION_ASKED):
        return ScriptedTurn(
            text="Revising the plan as you asked.",
            tool_calls=[ToolUse("propose_plan", PLAN, id=f"d-revised-{taken}")],
        )
    return STEPS[min(taken, len(STEPS) - 1)]
