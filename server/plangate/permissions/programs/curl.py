"""curl and wget: the files they download into, and the other files they write.

curl writes `-o F` (also in clusters: `-sSLo F`), the URL's last segment with `-O`,
`--remote-name-all` (in `--output-dir D` when given), headers with `-D F`, cookies with `-c F`,
traces, and whatever its config file (`-K F`) says. wget writes the URL's last segment by
default (`-O F` instead, `-P D` for the folder), its log with `-o`/`-a`, and a whole tree with
`-r`/`-m`. A name the server chooses (`-J`, `--content-disposition`), a URL glob (`{a,b}`,
`[1-9]`) or a list of URLs in a file is a path known only at run time. The files they send
(`curl -T F`, `-d @F`, `-F f=@F`, `wget --post-file F`) are reads: `curl -T .env URL` sends the
secret away.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from plangate.permissions.invocation import Write, is_special_file, operands_of, values_of
from plangate.permissions.options import has_flag
from plangate.permissions.programs.base import Program
from plangate.permissions.words import DYNAMIC, Word

_UNKNOWN = Word(DYNAMIC, dynamic=True)
_CURL_WRITES = (
    "-o",
    "--output",
    "-D",
    "--dump-header",
    "-c",
    "--cookie-jar",
    "--trace",
    "--trace-ascii",
    "--stderr",
    "--libcurl",
    "--etag-save",
    "--hsts",
    "--alt-svc",
)
# Options that take a value (a wrong entry hides a URL; a missing one makes a value a URL,
# which only adds a write to check).
_CURL_VALUES = (
    *_CURL_WRITES,
    "-d",
    "--data",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "-F",
    "--form",
    "-H",
    "--header",
    "-X",
    "--request",
    "-u",
    "--user",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
    "-b",
    "--cookie",
    "-x",
    "--proxy",
    "-m",
    "--max-time",
    "--connect-timeout",
    "-r",
    "--range",
    "-T",
    "--upload-file",
    "-w",
    "--write-out",
    "-K",
    "--config",
    "--output-dir",
    "--retry",
    "--resolve",
    "--cacert",
    "--cert",
    "--key",
    "-E",
    "-Y",
    "-y",
    "-z",
    "--time-cond",
    "--url",
    "--json",
)
_WGET_VALUES = (
    "-O",
    "--output-document",
    "-o",
    "--output-file",
    "-a",
    "--append-output",
    "-P",
    "--directory-prefix",
    "-i",
    "--input-file",
    "-e",
    "--execute",
    "-U",
    "--user-agent",
    "-t",
    "--tries",
    "-T",
    "--timeout",
    "-l",
    "--level",
    "-A",
    "--accept",
    "-R",
    "--reject",
    "--header",
    "--post-data",
    "--post-file",
    "--body-file",
    "--save-cookies",
    "--load-cookies",
    "--config",
    "--user",
    "--password",
    "-w",
    "--wait",
    "-Q",
    "--quota",
    "--cut-dirs",
    "-B",
    "--base",
)


def _remote_names(url: Word, folder: Word | None, default: str = "") -> list[Word]:
    """The file a download of `url` is saved as: its last path segment, in `folder` (older
    curl and wget keep the query string in the name: both are checked)."""
    if url.dynamic or any(c in url.text for c in "{}[]"):
        return [_UNKNOWN]  # computed, or a URL glob that names several files
    text = url.text if "://" in url.text else f"http://{url.text}"
    parts = urlsplit(text)
    names = {posixpath.basename(parts.path) or default}
    if parts.query:
        names.add(posixpath.basename(text.split("#", 1)[0]))
    if "" in names:
        return [_UNKNOWN]
    if folder is None:
        return [Word(name) for name in sorted(names)]
    return [Word(f"{folder.text.rstrip('/')}/{name}", folder.dynamic) for name in sorted(names)]


def _curl(args: list[Word], texts: list[str]) -> list[Write]:
    writes = [Write(w) for w in values_of(args, _CURL_WRITES)]
    folder = next(iter(values_of(args, ("--output-dir",))), None)
    urls = [*operands_of(args, _CURL_VALUES), *values_of(args, ("--url",))]
    remote = has_flag(texts, ("-O", "--remote-name", "--remote-name-all"))
    if remote and has_flag(texts, ("-J", "--remote-header-name")):
        writes.append(Write(_UNKNOWN))  # the server names the file
    elif remote:
        writes += [Write(name) for url in urls for name in _remote_names(url, folder)]
    if values_of(args, ("-K", "--config")):
        writes.append(Write(_UNKNOWN))  # a config file can say `output = F`
    return writes


_CURL_DATA = ("-d", "--data", "--data-binary", "--data-urlencode", "--json")


def _curl_reads(args: list[Word], texts: list[str]) -> list[Word]:
    """Files curl sends or reads: `-T F`, `-d @F`, `-F name=@F` or `name=<F`, `-K F`."""
    reads = values_of(args, ("-T", "--upload-file", "-K", "--config"))
    for value in values_of(args, _CURL_DATA):
        _, at, name = value.text.partition("@")
        if at:
            reads.append(Word(name, value.dynamic))
    for value in values_of(args, ("-F", "--form")):
        _, _, field = value.text.partition("=")
        if field[:1] in ("@", "<"):
            reads.append(Word(field[1:].split(";", 1)[0], value.dynamic))
    return [w for w in reads if not is_special_file(w.text)]


def _wget(args: list[Word], texts: list[str]) -> list[Write]:
    writes = [
        Write(w)
        for w in values_of(args, ("-o", "--output-file", "-a", "--append-output", "--save-cookies"))
    ]
    folder = next(iter(values_of(args, ("-P", "--directory-prefix"))), None)
    documents = values_of(args, ("-O", "--output-document"))
    recursive = has_flag(
        texts, ("-r", "--recursive", "-m", "--mirror", "-p", "--page-requisites", "-x")
    )
    if documents:
        writes += [Write(w) for w in documents]
    elif recursive:
        # A tree named after the host and the URL's path (or not, with -nH, --cut-dirs).
        base = folder.text.rstrip("/") + "/" if folder is not None else ""
        writes.append(Write(Word(base + DYNAMIC, dynamic=True), recursive=True))
    elif has_flag(texts, ("--content-disposition", "-i", "--input-file", "-e", "--execute")):
        writes.append(Write(_UNKNOWN))  # named by the server, a URL list or a wgetrc command
    else:
        urls = operands_of(args, _WGET_VALUES)
        writes += [Write(name) for url in urls for name in _remote_names(url, folder, "index.html")]
    if values_of(args, ("--config",)):
        writes.append(Write(_UNKNOWN))
    return writes


def _wget_reads(args: list[Word], texts: list[str]) -> list[Word]:
    """Files wget sends or reads: `--post-file F`, `--body-file F`, `-i F`, `--config F`."""
    names = ("--post-file", "--body-file", "-i", "--input-file", "--config", "--load-cookies")
    return [w for w in values_of(args, names) if not is_special_file(w.text)]


PROGRAMS = (
    Program(names=("curl",), writes=_curl, reads=_curl_reads),
    Program(names=("wget",), writes=_wget, reads=_wget_reads),
)
