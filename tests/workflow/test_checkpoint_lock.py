"""Checkpoints on one workspace from many sessions and servers at once: every snapshot lands
(issue 14, item 6). Without the store's lock, git failed half of them with `index.lock: File
exists` or `cannot lock ref 'HEAD'`, and two first snapshots raced in `git init`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from plangate.workflow.checkpoints import Checkpoints

ROOT = Path(__file__).resolve().parents[2]


def test_twenty_snapshots_at_once_in_one_process(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.py").write_text("x = 1\n")
    with ThreadPoolExecutor(max_workers=20) as pool:
        commits = list(pool.map(lambda i: Checkpoints(workspace).snapshot(f"s{i}"), range(20)))
    assert len(set(commits)) == 20
    assert len(Checkpoints(workspace).list()) == 20  # one chain: every snapshot is in it


def test_snapshots_from_four_processes_at_once(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.py").write_text("x = 1\n")
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from plangate.workflow.checkpoints import Checkpoints
        for i in range(5):
            Checkpoints(Path({str(workspace)!r})).snapshot(f"p{{i}}")
        """
    )
    env = {"PYTHONPATH": str(ROOT / "server"), "PATH": "/usr/bin:/bin"}
    processes = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    assert len(Checkpoints(workspace).list()) == 20
