"""Property tests: no input crashes the parser or the engine; equal input, equal decision."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from plangate.agents import Agent, load_agent
from plangate.permissions import Action, Policy

SHELL_PIECES = st.sampled_from(
    [
        "git",
        "push",
        "commit",
        "rm",
        "-rf",
        "-fr",
        "/",
        "*",
        "$X",
        "${X:-y}",
        "$(",
        ")",
        "`",
        "'",
        '"',
        "\\",
        "\n",
        "\\\n",
        ";",
        "&&",
        "||",
        "|",
        "&",
        ">",
        ">>",
        "<",
        "<<EOF",
        "EOF",
        "<<<",
        "{",
        "}",
        "(",
        ")",
        "[[",
        "]]",
        "if",
        "then",
        "fi",
        "for",
        "do",
        "done",
        "case",
        "esac",
        "bash",
        "-c",
        "eval",
        "xargs",
        "find",
        "-exec",
        "{}",
        "\\;",
        "env",
        "A=1",
        "sudo",
        ".env",
        "node_modules/x",
        "$'\\x67'",
        "#",
        "!",
        "=",
        "~",
        "..",
        " ",
        "\t",
    ]
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _policy(seed_agent, tmp_path_factory) -> Policy:  # type: ignore[no-untyped-def]
    return Policy(seed_agent.permission, tmp_path_factory.mktemp("ws"))


@SETTINGS
@given(command=st.lists(st.one_of(st.characters(), SHELL_PIECES), max_size=80).map("".join))
def test_any_text_gets_a_decision(seed_agent, tmp_path_factory, command: str) -> None:  # type: ignore[no-untyped-def]
    policy = _policy(seed_agent, tmp_path_factory)
    first = policy.check_bash(command)
    assert first.action in tuple(Action)
    assert policy.check_bash(command) == first


@SETTINGS
@given(
    pieces=st.lists(SHELL_PIECES, max_size=40),
    separators=st.lists(st.sampled_from(["", " "]), min_size=40, max_size=40),
)
def test_shell_like_text_gets_a_stable_decision(
    seed_agent, tmp_path_factory, pieces: list[str], separators: list[str]
) -> None:  # type: ignore[no-untyped-def]
    command = "".join(p + s for p, s in zip(pieces, separators, strict=False))
    # Two policies over two empty workspaces decide alike (reasons differ only by the root).
    one, two = _policy(seed_agent, tmp_path_factory), _policy(seed_agent, tmp_path_factory)
    first, second = one.check_bash(command), two.check_bash(command)
    assert (first.action, first.rule, first.read_only) == (
        second.action,
        second.rule,
        second.read_only,
    )
    assert first.reason.replace(one.workspace.root, "<ws>") == second.reason.replace(
        two.workspace.root, "<ws>"
    )


@SETTINGS
@given(path=st.text(max_size=200))
@example(path="~\x00")  # expanduser looked up a user named NUL and raised
def test_any_path_gets_a_decision(seed_agent, tmp_path_factory, path: str) -> None:  # type: ignore[no-untyped-def]
    policy = _policy(seed_agent, tmp_path_factory)
    for check in (policy.check_edit, policy.check_read):
        decision = check(path)
        assert check(path) == decision


@settings(max_examples=150, deadline=None)
@given(frontmatter=st.text(max_size=300))
def test_any_frontmatter_loads_with_diagnostics(tmp_path_factory, frontmatter: str) -> None:  # type: ignore[no-untyped-def]
    path = Path(tmp_path_factory.mktemp("agents")) / "a.md"
    path.write_text(f"---\n{frontmatter}\n---\nbody\n", encoding="utf-8", errors="surrogateescape")
    agent = load_agent(path)
    assert agent.name == "a"


def test_non_ascii_input_does_not_crash_the_process() -> None:
    """tree-sitter-bash used to segfault on `{` followed by a code point above U+7FFFF.

    Run in a child process so a crash fails this test instead of killing the test run.
    """
    probe = (
        "from pathlib import Path\n"
        "from plangate.permissions import Policy\n"
        "policy = Policy({}, Path('.'))\n"
        "for text in ['{\\U000a2b06\\U000cbb9c', '{a\\U000cbb9c', '\\U00028b84\\U000785b9{"
        "\\U0005b72cp\\x0c8\\x85', '{\\udc80', 'echo \\u00e9 > .env']:\n"
        "    for _ in range(50):\n"
        "        policy.check_bash(text)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


# Words that keep a denied command denied whatever else it is given (no `--help`, no `--`).
_EXTRA_ARGUMENTS = st.lists(st.sampled_from(["x", "origin", "main", "src/a.py"]), max_size=3)
# Places a command can sit and still run; `{}` is where it goes (`q` marks a quoted copy).
_CONTEXTS = [
    "{}",
    "true && {}",
    "false || {}",
    "{}; true",
    "({})",
    "{{ {}; }}",
    "echo $({})",
    "echo `{}`",
    "cat <({})",
    "{} | cat",
    "bash -c {q}",
    "sh -c {q}",
    "eval {q}",
    "env {}",
    "env -i {}",
    "nohup {}",
    "timeout 5 {}",
    "nice -n 5 {}",
    "command {}",
    "builtin eval {q}",
    "sudo {}",
    "watch {q}",
    "if true; then {}; fi",
    "for i in 1; do {}; done",
    "time {}",
    "cd src && {}",
    "env -C src {}",
    "xargs {}",
    "strace -f {}",
    "unshare -r {}",
    "flock /tmp/lock {}",
    "uv run {}",
    "script -qc {q} /dev/null",
    "su -c {q}",
    "parallel {q} ::: x",
    "git submodule foreach {q}",
    "printf '%s\\n' {q} | bash",
    "bash <<< {q}",
    "source <(echo {q})",
]


def _spell(word: str, how: int) -> str:
    """`word` spelled as bash would still read it: quoted pieces, a backslash, braces."""
    if how == 0 or len(word) < 2 or not word.isalnum():
        return word
    middle = len(word) // 2
    return [
        f"{word[:middle]}''{word[middle:]}",
        f'"{word[:middle]}"{word[middle:]}',
        f"\\{word}",
        f"{{{word},}}",
        f"$'{word}'",
    ][(how - 1) % 5]


def _denied_commands(seed_agent: Agent) -> list[list[str]]:
    """The seed's bash deny rules as commands (`*` is any word)."""
    return [
        [word.replace("*", "x") for word in rule.pattern.split()]
        for rule in seed_agent.permission["bash"]
        if rule.action is Action.DENY
    ]


