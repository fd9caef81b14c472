"""``sshsetup explain [FILE|-]``: name the causes in a pasted ssh or VS Code log.

Support staff run this on a ticket. Reads FILE (or stdin for ``-``), classifies it with
``sshsetup.support.sshlog`` and prints each cause with its evidence lines and hint, or the JSON
envelope ``{"version": 1, "causes": [...]}``. Exit 0 (also when nothing is recognised;
the output says so); exit 2 when the input cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

from sshsetup.errors import BadInput
from sshsetup.support import sshlog


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM (PowerShell's ``2> file``)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig", errors="replace")


def read_source(source: Path | str, stdin: BinaryIO | None = None) -> str:
    if str(source) == "-":
        return decode((stdin if stdin is not None else sys.stdin.buffer).read())
    path = Path(source)
    try:
        return decode(path.read_bytes())
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist", hint="give the file with the log, or - to read it from stdin") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None


def human(findings: list[sshlog.Finding], n_lines: int) -> str:
    if not findings:
        return (f"no known cause found in {n_lines} lines\n"
                "    hint: paste the whole output of: ssh -v ALIAS true (or Remote-SSH: Show Log), or run: sshsetup doctor\n")
    out = []
    for f in findings:
        out.append(f"{f.cause}: {f.title}")
        out.append("    line" + ("s " if len(f.lines) > 1 else " ") + ", ".join(map(str, f.lines)))
        out.append(f"    hint: {f.hint}")
    return "\n".join(out) + "\n"


def explain(source: Path | str, json_out: bool = False, stdin: BinaryIO | None = None, out: TextIO | None = None) -> int:
    text = read_source(source, stdin)
    findings = sshlog.classify(text)
    stream = out if out is not None else sys.stdout
    if json_out:
        stream.write(json.dumps(sshlog.to_json(findings), sort_keys=True, indent=2) + "\n")
    else:
        stream.write(human(findings, len(text.splitlines())))
    return 0
