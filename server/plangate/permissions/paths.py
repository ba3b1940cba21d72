"""Path resolution for permission checks.

A path is checked where it lexically points (after `~`, `.`, `..`, `//` and absolute paths
inside the workspace are normalised) and where it really points once symlinks are followed;
the stricter answer wins, so a link is denied if either the link or its target is.
"""

from __future__ import annotations

import glob
import itertools
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where a path points: workspace-relative when inside, absolute when outside."""

    path: str
    inside: bool

    @property
    def key(self) -> str:
        """The string rules are matched against (absolute paths lose their leading slash)."""
        return self.path if self.inside else self.path.lstrip("/")


class Workspace:
    """The folder the agent works in, as given and with symlinks resolved."""

    def __init__(self, root: Path) -> None:
        self.root = posixpath.normpath(str(root.absolute()))
        self.real_root = os.path.realpath(self.root)

    def locate(self, path: str, cwd: str | None = None) -> list[Location]:
        """The lexical location of `path` and, when different, its symlink-resolved one."""
        try:
            expanded = posixpath.expanduser(path)
        except ValueError:  # `~` and a NUL byte: no such user, so `~...` stays as written
            expanded = path
        absolute = posixpath.normpath(posixpath.join(cwd or self.root, expanded))
        # `//x` survives normpath as POSIX allows it; it means `/x` on Linux.
        if absolute.startswith("//"):
            absolute = "/" + absolute.lstrip("/")
        locations = [self._relative(absolute, self.root)]
        try:
            real = os.path.realpath(absolute)
        except (OSError, ValueError):
            return locations  # no such file can exist (a NUL byte, a name too long)
        real_location = self._relative(real, self.real_root)
        if real_location != locations[0] and real != absolute:
            locations.append(real_location)
        return locations

    def expand(self, pattern: str, cwd: str | None = None, limit: int = 64) -> list[str]:
        """Existing paths a shell glob would expand to (at most `limit`)."""
        base = cwd or self.root
        try:
            matches = glob.iglob(posixpath.expanduser(pattern), root_dir=base, include_hidden=True)
            return list(itertools.islice(matches, limit))
        except (OSError, ValueError, re.error):
            return []

    def _relative(self, absolute: str, root: str) -> Location:
        for candidate_root in (root, self.root, self.real_root):
            if absolute == candidate_root:
                return Location(".", True)
            if absolute.startswith(candidate_root.rstrip("/") + "/"):
                return Location(absolute[len(candidate_root.rstrip("/")) + 1 :], True)
        return Location(absolute, False)
