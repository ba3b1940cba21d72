"""curl and wget: the file they download into (`curl -o F`, `curl -sSLo F`, `wget -O F`)."""

from __future__ import annotations

from plangate.permissions.invocation import Write, values_of
from plangate.permissions.programs.base import Program
from plangate.permissions.words import Word


def _curl(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w) for w in values_of(args, ("-o", "--output"))]


def _wget(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w) for w in values_of(args, ("-O", "--output-document"))]


PROGRAMS = (
    Program(names=("curl",), writes=_curl),
    Program(names=("wget",), writes=_wget),
)
