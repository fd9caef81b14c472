"""sshsetup's own records (platformdirs state dir): what it wrote, for ``remove``.

The manifest lists every artefact outside the managed ssh block: the socket
directory, the VS Code settings members (with their earlier raw values), the
workspace task files and the keys (which ``remove`` lists but never deletes).
It is written through the same atomic writer as everything else; :func:`change` is also
how every other record file (key-line records, named ranges) is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sshsetup.files import FileChange, read_bytes

VERSION = 1


def load(path: Path) -> dict[str, Any]:
    data = read_bytes(path)
    if data is None:
        return {"version": VERSION}
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError:
        return {"version": VERSION, "damaged": True}
    return doc if isinstance(doc, dict) else {"version": VERSION}


def dump(doc: Mapping[str, Any]) -> bytes:
    """The one JSON layout of sshsetup's own records: indented, sorted keys, final newline."""
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def change(path: Path, doc: Mapping[str, Any], *, label: str = "sshsetup state") -> FileChange:
    """A private record file (mode 0600, no backup) for the one writer."""
    return FileChange(path, dump(doc), mode=0o600, label=label, backup=False)


def add_unique(doc: dict[str, Any], key: str, value: str) -> None:
    items = doc.setdefault(key, [])
    if value not in items:
        items.append(value)
