"""`plangate doctor`: what protection this machine gives the commands the agent runs.

One line per check, then the mode that follows from them. It reports and never fails: the exit
status is 0 whatever it finds, since a machine without a sandbox is still usable (commands are
asked), and the point is to say so before a session does.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TextIO

from plangate.tools.base import ToolError
from plangate.tools.reaper import death_signal_setter
from plangate.tools.sandbox import Support, Unsandboxed, probe, support, unsandboxed_setting
from plangate.tools.search import rg_binary

VERSION_TIMEOUT = 10  # seconds for a `--version`
# Where the kernel says whether unprivileged user namespaces are allowed (Debian's switch and
# the general limit; Ubuntu's AppArmor switch), shown when bwrap cannot use them.
USERNS_SETTINGS = (
    "/proc/sys/kernel/unprivileged_userns_clone",
    "/proc/sys/user/max_user_namespaces",
    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
)


def _version(program: str) -> str:
    """The first line `program --version` prints, or why there is none."""
    try:
        done = subprocess.run(
            [program, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"version unknown: {exc}"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "version unknown"


def _kernel_userns() -> str:
    """The kernel's user namespace settings that exist here, as `name=value`."""
    found = []
    for setting in USERNS_SETTINGS:
        try:
            value = Path(setting).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        found.append(f"{setting.rsplit('/', 1)[1]}={value}")
    return ", ".join(found) if found else "no settings readable"


def _sandbox_checks(machine: Support) -> list[tuple[str, str]]:
    if machine.bwrap is None:
        return [
            ("bubblewrap", "not found: install the bubblewrap package"),
            ("user namespaces", f"not checked: no bubblewrap (kernel: {_kernel_userns()})"),
            ("copy-on-write", "not checked: no bubblewrap"),
            ("network isolation", "not possible: no sandbox"),
        ]
    lines = [("bubblewrap", f"found: {machine.bwrap} ({_version(machine.bwrap)})")]
    userns = probe(machine.bwrap)
    if userns is not None:
        lines.append(("user namespaces", f"not usable: {userns} (kernel: {_kernel_userns()})"))
        lines.append(("copy-on-write", "not checked: no sandbox"))
        lines.append(("network isolation", "not possible: no sandbox"))
        return lines
    lines.append(("user namespaces", "usable: bwrap built a sandbox"))
    if not machine.usable:
        lines.append(("copy-on-write", f"not usable: {machine.problem}"))
        lines.append(("network isolation", "not possible: no sandbox"))
        return lines
    lines.append(("copy-on-write", "usable: commands write to an overlay, merged when they end"))
    offline = probe(machine.bwrap, network=False)
    lines.append(
        (
            "network isolation",
            "possible: agents with `network: false` run without network"
            if offline is None
            else f"not possible: {offline}",
        )
    )
    return lines


def _setpriv() -> str:
    setter = death_signal_setter()
    if setter is None:
        return "not used: not Linux, only the watchdog kills commands when PlanGate dies"
    if setter == "prctl":
        return (
            "not found: prctl in the child gives commands SIGKILL when PlanGate dies, but each "
            "start copies the server first (install util-linux)"
        )
    return f"found: {setter} ({_version(setter)}): commands get SIGKILL when PlanGate dies"


def _program(name: str, needed_for: str) -> str:
    found = shutil.which(name)
    if found is None:
        return f"not found: {needed_for}"
    return f"found: {found} ({_version(found)})"


def _ripgrep() -> str:
    try:
        found = rg_binary()
    except ToolError as exc:
        return f"not found: {exc}"
    return f"found: {found} ({_version(found)})"


def diagnose(workspace: Path) -> list[tuple[str, str]]:
    """(check, finding) pairs for this machine and `workspace`'s config, the mode last."""
    machine = support(workspace)
    setting, source = unsandboxed_setting(workspace)
    lines = [
        *_sandbox_checks(machine),
        ("setpriv", _setpriv()),
        ("git", _program("git", "checkpoints and rollback need git")),
        ("ripgrep", _ripgrep()),
        ("unsandboxed", f"{setting.value}: {source}"),
    ]
    if machine.usable:
        mode = "commands run sandboxed"
    elif setting is Unsandboxed.ALLOW:
        mode = (
            'no sandbox: commands the rules allow run unprotected, unasked (unsandboxed = "allow")'
        )
    else:
        mode = "no sandbox: every command that is not read-only is asked"
    lines.append(("mode", mode))
    return lines


def report(workspace: Path, out: TextIO) -> int:
    """Print one line per check to `out`; the exit status, always 0."""
    lines = diagnose(workspace)
    width = max(len(check) for check, _ in lines) + 1
    for check, finding in lines:
        print(f"{check + ':':<{width}} {finding}", file=out)
    return 0
