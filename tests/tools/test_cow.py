"""The copy-on-write workspace, through the real bash tool: a command's changes are applied when
it ends, those the edit rules deny are discarded and reported, however the command made them.

Each command here is spelled so the static check cannot see the write (inline Python), so
what stops it is the layer, not the text."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plangate.permissions.installs import dependency_folders
from plangate.tools import ToolContext, overlay
from plangate.tools.base import ToolResult
from plangate.tools.bash import BashTool
from plangate.tools.overlay import Layer, layers_folder, new_layer
from plangate.tools.sandbox import support

from .conftest import run

BASH = BashTool()


@pytest.fixture
def cow(bwrap: str, workspace: Path) -> None:
    """Commands run over a copy-on-write layer here, or the test says why not."""
    machine = support(workspace)
    if not machine.usable:
        pytest.skip(f"no copy-on-write workspace on this machine: {machine.problem}")


def bash(ctx: ToolContext, command: str, **extra: Any) -> ToolResult:
    result = run(BASH.run({"command": command, **extra}, ctx))
    assert result.data["sandboxed"], result.text
    return result


def python(code: str) -> str:
    """A command running `code` in Python: a write the static check cannot read."""
    return f"python3 -c {code!r}"


def discarded(result: ToolResult) -> dict[str, str]:
    return {item["path"]: item["reason"] for item in result.data["discarded"]}


def test_new_files_matching_denied_patterns_are_discarded(
    cow: None, ctx: ToolContext, workspace: Path
) -> None:
    code = (
        "import os; open('.env.local','w').write('X=1'); os.makedirs('pkg/node_modules');"
        "open('pkg/node_modules/y','w').write('y'); open('ok.txt','w').write('ok')"
    )
    result = bash(ctx, python(code))
    assert not result.is_error, result.text
    assert not (workspace / ".env.local").exists()
    assert not (workspace / "pkg" / "node_modules").exists()
    assert (workspace / "ok.txt").read_text() == "ok"
    gone = discarded(result)
    assert set(gone) == {".env.local", "pkg/node_modules"}, gone
    assert "`**/*.env*` (agents/backend-developer.md:25)" in gone[".env.local"]
    assert "[PlanGate: discarded the command's change to .env.local: " in result.text
    assert result.data["changed"] == ["ok.txt"]


def test_renaming_a_protected_parent_and_recreating_it(
    cow: None, ctx: ToolContext, workspace: Path
) -> None:
    config = workspace / "config"
    config.mkdir()
    (config / "app.secret").write_text("SAFE")
    (config / "settings.txt").write_text("s")
    code = (
        "import os, shutil; shutil.move('config', 'cfg'); os.mkdir('config');"
        "open('config/app.secret', 'w').write('PWNED')"
    )
    result = bash(ctx, python(code))
    assert (config / "app.secret").read_text() == "SAFE"
    assert not (config / "settings.txt").exists()  # moved: allowed
    assert (workspace / "cfg" / "settings.txt").read_text() == "s"
    assert not (workspace / "cfg" / "app.secret").exists()  # a new file a deny rule matches
    gone = discarded(result)
    assert set(gone) == {"cfg/app.secret", "config/app.secret"}, gone


def test_deleting_a_folder_keeps_its_denied_files(
    cow: None, ctx: ToolContext, workspace: Path
) -> None:
    src = workspace / "src"
    (src / "deep").mkdir(parents=True)
    (src / "a.py").write_text("a")
    (src / "deep" / "b.py").write_text("b")
    (src / "deep" / ".env").write_text("SAFE")
    result = bash(ctx, python("import shutil; shutil.rmtree('src')"))
    assert sorted(p.relative_to(src).as_posix() for p in src.rglob("*")) == [
        "deep",
        "deep/.env",
    ]
    assert (src / "deep" / ".env").read_text() == "SAFE"
    assert discarded(result)["src/deep/.env"].startswith("not deleted: edit of `src/deep/.env`")
    assert sorted(result.data["changed"]) == ["src/a.py", "src/deep/b.py"]


def test_a_denied_file_deep_in_a_huge_workspace_is_protected(
    cow: None, ctx: ToolContext, workspace: Path
) -> None:
    """The old sandbox walked at most 200,000 entries to find what to protect; there is no
    walk now, so a denied file anywhere is protected."""
    bulk = workspace / "bulk"
    bulk.mkdir()
    for index in range(200_050):
        os.close(os.open(bulk / str(index), os.O_CREAT | os.O_WRONLY, 0o644))
    (workspace / "zz").mkdir()
    (workspace / "zz" / ".env").write_text("SAFE")
    result = bash(ctx, python("open('zz/.env', 'w').write('PWNED')"))
    assert (workspace / "zz" / ".env").read_text() == "SAFE"
    assert set(discarded(result)) == {"zz/.env"}  # the cost at this size: bench/commands.py


def test_a_symlink_made_then_written_through(cow: None, ctx: ToolContext, workspace: Path) -> None:
    (workspace / ".env").write_text("SAFE")
    result = bash(ctx, python("import os; os.symlink('.env', 'link'); open('link','w').write('X')"))
    assert (workspace / ".env").read_text() == "SAFE"
    assert not os.path.lexists(workspace / "link")
    gone = discarded(result)
    assert set(gone) == {".env", "link"}, gone
    assert gone["link"].startswith("a link to .env, which edit of `.env`")


def test_a_file_the_user_changes_meanwhile_keeps_the_users_version(
    cow: None, ctx: ToolContext, workspace: Path
) -> None:
    (workspace / "a.txt").write_text("v1")
    printed = asyncio.Event()

    def on_output(_stream: str, text: str) -> None:
        if "go" in text:
            printed.set()

    ctx.on_output = on_output

    async def scenario() -> ToolResult:
        task = asyncio.create_task(
            BASH.run({"command": "echo go; sleep 1; echo agent > a.txt; echo b > b.txt"}, ctx)
        )
        await asyncio.wait_for(printed.wait(), 30)
        (workspace / "a.txt").write_text("user")  # saved in the editor while it runs
        return await asyncio.wait_for(task, 60)

    result = asyncio.run(scenario())
    assert (workspace / "a.txt").read_text() == "user"
    assert (workspace / "b.txt").read_text() == "b\n"
    assert discarded(result) == {
        "a.txt": "the file changed while the command ran (kept as it is now)"
    }


def test_replacements_of_every_kind(cow: None, ctx: ToolContext, workspace: Path) -> None:
    """A folder replaced by a new one (opaque, at any depth), a file by a folder, a folder by a
    file, a mode changed, a file touched but unchanged."""
    (workspace / "sub" / "inner").mkdir(parents=True)
    (workspace / "sub" / "inner" / "old").write_text("old")
    (workspace / "sub" / "keep").write_text("k")
    (workspace / "f").write_text("file")
    (workspace / "d").mkdir()
    (workspace / "d" / "x").write_text("x")
    (workspace / "run.sh").write_text("echo\n")
    (workspace / "same").write_text("same")
    command = (
        "rm -r sub && mkdir -p sub/inner && echo new > sub/inner/new"
        " && rm f && mkdir f && echo in > f/in"
        " && rm -r d && echo now-a-file > d"
        " && chmod +x run.sh && touch same"
    )
    result = bash(ctx, command)
    assert not result.is_error and result.data["discarded"] == [], result.text
    found = sorted(
        p.relative_to(workspace).as_posix()
        for p in workspace.rglob("*")
        if ".plangate" not in p.parts
    )
    assert found == ["d", "f", "f/in", "run.sh", "same", "sub", "sub/inner", "sub/inner/new"]
    assert (workspace / "d").read_text() == "now-a-file\n"
    assert os.access(workspace / "run.sh", os.X_OK)
    assert "same" not in result.data["changed"]


def test_a_timed_out_command_keeps_what_it_did(
    cow: None, ctx: ToolContext, workspace: Path
) -> None:
    result = bash(ctx, "echo a > a.txt; sleep 30", timeout=1)
    assert result.data["timed_out"]
    assert (workspace / "a.txt").read_text() == "a\n"


def test_layers_of_a_dead_plangate_are_removed(cow: None, workspace: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=10)
    abandoned = Layer(layers_folder(workspace) / f"{dead.pid}-0123456789ab")
    (abandoned.upper).mkdir(parents=True)
    (abandoned.upper / "x").write_text("never applied")
    fresh = new_layer(workspace)
    try:
        assert not abandoned.folder.exists()
        assert fresh.upper.is_dir()
    finally:
        fresh.remove()


def test_the_package_managers_install_may_write_its_dependency_folder(
    cow: None, ctx: ToolContext, workspace: Path
) -> None:
    """The seed agent denies edits in node_modules/; `npm install` writes there all the same."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the install case is not checked")
    (workspace / "dep").mkdir()
    (workspace / "dep" / "package.json").write_text('{"name": "dep", "version": "1.0.0"}')
    (workspace / "package.json").write_text(
        '{"name": "app", "version": "1.0.0", "dependencies": {"dep": "file:./dep"}}'
    )
    result = bash(
        ctx, "npm install --offline --no-audit --no-fund --install-links=false", timeout=120
    )
    assert not result.is_error, result.text
    assert os.path.lexists(workspace / "node_modules" / "dep"), result.text
    assert (workspace / "package-lock.json").exists()
    assert result.data["discarded"] == []


@pytest.mark.parametrize(
    ("command", "folders"),
    [
        ("npm ci", {"node_modules"}),
        ("cd web && pnpm add left-pad", {"node_modules"}),
        ("yarn", {"node_modules"}),
        ("npm test", set()),
        ("pip install -r requirements.txt", {".venv", "venv"}),
        ("python3 -m pip install x", {".venv", "venv"}),
        ("uv pip install x", {".venv", "venv"}),
        ("echo install > node_modules/x", set()),
    ],
)
def test_dependency_folders(command: str, folders: set[str]) -> None:
    assert dependency_folders(command, "/w") == folders


def test_without_a_c_compiler_util_linux_mounts_the_layer(
    cow: None, ctx: ToolContext, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled helper only saves process starts: `unshare` and `mount` do the same."""
    monkeypatch.setattr(overlay, "compiled", lambda *_: None)
    found = overlay.tools()
    assert found is not None and found.helper is None
    assert support(workspace).mounter == found
    result = bash(ctx, python("open('.env.local','w').write('X'); open('ok.txt','w').write('ok')"))
    assert set(discarded(result)) == {".env.local"}
    assert (workspace / "ok.txt").read_text() == "ok" and not (workspace / ".env.local").exists()