@SETTINGS
@given(
    which=st.integers(min_value=0, max_value=100),
    extra=_EXTRA_ARGUMENTS,
    context=st.sampled_from(_CONTEXTS),
    spellings=st.lists(st.integers(min_value=0, max_value=5), min_size=8, max_size=8),
)
def test_a_denied_command_stays_denied_wherever_and_however_written(
    seed_agent: Agent,
    tmp_path_factory: pytest.TempPathFactory,
    which: int,
    extra: list[str],
    context: str,
    spellings: list[int],
) -> None:
    """If X is denied, so is X in a list, a subshell, a substitution, a shell's -c text, under
    a wrapper, and X with its words spelled in any way the engine reads as bash does."""
    policy = _policy(seed_agent, tmp_path_factory)
    denied = _denied_commands(seed_agent)
    words = [*denied[which % len(denied)], *extra]
    plain = " ".join(words)
    assert policy.check_bash(plain).action is Action.DENY, plain
    spelled = " ".join(_spell(w, how) for w, how in zip(words, spellings + [0] * 8, strict=False))
    command = context.replace("{q}", shlex.quote(spelled)).replace("{}", spelled)
    command = command.replace("{{", "{").replace("}}", "}")
    decision = policy.check_bash(command)
    assert decision.action is Action.DENY, f"{command!r}: {decision.reason}"
