"""Shells and language interpreters: the code they run inline (`bash -c`, `python -c`,
`perl -e`, ...), and what cannot be analysed statically (script files, code read from input).
"""

from __future__ import annotations

import re

from plangate.permissions.invocation import Invocation, Unwrapped
from plangate.permissions.words import Word

SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh"})
_INLINE_CODE = {
    "node": ("-e", "--eval", "-p", "--print"),
    "nodejs": ("-e", "--eval", "-p", "--print"),
    "perl": ("-e", "-E"),
    "ruby": ("-e",),
    "php": ("-r",),
    "lua": ("-e",),
    "osascript": ("-e",),
    "deno": ("eval",),
    "bun": ("-e", "--eval"),
}
_PYTHON = re.compile(r"python[0-9.]*|pypy[0-9.]*")
_INTERPRETERS = frozenset(
    {"node", "nodejs", "perl", "ruby", "php", "lua", "deno", "bun", "Rscript"}
)

STDIN_FILES = frozenset({"/dev/stdin", "-", "/proc/self/fd/0", "/dev/fd/0"})


def check_shell(rest: list[Word], result: Unwrapped, inv: Invocation) -> None:
    """`bash -c 'text'` runs text we can analyse; `bash file` and bare `bash` we cannot."""
    i = 0
    inline = False
    while i < len(rest):
        text = rest[i].text
        if text == "--":
            i += 1
            break
        if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if text.startswith(("-", "+")) and len(text) > 1:
            if not text.startswith("--") and "c" in text[1:]:
                inline = True
            i += 1
            continue
        break
    operands = rest[i:]
    if inv.program == "su":
        inline = any(w.text in ("-c", "--command") for w in rest)
        operands = [rest[j + 1] for j, w in enumerate(rest[:-1]) if w.text in ("-c", "--command")]
        if not inline:
            inv.escalates = "runs a shell as another user (su)"
    if inline and operands:
        script = operands[0]
        if script.literal:
            result.scripts.append(script.text)
        else:
            inv.problems.append("runs a computed command line in a shell")
    elif operands and operands[0].dynamic:
        # `bash <(echo cmd)`: the script is what the substitution prints.
        result.reads_stdin_script = True
        inv.problems.append("runs a script computed at run time")
    elif operands and operands[0].text not in STDIN_FILES:
        inv.problems.append("runs a script file")
    else:
        result.reads_stdin_script = True
        inv.problems.append("runs commands a shell reads from its input")
    result.invocations.append(inv)


# python's flags that take no value, then `c`: the rest of the word or the next is code.
_PYTHON_CODE = re.compile(r"-[bBdEhiIOPqRsSuvx]*c")


def _short_cluster(text: str) -> bool:
    return text.startswith("-") and not text.startswith("--") and len(text) > 1


def check_interpreter(program: str, rest: list[Word], inv: Invocation) -> None:
    texts = [w.text for w in rest]
    if _PYTHON.fullmatch(program):
        if any(_PYTHON_CODE.match(t) for t in texts):  # `-c`, `-ccode`, `-Ic code`
            inv.problems.append("runs inline Python code")
        elif any(not t.startswith("-") for t in texts[:1]) and "-m" not in texts:
            inv.problems.append("runs a script file")
        elif not texts:
            inv.problems.append("runs code an interpreter reads from its input")
        return
    flags = _INLINE_CODE.get(program)
    letters = "".join(f[1] for f in flags or () if len(f) == 2)
    if flags and any(
        t in flags
        # A short cluster with a code letter: `perl -pe`, `perl -lne`, `ruby -ne`, `-eCODE`.
        or (letters and _short_cluster(t) and any(letter in t for letter in letters))
        for t in texts
    ):
        inv.problems.append(f"runs inline {program} code")
    elif program in _INTERPRETERS and texts and not texts[0].startswith("-"):
        inv.problems.append("runs a script file")
