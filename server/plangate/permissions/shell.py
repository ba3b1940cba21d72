"""Parse a bash command line with tree-sitter-bash and find everything that would execute.

Every simple command is collected wherever it sits: lists, pipelines, subshells, groups, the
conditions and bodies of if/for/while/case, function bodies, command and process substitutions
(also inside arguments, strings, assignments and redirections). Redirections and the text fed
to commands through heredocs and here-strings are collected too. The working directory is
tracked through `cd`, scoped the way bash scopes it (subshells and pipeline parts). Where bash
evaluates text arithmetically is checked in `arithmetic.py`; the variables that change what
later commands run are in `variables.py`.

Over 350 lines, on purpose: the walk is one recursive pass over the syntax tree (`_Walker`),
and what it must not miss is easiest to check when every node kind it handles is in one place.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from plangate.permissions import arithmetic
from plangate.permissions.braces import TooManyWords, expand_text
from plangate.permissions.variables import code_of, is_risky_variable
from plangate.permissions.words import Word, evaluate, node_text

MAX_LENGTH = 10_000
# tree-sitter-bash's scanner passes non-ASCII characters to C's ctype functions, which read
# out of bounds and crash the process (found by the property tests). The parser is given an
# ASCII shadow of the text: every non-ASCII byte becomes `x`, a word character as any
# non-ASCII character is to bash, and all node offsets still index the real bytes.
_ASCII_SHADOW = bytes(range(128)) + b"x" * 128
_SURROGATES = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 200

_WRITE_OPERATORS = frozenset({">", ">>", "&>", "&>>", ">|", "<>"})
_SCOPES = frozenset({"subshell", "command_substitution", "process_substitution"})


@dataclass(frozen=True)
class SimpleCommand:
    """One command that would execute: its words and the directory it would run in."""

    words: tuple[Word, ...]
    text: str
    cwd: str | None  # None: not known statically (cd to a computed place)
    # Names of `VAR=value` assignments written before the command.
    assignments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Redirect:
    """A redirection: the file it opens and whether it writes."""

    target: Word
    write: bool
    cwd: str | None


@dataclass
class ShellAnalysis:
    """Everything found in one command line."""

    commands: list[SimpleCommand] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    # Heredoc bodies and here-strings; None for one whose text is computed at run time.
    fed_texts: list[str | None] = field(default_factory=list)
    # Constructs that cannot be analysed statically: never allowed without asking.
    problems: list[str] = field(default_factory=list)
    # Literal shell text that runs as commands: backticks in unquoted heredocs, trap handlers,
    # coproc bodies; and, when something re-evaluates text as code, literals holding `$(`.
    scripts: list[str] = field(default_factory=list)
    # Literals that look like code (`a[$(cmd)]`): harmless unless something re-evaluates them.
    code_in_data: list[str] = field(default_factory=list)
    reevaluates: bool = False
    ansi_c_mismatch: bool = False


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


MAX_ANALYSED = 100_000
_BACKTICKS = re.compile(r"`((?:\\.|[^`\\])*)`", re.DOTALL)


def analyse(source: str, cwd: str | None) -> ShellAnalysis:
    """Parse `source` and collect its commands, redirections and unanalysable parts."""
    analysis = ShellAnalysis()
    if len(source) > MAX_LENGTH:
        analysis.problems.append(f"is over {MAX_LENGTH:,} characters")
    if len(source) > MAX_ANALYSED:
        return analysis  # too long to analyse in time; asked, never allowed
    # Bash drops NUL bytes from its input; surrogates cannot be encoded and no terminal sends
    # them.
    source = _SURROGATES.sub("\ufffd", source.replace("\x00", ""))
    versions = [source]
    try:
        braced = expand_text(source) if "{" in source else source
    except TooManyWords:
        braced = source
        analysis.problems.append("expands braces into too many words")
    if braced != source:
        # Bash expands braces before it runs anything (`git p{u,}sh` is `git push psh`,
        # `{git,push}` is `git push`): check the spelled-out text too. Whether it parses is
        # the original text's question.
        versions.append(braced)
    if "\\\n" in source:
        # tree-sitter-bash splits a word at a line continuation (`g\<newline>it` reads as two
        # words; bash reads `git`). Bash keeps the pair inside single quotes and quoted
        # heredocs, so analyse both texts and check everything either one finds.
        versions.append(source.replace("\\\n", ""))
    for index, version in enumerate(versions):
        data = version.encode("utf-8")
        tree = _parser().parse(data.translate(_ASCII_SHADOW))
        if (
            tree.root_node.has_error
            and not (index == 1 and braced != source)
            and "does not parse as bash" not in analysis.problems
        ):
            analysis.problems.append("does not parse as bash")
        _Walker(analysis, cwd, data).walk(tree.root_node, 0)
        if analysis.ansi_c_mismatch and len(versions) < 4:
            # tree-sitter misreads some $'...' strings (`$'\\'` runs on to a later quote):
            # analyse the text again with each $'...' cut where bash ends it.
            analysis.ansi_c_mismatch = False
            analysis.problems.append("quotes $'...' ambiguously")
            versions.append(_blank_ansi_c(version))
    if analysis.reevaluates:
        analysis.scripts.extend(analysis.code_in_data)
    return analysis


def ansi_c_end(text: str, start: int) -> int:
    """Index of the quote that ends the $'...' string opening at `start`, or -1."""
    i = start + 2
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "'":
            return i
        i += 1
    return -1


def _blank_ansi_c(text: str) -> str:
    out: list[str] = []
    i = 0
    while (start := text.find("$'", i)) != -1:
        end = ansi_c_end(text, start)
        if end == -1:
            break
        out.append(text[i:start] + "''")
        i = end + 1
    out.append(text[i:])
    return "".join(out)


class _Walker:
    def __init__(self, analysis: ShellAnalysis, cwd: str | None, source: bytes) -> None:
        self.analysis = analysis
        self.cwd = cwd
        self.source = source
        # `cd -` goes back here (bash's OLDPWD); None when not known.
        self.oldpwd: str | None = None
        # `shopt -s lastpipe`: the last part of a pipeline runs in this shell, its `cd` stays.
        self.lastpipe = False
        # CDPATH set by the command line: a relative `cd` may go anywhere listed in it.
        self.cdpath = False
        # Arrays declared associative (`declare -A m`): their subscripts are strings, not
        # arithmetic.
        self.associative: set[str] = set()

    def walk(self, node: Node, depth: int) -> None:
        if depth > MAX_DEPTH:
            if "is nested too deeply" not in self.analysis.problems:
                self.analysis.problems.append("is nested too deeply")
            return
        kind = node.type
        if kind == "command":
            self._command(node)
        elif kind == "function_definition":
            self.analysis.problems.append("defines a shell function")
        elif kind == "file_redirect":
            self._file_redirect(node)
        elif kind == "herestring_redirect":
            self._fed(node.named_children[-1] if node.named_children else None)
        elif kind == "heredoc_redirect":
            self._heredoc(node)
        elif kind == "variable_assignment":
            self._assignment(node)
        elif kind == "comment":
            return
        elif kind == "ansi_c_string":
            text = node_text(node, self.source)
            if ansi_c_end(text, 0) != len(text) - 1:
                self.analysis.ansi_c_mismatch = True
        elif kind in ("raw_string", "string", "word"):
            text = node_text(node, self.source)
            if "$(" in text or "`" in text:
                self.analysis.code_in_data.append(evaluate(node, self.source).text)
        elif kind in ("arithmetic_expansion", "c_style_for_statement") or (
            kind == "compound_statement" and node.children and node.children[0].type == "(("
        ):
            self._reevaluates(arithmetic.arithmetic(node))
        elif kind == "test_command":
            self._reevaluates(arithmetic.numeric_test(node, self.source))
        elif kind == "expansion":
            operators = [c.type for c in node.children if not c.is_named]
            if "!" in operators[:2] or ("@" in operators and "P" in operators):
                self._reevaluates("expands a variable indirectly or as a prompt string")
            self._reevaluates(arithmetic.substring(node, self.source))
        elif kind == "subscript":
            self._reevaluates(arithmetic.subscript(node, self.source, self.associative))
        elif kind in ("declaration_command", "unset_command"):
            self.associative.update(arithmetic.associative_names(node, self.source))
            self._reevaluates(arithmetic.declaration(node, self.source))
        elif kind == "array":
            self._reevaluates(arithmetic.array(node, self.source, self.associative))
        if kind in _SCOPES:
            self._scoped(node.children, depth)
        elif kind == "pipeline":
            for child in node.children[:-1]:
                self._scoped([child], depth)
            before = self.cwd
            self.walk(node.children[-1], depth + 1)
            if self.cwd != before and not self.lastpipe:
                # The last part runs in this shell when lastpipe is on, which may have been
                # set where this walk cannot see (a sourced file): the directory is unknown.
                self.cwd = None
        else:
            for child in node.children:
                self.walk(child, depth + 1)

    def _scoped(self, children: list[Node], depth: int) -> None:
        saved = self.cwd
        for child in children:
            self.walk(child, depth + 1)
        self.cwd = saved

    def _reevaluates(self, reason: str | None) -> None:
        if reason is None:
            return
        self.analysis.reevaluates = True
        if reason not in self.analysis.problems:
            self.analysis.problems.append(reason)

    def _command(self, node: Node) -> None:
        words: list[Word] = []
        assignments: list[str] = []
        for index, child in enumerate(node.children):
            field_name = node.field_name_for_child(index)
            if field_name == "name":
                inner = child.named_children[0] if child.named_children else child
                words.append(evaluate(inner, self.source))
            elif field_name == "argument":
                words.append(evaluate(child, self.source))
            elif child.type == "variable_assignment":
                name = child.child_by_field_name("name")
                if name is not None:
                    assignments.append(node_text(name, self.source))
        if not words:
            return
        text = node_text(node, self.source)
        self.analysis.commands.append(
            SimpleCommand(tuple(words), text, self.cwd, tuple(assignments))
        )
        self._reevaluates(arithmetic.reevaluation(words))
        program = words[0].text
        if program == "trap":
            handler = next((w for w in words[1:] if not w.text.startswith("-")), None)
            if handler is not None and handler.literal:
                self.analysis.scripts.append(handler.text)  # `trap -- 'cmd' EXIT` too
        if program == "coproc" and len(words) > 1:
            # `coproc NAME { cmds; }` reads to tree-sitter as one odd command: run its text
            # both with and without the first word as the name.
            rest = text.split(None, 1)[1] if len(text.split(None, 1)) > 1 else ""
            self.analysis.scripts.append(rest)
            if len(rest.split(None, 1)) > 1:
                self.analysis.scripts.append(rest.split(None, 1)[1])
        self._track_cd(words)

    def _track_cd(self, words: list[Word]) -> None:
        texts = [w.text for w in words]
        if (
            texts[0] == "shopt"
            and "lastpipe" in texts
            and not any(t.startswith("-") and "u" in t for t in texts)
        ):
            self.lastpipe = True
        # `builtin cd`, `command cd`, `time cd` are cd, run in this shell.
        while len(words) > 1 and (
            words[0].text in ("builtin", "command", "time")
            or (words[0].text == "-p" and texts[0] != "cd")
        ):
            words = words[1:]
            texts = texts[1:]
        program = words[0].text
        if program == "popd":
            self.oldpwd, self.cwd = self.cwd, None
        if program not in ("cd", "pushd"):
            return
        args = [
            w for w in words[1:] if not (w.literal and w.text.startswith("-") and w.text != "-")
        ]
        previous = self.cwd
        if args and args[0].literal and args[0].text == "-" and program == "cd":
            self.cwd, self.oldpwd = self.oldpwd, previous
            return
        relative = args and args[0].literal and not args[0].text.startswith(("/", ".", "~"))
        if (
            not args
            or not args[0].literal
            or args[0].text in ("-", "")
            or self.cwd is None
            or (self.cdpath and relative)
            or (program == "pushd" and args[0].text[:1] in "+-")
        ):
            self.cwd = None  # home, a stack entry, a CDPATH entry or a computed place
        else:
            target = posixpath.expanduser(args[0].text)
            self.cwd = posixpath.normpath(posixpath.join(self.cwd, target))
        self.oldpwd = previous

    def _file_redirect(self, node: Node) -> None:
        operator = ""
        targets: list[Node] = []
        for index, child in enumerate(node.children):
            field_name = node.field_name_for_child(index)
            if field_name == "destination":
                targets.append(child)  # `> a b`: bash writes a; b is an argument
            elif not child.is_named:
                operator = child.type
        for target in targets:
            value = evaluate(target, self.source)
            if operator in (">&", "<&", ">&-", "<&-") and (
                value.text.isdigit() or value.text == "-"
            ):
                continue  # duplicating or closing a file descriptor opens no file
            write = operator in _WRITE_OPERATORS or operator == ">&"
            self.analysis.redirects.append(Redirect(value, write, self.cwd))

    def _fed(self, node: Node | None) -> None:
        if node is None:
            return
        value = evaluate(node, self.source)
        self.analysis.fed_texts.append(None if value.dynamic else value.text)

    def _heredoc(self, node: Node) -> None:
        start = next((c for c in node.children if c.type == "heredoc_start"), None)
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        if body is None:
            return
        quoted = start is not None and any(q in node_text(start, self.source) for q in "'\"\\")
        dynamic = not quoted and any(c.type != "heredoc_content" for c in body.named_children)
        text = node_text(body, self.source)
        if not quoted and arithmetic.heredoc_arithmetic(text):
            # Arithmetic in an unquoted heredoc is evaluated (tree-sitter may read `$((x))`
            # there as a substitution running a subshell).
            self._reevaluates("evaluates arithmetic in a heredoc, which can run code")
        if not quoted:
            # Backticks in an unquoted heredoc run (tree-sitter only sees $(...) there).
            self.analysis.scripts.extend(m.group(1) for m in _BACKTICKS.finditer(text))
            dynamic = dynamic or "`" in text
        self.analysis.fed_texts.append(None if dynamic else text)

    def _assignment(self, node: Node) -> None:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is not None and value is not None:
            # PS4='$(cmd)' with set -x, PROMPT_COMMAND='cmd': the shell runs the value.
            script = code_of(node_text(name, self.source), evaluate(value, self.source).text)
            if script is not None:
                self.analysis.scripts.append(script)
        assigned = node_text(name, self.source) if name is not None else ""
        if assigned == "CDPATH":
            self.cdpath = True
        elif assigned == "OLDPWD":
            self.oldpwd = None  # where `cd -` goes
        elif assigned == "PWD":
            self.cwd = None  # `cd ..` resolves against $PWD
        if name is not None and is_risky_variable(node_text(name, self.source)):
            self.analysis.problems.append(
                f"sets {node_text(name, self.source)}, which changes what later commands run"
            )
