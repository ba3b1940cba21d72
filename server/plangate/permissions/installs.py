"""Which dependency folders a command's own package manager writes when it installs.

An agent's rules often deny edits in `node_modules/` (nobody should patch a dependency by
hand), but `npm install` must write there. The copy-on-write workspace (tools/merge.py) keeps a
command's writes in the folders named here although the rules deny them, when the command line
itself runs the package manager's install (`npm ci`, `pnpm add x`, `pip install -r r.txt`).
"""

from __future__ import annotations

from plangate.permissions.commands import unwrap
from plangate.permissions.shell import analyse

_NODE = frozenset({"npm", "pnpm", "yarn", "bun"})
_NODE_INSTALLS = frozenset(
    "install i ci add update up upgrade uninstall remove rm un r prune dedupe rebuild link".split()
)
_PYTHON = frozenset({"pip", "pip3", "uv", "poetry", "pipenv", "pdm"})
_PYTHON_INSTALLS = frozenset("install uninstall sync add remove lock update".split())
NODE_FOLDERS = frozenset({"node_modules"})
PYTHON_FOLDERS = frozenset({".venv", "venv"})


def _subcommand(words: list[str]) -> str | None:
    """The first word after the program that is not an option."""
    return next((word for word in words[1:] if not word.startswith("-")), None)


def dependency_folders(command: str, cwd: str | None) -> frozenset[str]:
    """Names of the dependency folders `command` installs into; empty when it installs nothing.

    A bare `yarn` installs; `uv pip install` and `python -m pip install` count as pip."""
    folders: set[str] = set()
    for simple in analyse(command, cwd).commands:
        for invocation in unwrap(simple).invocations:
            words = [word.text for word in invocation.argv]
            program = invocation.program.rsplit("/", 1)[-1]
            if program.startswith("python") and words[1:3] == ["-m", "pip"]:
                program, words = "pip", words[2:]
            if program == "uv" and _subcommand(words) == "pip":
                words = words[1:]
            sub = _subcommand(words)
            if program in _NODE and (sub in _NODE_INSTALLS or (program == "yarn" and sub is None)):
                folders |= NODE_FOLDERS
            elif program in _PYTHON and sub in _PYTHON_INSTALLS:
                folders |= PYTHON_FOLDERS
    return frozenset(folders)
