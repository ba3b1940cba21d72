"""Archivers, compressors and patchers: tar, unzip, 7z, gzip and its kin, patch, split, csplit.

What they write: `tar -c -f F` writes F and `tar -x` writes what the archive holds (names known
only at run time) into `-C DIR` (`unzip -d DIR`, `7z x -oDIR` alike); `gzip F` replaces F with
`F.gz` (F is deleted) and `gunzip F.gz` writes F, unless `-c` sends the result to standard
output; `patch` writes the files its diff names (known only at run time) or the file given;
`split IN PREFIX` writes `PREFIXaa`... A name known only at run time is a write that is asked;
under a denied folder (`tar -x -C .git`) it is denied.
"""

from __future__ import annotations

from plangate.permissions.invocation import Write, is_special_file, operands_of, values_of
from plangate.permissions.options import has_flag
from plangate.permissions.programs.base import Program, Reads
from plangate.permissions.words import DYNAMIC, Word

_TAR_VALUES = (
    "-f",
    "--file",
    "-C",
    "--directory",
    "-T",
    "--files-from",
    "-X",
    "--exclude-from",
    "--exclude",
    "-I",
    "--use-compress-program",
    "-b",
    "--blocking-factor",
    "-H",
    "--format",
    "-K",
    "--starting-file",
    "-N",
    "--newer",
    "-V",
    "--label",
    "--owner",
    "--group",
    "--mode",
    "--mtime",
    "--transform",
    "--xform",
    "--strip-components",
    "--checkpoint-action",
    "--to-command",
    "--index-file",
)
_TAR_MODES = "cxtrudA"


def _under(folder: Word | None, name: Word) -> Word:
    if folder is None:
        return name
    return Word(f"{folder.text.rstrip('/')}/{name.text}", folder.dynamic or name.dynamic, False)


def _tar_words(args: list[Word]) -> list[Word]:
    """`tar cf x.tar d` (the first word's letters are options): as `tar -c -f x.tar d`."""
    if args and args[0].literal and not args[0].text.startswith("-"):
        letters = args[0].text
        return [Word(f"-{letter}") for letter in letters] + args[1:]
    return args


def _tar_mode(texts: list[str]) -> set[str]:
    modes = {
        letter
        for t in texts
        if t.startswith("-") and not t.startswith("--")
        for letter in t[1:]
        if letter in _TAR_MODES
    }
    for long, mode in (("--create", "c"), ("--extract", "x"), ("--get", "x"), ("--append", "r")):
        if has_flag(texts, (long,)):
            modes.add(mode)
    if has_flag(texts, ("--update",)):
        modes.add("u")
    if has_flag(texts, ("--delete", "--concatenate", "--catenate")):
        modes.add("r")
    return modes


def _tar(args: list[Word], texts: list[str]) -> list[Write]:
    args = _tar_words(args)
    texts = [w.text for w in args]
    modes = _tar_mode(texts)
    archives = values_of(args, ("-f", "--file"))
    writes: list[Write] = []
    if modes & set("cruA"):
        writes += [Write(w) for w in archives]
    if "x" in modes:
        folders = values_of(args, ("-C", "--directory"))
        folder = folders[-1] if folders else None
        writes.append(Write(_under(folder, Word(DYNAMIC, dynamic=True)), recursive=True))
    return writes


def _tar_reads(args: list[Word], texts: list[str]) -> list[Word]:
    args = _tar_words(args)
    texts = [w.text for w in args]
    modes = _tar_mode(texts)
    reads = [*values_of(args, ("-T", "--files-from", "-X", "--exclude-from"))]
    if modes & set("cru"):
        reads += operands_of(args, _TAR_VALUES)
    if modes & set("xt"):
        reads += values_of(args, ("-f", "--file"))
    return [w for w in reads if not is_special_file(w.text)]


_COMPRESSED = {
    "gzip": ".gz",
    "pigz": ".gz",
    "bzip2": ".bz2",
    "xz": ".xz",
    "lzma": ".lzma",
    "zstd": ".zst",
    "lz4": ".lz4",
    "compress": ".Z",
}
_DECOMPRESSORS = {
    "gunzip": ".gz",
    "bunzip2": ".bz2",
    "unxz": ".xz",
    "unlzma": ".lzma",
    "unzstd": ".zst",
    "uncompress": ".Z",
}
_COMPRESS_VALUES = ("-S", "--suffix", "-b", "-T", "--threads", "-o", "--output")


