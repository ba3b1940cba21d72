"""Shell variables that change what later commands run, and code hidden in their values."""

from __future__ import annotations

# Variables whose value changes what later commands run or load.
_RISKY_VARIABLES = frozenset(
    {
        "PATH",
        "CDPATH",
        "LESSOPEN",
        "LESSCLOSE",
        "LESSKEY",
        "MANPAGER",
        "BROWSER",
        "GREP_OPTIONS",
        "BASH_ENV",
        "ENV",
        "IFS",
        "PROMPT_COMMAND",
        "PS4",
        "SHELLOPTS",
        "BASHOPTS",
        "NODE_OPTIONS",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "PERL5OPT",
        "PERL5LIB",
        "RUBYOPT",
        "EDITOR",
        "VISUAL",
        "PAGER",
        # Where programs find their configuration: moved into the workspace, a written file
        # (`.gitconfig` with core.fsmonitor, an rg config with --pre) runs programs.
        "HOME",
        "XDG_CONFIG_HOME",
        "XDG_CONFIG_DIRS",
        "RIPGREP_CONFIG_PATH",
        "CURL_HOME",
        "WGETRC",
        "LESS",
        "INPUTRC",
        "ZDOTDIR",
    }
)
_RISKY_PREFIXES = ("LD_", "DYLD_", "GIT_", "BASH_FUNC_", "npm_config_", "NPM_CONFIG_")


def code_of(name: str, value: str) -> str | None:
    """The command line hidden in a variable the shell runs (`PROMPT_COMMAND`) or expands as
    a prompt (`PS4`, printed by `set -x`, runs the substitutions in it); None for others."""
    if name == "PROMPT_COMMAND" or name.startswith("BASH_ALIASES["):
        return value  # BASH_ALIASES[p]='cmd' defines an alias
    if name in ("PS0", "PS1", "PS2", "PS3", "PS4") and ("$(" in value or "`" in value):
        return ": " + value  # only its substitutions run
    return None


def is_risky_variable(name: str) -> bool:
    """True for variables that change which program runs or what it loads."""
    return name in _RISKY_VARIABLES or name.startswith(_RISKY_PREFIXES)
