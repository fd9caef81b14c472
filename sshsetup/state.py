"""sshsetup's own records (platformdirs state dir): what it wrote, for ``remove``.

The manifest lists every artefact outside the managed ssh block: the socket
directory, the VS Code settings members (with their earlier raw values), the
workspace task files and the keys (which ``remove`` lists but never deletes).
It is written through the same atomic writer as everything else.
"""

from __future__ import annotations

import json
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


def dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def change(path: Path, doc: dict[str, Any]) -> FileChange:
    return FileChange(path, dump(doc), mode=0o600, label="sshsetup state", backup=False)


def add_unique(doc: dict[str, Any], key: str, value: str) -> None:
    items = doc.setdefault(key, [])
    if value not in items:
        items.append(value)
