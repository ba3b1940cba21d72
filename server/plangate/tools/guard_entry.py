"""The exec-time guard's client: runs inside the sandbox in place of a program a bash rule names.

Every exec of a guarded program (`/usr/bin/git`, whatever spelled it: eval, an alias, a script,
Python's subprocess) starts this instead. It sends the real argument list to PlanGate over a
Unix socket, where the agent's own policy decides, and either execs the real program with the
same arguments or ends with exit status 126 and a message on stderr that the model reads.

Standard library only, and only `os`, `_socket` and `sys` (not even `typing`): it is started
once per exec, by `python3 -I -S`, so every import is paid on every `git` a build runs. The
stub that starts it (written by `guard.py`) passes the program's name, the real binary's
private path and the socket's path.
"""

import _socket  # socket.py imports enum, selectors, collections: 8 ms a start
import os
import sys

DENIED_STATUS = 126  # what a shell reports for a command found but not executable
MESSAGE_PREFIX = "PlanGate: denied at run time: "
RUN = "run"
TIMEOUT = 60.0  # seconds to wait for PlanGate's answer; no answer is a refusal
MAX_REPLY = 1 << 16


def words_for(program: str, argv: list[str]) -> list[str]:
    """The command as the policy reads it. `git-push x` (a multi-call binary reached through
    a `git-<command>` link, as git's own exec path has them) is `git push x`."""
    name = os.path.basename(argv[0]) if argv else program
    prefix = program + "-"
    if name.startswith(prefix) and len(name) > len(prefix):
        return [program, name[len(prefix) :], *argv[1:]]
    return [program, *argv[1:]]


def ask(socket_path: str, cwd: str, words: list[str]) -> tuple[str, str]:
    """PlanGate's verdict on `words` run in `cwd`: ("run", "") or ("deny", why)."""
    request = "\0".join([cwd, *words]).encode("utf-8", "surrogateescape")
    chunks: list[bytes] = []
    try:
        conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            conn.settimeout(TIMEOUT)
            conn.connect(socket_path)
            conn.sendall(request)
            conn.shutdown(_socket.SHUT_WR)
            while (chunk := conn.recv(4096)) and sum(map(len, chunks)) < MAX_REPLY:
                chunks.append(chunk)
        finally:
            conn.close()
    except OSError as exc:
        # Fail closed: a guard that cannot ask does not run the program.
        return "deny", f"the exec-time guard could not reach PlanGate ({exc})"
    verdict, _, message = b"".join(chunks).decode("utf-8", "replace").partition("\n")
    return (verdict, message) if verdict == RUN else ("deny", message or "no answer")


def main(program: str, real: str, socket_path: str) -> None:
    """Check `sys.argv` (argv[0] is the path that was executed) and exec `real`, or refuse."""
    argv = list(sys.argv)
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""  # a deleted folder: PlanGate resolves relative paths from the workspace
    verdict, message = ask(socket_path, cwd, words_for(program, argv))
    if verdict != RUN:
        sys.stderr.write(MESSAGE_PREFIX + message + "\n")
        sys.stderr.flush()
        os._exit(DENIED_STATUS)
    try:
        # argv[0] as executed: a multi-call binary (git-push -> git) dispatches on it.
        os.execv(real, argv)
    except OSError as exc:
        sys.stderr.write(f"PlanGate: could not run {real}: {exc}\n")
        os._exit(DENIED_STATUS + 1)