def _compressor(name: str, suffix: str, decompress: bool) -> Program:
    def writes(args: list[Word], texts: list[str]) -> list[Write]:
        if has_flag(texts, ("-c", "--stdout", "--to-stdout", "-t", "--test", "-l", "--list")):
            return []  # the result goes to standard output; the files stay
        undo = decompress or has_flag(texts, ("-d", "--decompress", "--uncompress"))
        recursive = has_flag(texts, ("-r", "--recursive"))
        out: list[Write] = [Write(w) for w in values_of(args, ("-o", "--output"))]
        for word in operands_of(args, _COMPRESS_VALUES):
            if is_special_file(word.text):
                continue
            # The file given is replaced (deleted), and its partner written.
            partner = word.text.removesuffix(suffix) if undo else word.text + suffix
            out += [Write(word, recursive), Write(Word(partner, word.dynamic), recursive)]
        return out

    return Program(names=(name,), writes=writes, reads=_all_operands(_COMPRESS_VALUES))


def _all_operands(values: tuple[str, ...]) -> Reads:
    def reads(args: list[Word], texts: list[str]) -> list[Word]:
        return [w for w in operands_of(args, values) if not is_special_file(w.text)]

    return reads


_PATCH_VALUES = (
    "-p",
    "-d",
    "--directory",
    "-i",
    "--input",
    "-o",
    "--output",
    "-r",
    "--reject-file",
    "-B",
    "--prefix",
    "-F",
    "--fuzz",
    "-z",
    "--suffix",
    "-D",
    "--ifdef",
    "-V",
    "--version-control",
)


def _patch(args: list[Word], texts: list[str]) -> list[Write]:
    if has_flag(texts, ("--dry-run", "-C", "--check")):
        return []
    folder = next(iter(values_of(args, ("-d", "--directory"))), None)
    operands = operands_of(args, _PATCH_VALUES)
    writes = [Write(w) for w in values_of(args, ("-o", "--output", "-r", "--reject-file"))]
    if operands:
        writes.append(Write(_under(folder, operands[0])))
    # The diff names the files it changes or creates (and patch writes .orig and .rej).
    writes.append(Write(_under(folder, Word(DYNAMIC, dynamic=True)), recursive=True))
    return writes


_SPLIT_VALUES = (
    "-a",
    "--suffix-length",
    "-b",
    "--bytes",
    "-C",
    "--line-bytes",
    "-l",
    "--lines",
    "-n",
    "--number",
    "-t",
    "--separator",
    "--additional-suffix",
    "--filter",
)


def _split(args: list[Word], texts: list[str]) -> list[Write]:
    operands = operands_of(args, _SPLIT_VALUES)
    prefix = operands[1] if len(operands) > 1 else Word("x")
    # PREFIXaa, PREFIXab...: the suffixes are made at run time.
    return [Write(Word(prefix.text + DYNAMIC, dynamic=True))]


def _csplit(args: list[Word], texts: list[str]) -> list[Write]:
    prefixes = values_of(args, ("-f", "--prefix")) or [Word("xx")]
    return [Write(Word(prefix.text + DYNAMIC, dynamic=True)) for prefix in prefixes]


def _unzip(args: list[Word], texts: list[str]) -> list[Write]:
    """unzip writes what the archive holds, into `-d DIR`; `-l`, `-t`, `-p`, `-Z` do not."""
    if has_flag(texts, ("-l", "-t", "-p", "-v", "-Z", "-c")):
        return []
    folder = next(iter(values_of(args, ("-d",))), None)
    return [Write(_under(folder, Word(DYNAMIC, dynamic=True)), recursive=True)]


def _seven_zip(args: list[Word], texts: list[str]) -> list[Write]:
    """7z x/e writes what the archive holds, into `-oDIR`; a/u/d change the archive."""
    command = texts[0] if texts else ""
    folders = [Word(w.text[2:], w.dynamic) for w in args if w.text.startswith("-o")]
    if command in ("x", "e"):
        folder = folders[-1] if folders else None
        return [Write(_under(folder, Word(DYNAMIC, dynamic=True)), recursive=True)]
    if command in ("a", "u", "d", "rn") and len(args) > 1:
        return [Write(args[1])]
    return []


def _split_reads(args: list[Word], texts: list[str]) -> list[Word]:
    return [w for w in operands_of(args, _SPLIT_VALUES)[:1] if not is_special_file(w.text)]


PROGRAMS = (
    Program(names=("tar",), writes=_tar, reads=_tar_reads),
    *(_compressor(name, suffix, False) for name, suffix in _COMPRESSED.items()),
    *(_compressor(name, suffix, True) for name, suffix in _DECOMPRESSORS.items()),
    Program(names=("patch",), writes=_patch, reads=_all_operands(_PATCH_VALUES)),
    Program(names=("split",), writes=_split, reads=_split_reads),
    Program(names=("csplit",), writes=_csplit),
    Program(names=("unzip",), writes=_unzip),
    Program(names=("7z", "7za", "7zr"), writes=_seven_zip),
)
