"""The bundled agents ship inside the wheel and are found from an installed wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_and_finds_the_bundled_agents(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    [wheel] = (tmp_path / "dist").glob("plangate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "plangate/bundled_agents/backend-developer.md" in names
    assert "plangate/model/models.toml" in names
    assert "plangate/demo/sample/app/api.py" in names  # the demo's sample ships too
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import plangate; from plangate.agents.discovery import bundled_agents_dir, discover;"
        "print(plangate.__file__); print(bundled_agents_dir());"
        "print(sorted(discover(None).agents))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(site)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    ).stdout.splitlines()
    assert out[0].startswith(str(site))
    assert out[1] == str(site / "plangate" / "bundled_agents")
    assert out[2] == "['backend-developer']"
    shipped = site / "plangate" / "bundled_agents" / "backend-developer.md"
    assert shipped.read_bytes() == (ROOT / "agents" / "backend-developer.md").read_bytes()
