"""The user's own part of an ssh config, read line by line as OpenSSH reads it (pure but for Includes).

One reader for everything that looks at the user's lines outside the managed block: hand-written
entries for a managed host (``ssh.handwritten``) and aliases a sites file would take over
(``ssh.takeover``).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sshsetup.ssh.block import BEGIN, END

_KV = re.compile(r"\s*([A-Za-z]+)(?:\s*=\s*|\s+)(.*?)\s*$")
MAX_INCLUDE_DEPTH = 16


@dataclass(frozen=True)
class Line:
    file: Path
    number: int
    key: str  # lower case
    value: str


def words(value: str) -> list[str]:
    """The arguments of a line, up to a trailing ``# comment`` (as OpenSSH reads it)."""
    out = []
    for w in value.split():
        if w.startswith("#"):
            break
        out.append(w.strip('"'))
    return out


def lines(text: str, file: Path, ssh_dir: Path, depth: int = 0) -> Iterator[Line]:
    """Every keyword line outside the managed block, with the lines of ``Include``d files in its place
    (relative paths under ``ssh_dir``, as ssh resolves them; at most 16 levels deep)."""
    inside = False
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith(BEGIN):
            inside = True
        elif stripped.startswith(END):
            inside = False
        m = _KV.match(raw)
        if inside or m is None or stripped.startswith("#"):
            continue
        key, value = m.group(1).lower(), m.group(2)
        if key != "include":
            yield Line(file, n, key, value)
            continue
        yield Line(file, n, key, value)  # callers may close a section here
        if depth >= MAX_INCLUDE_DEPTH:
            continue
        for pat in words(value):
            full = os.path.expanduser(pat) if pat.startswith("~") else pat if os.path.isabs(pat) else str(ssh_dir / pat)
            for inc in sorted(glob.glob(full)):
                try:
                    sub = Path(inc).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                yield from lines(sub, Path(inc), ssh_dir, depth + 1)
