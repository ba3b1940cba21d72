"""PlanGate's small C helpers, built once per process with the machine's C compiler.

A helper saves process starts on every command (the exec-time guard runs on every exec of a
guarded program; the overlay mount on every command). Where there is no working compiler each
caller has a slower way that needs none, so a missing compiler costs time, never protection.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

BUILD_TIMEOUT = 60  # seconds for the compiler


@functools.cache
def _build(source: str, defines: tuple[str, ...]) -> str | None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    path = Path(__file__).with_name(source)
    if compiler is None or not path.is_file():
        return None
    target = os.path.join(tempfile.mkdtemp(prefix="plangate-bin-"), path.stem)
    for static in (["-static"], []):
        argv = [compiler, "-O2", *static, *(f"-D{define}" for define in defines)]
        try:
            done = subprocess.run(
                [*argv, "-o", target, str(path)], capture_output=True, timeout=BUILD_TIMEOUT
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode == 0:
            return target
    log.info("%s did not build; the slower way without it is used", source)
    return None


def compiled(source: str, *defines: str) -> str | None:
    """The binary built from `source` (a C file beside this module, static when the C library
    allows), or None without a working compiler. A long-running server's /tmp may be cleaned
    under it: a vanished build is built again."""
    binary = _build(source, defines)
    if binary is not None and not os.path.exists(binary):
        _build.cache_clear()
        binary = _build(source, defines)
    return binary
