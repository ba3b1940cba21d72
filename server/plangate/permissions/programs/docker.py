"""docker and podman: global options come before the subcommand.

`docker -H tcp://h --context c system prune -af` runs `system prune -af`: the global options
(host, context, configuration, TLS files, log level) are dropped so the subcommand follows
the program and the agent's rules (`docker system prune: deny`) see it.
"""

from __future__ import annotations

from plangate.permissions.invocation import Invocation, Unwrapped
from plangate.permissions.options import find_option
from plangate.permissions.programs.base import Program
from plangate.permissions.words import Word

_VALUE_OPTIONS = frozenset(
    {
        "-H",
        "--host",
        "-c",
        "--context",
        "--config",
        "-l",
        "--log-level",
        "--tlscacert",
        "--tlscert",
        "--tlskey",
    }
)


def _normalise(words: list[Word], inv: Invocation, result: Unwrapped) -> list[list[Word]]:
    i = 1
    while i < len(words):
        text = words[i].text
        if find_option(text, _VALUE_OPTIONS) is not None and "=" not in text:
            i += 2
            continue
        if not text.startswith("-"):
            break
        i += 1
    if i >= len(words):
        return [words]
    # Options before the subcommand are global (host, context): they cannot change which
    # subcommand runs, so they are dropped rather than mistaken for its operands.
    return [[words[0], words[i], *words[i + 1 :]]]


PROGRAMS = (Program(names=("docker", "podman"), normalise=_normalise),)
