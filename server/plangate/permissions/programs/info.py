"""Read-only programs that read no file operand: they print what they are given or what they
know (echo, pwd, date, id, env, ...), and the shell's directory builtins.

They are allowed without asking when no rule names them. `cd` and `pushd` read the folder
they go to (a folder outside the workspace asks). Some options change the system or run
something: `date -s`, `hostname NAME`; `command` is read-only only as `command -v`/`-V` (the
command it runs otherwise is checked as a command of its own).
"""

from __future__ import annotations

from plangate.permissions.invocation import Effects, operands_of
from plangate.permissions.options import has_flag
from plangate.permissions.programs.base import Program, read_operands
from plangate.permissions.words import Word


def _date_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    if has_flag(texts, ("-s", "--set")):
        out.read_only = False


def _hostname_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    if operands_of(args):
        out.read_only = False


def _command_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    out.read_only = out.read_only and texts[:1] in (["-v"], ["-V"])


PROGRAMS = (
    Program(
        names=tuple(
            """pwd echo printf which type df tr basename dirname whoami id uname true false
            test [ seq popd printenv locale nproc uptime free env expr sleep : trap
            shopt""".split()
        ),
        read_only=True,
    ),
    Program(names=("cd", "pushd"), read_only=True, reads=read_operands()),
    # `date -f F` reads dates from F, and prints the lines it cannot read: F's content.
    Program(
        names=("date",),
        read_only=True,
        reads=read_operands(("-d", "--date", "-r", "--reference"), file_options=("-f", "--file")),
        guard=_date_guard,
    ),
    Program(names=("hostname",), read_only=True, guard=_hostname_guard),
    Program(names=("command",), read_only=True, guard=_command_guard),
)
