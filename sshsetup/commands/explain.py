"""``sshsetup explain [FILE|-] [--json]``: name the causes in a pasted ssh or VS Code log.

Support staff run this on a ticket. Reads FILE (or stdin for ``-``) in pieces, so a log of any
size is classified in linear time and bounded memory (``sshsetup.support.sshlog``), and prints
each cause with its evidence lines and hint, or the JSON envelope (kind ``explain``, version 1),
as one ``Result`` that ``sshsetup.render`` prints. Every string taken from the log is shown through
``sshsetup.sanitize``: escape sequences in a stranger's log never reach the terminal.

Exit 0, also when nothing is recognised (the output says so: "unknown" rather than a guess);
exit 2 when the input cannot be read or is not text.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sshsetup.errors import EXIT_OK, BadInput
from sshsetup.result import Result
from sshsetup.sanitize import shown
from sshsetup.support import sshlog

if TYPE_CHECKING:
    from sshsetup.paths import Paths

JSON_KIND = "explain"
JSON_VERSION = 1
CHUNK = 1 << 20
SHOWN_EVIDENCE = 3  # evidence lines printed per cause (--json has up to 5)
NOTHING_HINT = "paste the whole output of: ssh -v ALIAS true (or Remote-SSH: Show Log), or run: sshsetup doctor"


@dataclass(frozen=True)
class ExplainOptions:
    source: str  # a file, or "-" for stdin
    json_out: bool = False


def sniff_encoding(head: bytes) -> str:
    """The codec of a log from its first bytes: a BOM, UTF-16 without BOM (every other byte NUL,
    as PowerShell's ``2> file`` may write it), UTF-8, or else Latin-1 (cp1252)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            return "cp1252"
    return "utf-8"


def _is_binary(text: str) -> bool:
    sample = text[:8192]
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\x1b") or ch == "\ufffd")
    return len(sample) > 0 and bad > 0.1 * len(sample)


def decode(data: bytes) -> str:
    """A whole log's text (see ``sniff_encoding``); undecodable bytes become U+FFFD."""
    return data.decode(sniff_encoding(data), errors="replace")


def read_pieces(stream: BinaryIO, name: str) -> Iterator[str]:
    """The log's text in pieces of about CHUNK bytes; BadInput if it is not text."""
    head = stream.read(CHUNK)
    decoder = codecs.getincrementaldecoder(sniff_encoding(head))(errors="replace")
    first = decoder.decode(head)
    if _is_binary(first):
        raise BadInput(f"{name} is not a text log (binary data)", hint="give the ssh -v output or the Remote-SSH log as text")
    yield first
    while True:
        data = stream.read(CHUNK)
        if not data:
            break
        yield decoder.decode(data)
    yield decoder.decode(b"", final=True)


def _open(source: str, stdin: BinaryIO | None) -> tuple[BinaryIO, str, bool]:
    if source == "-":
        return (stdin if stdin is not None else sys.stdin.buffer), "stdin", False
    path = Path(source)
    try:
        if path.is_dir():
            raise BadInput(f"{shown(source)} is a directory", hint="give the file with the log, or - to read it from stdin")
        return path.open("rb"), shown(str(path)), True
    except FileNotFoundError:
        raise BadInput(f"{shown(str(path))} does not exist", hint="give the file with the log, or - to read it from stdin") from None
    except OSError as exc:
        raise BadInput(f"cannot read {shown(str(path))}: {exc.strerror or exc}") from None


def classify_source(source: str, stdin: BinaryIO | None = None) -> tuple[list[sshlog.Finding], int]:
    """The findings and line count of FILE or ``-``."""
    stream, name, close = _open(source, stdin)
    try:
        return sshlog.classify_stream(read_pieces(stream, name))
    except OSError as exc:
        raise BadInput(f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        if close:
            stream.close()


def human(findings: list[sshlog.Finding], n_lines: int) -> str:
    """The text report; every string from the log shown through ``sanitize.shown``."""
    if not findings:
        return f"unknown: no known cause found in {n_lines} lines\n    hint: {NOTHING_HINT}\n"
    out = []
    for f in findings:
        out.append(f"{f.cause}: {shown(f.title)}")
        out.append("    line" + ("s " if len(f.lines) > 1 else " ") + ", ".join(map(str, f.lines)))
        for n, text in list(zip(f.lines, f.evidence, strict=False))[:SHOWN_EVIDENCE]:
            if text:
                out.append(f"      {n} | {shown(text)}")
        out.append(f"    hint: {shown(f.hint)}")
    return "\n".join(out) + "\n"


def payload(findings: list[sshlog.Finding], n_lines: int) -> dict[str, Any]:
    return {"causes": [f.to_json() for f in findings], "lines": n_lines}


def run(paths: Paths | None, options: ExplainOptions, *, stdin: BinaryIO | None = None) -> Result:
    """The command: classify ``options.source``; the text report (stdout) and the JSON payload."""
    del paths  # explain reads only the log it is given
    findings, n_lines = classify_source(options.source, stdin)
    return Result(JSON_KIND, EXIT_OK, output=human(findings, n_lines), data=payload(findings, n_lines), version=JSON_VERSION,
                  json_exit_code=False)
