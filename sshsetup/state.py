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

from sshsetup.errors import Refused
from sshsetup.files import FileChange, read_bytes

VERSION = 1
# the manifest's members and their types: a record of another type is refused, never half-used
_LISTS = ("keys", "control_dirs", "workspaces")  # of strings (paths)
_STRINGS = ("ssh_config",)
_TABLES = ("vscode_settings", "tasks_files")  # path -> record (each record checks its own fields)


def load(path: Path) -> dict[str, Any]:
    data = read_bytes(path)
    if data is None:
        return {"version": VERSION}
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError:
        return {"version": VERSION, "damaged": True}
    if not isinstance(doc, dict):
        return {"version": VERSION}
    _check_types(path, doc)
    return doc


def _check_types(path: Path, doc: Mapping[str, Any]) -> None:
    """Refuse a record whose known members have the wrong type (hand-edited, or another program's)."""
    for key in _LISTS:
        v = doc.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise _damaged(path, key, "a list of strings")
    for key in _STRINGS:
        if not isinstance(doc.get(key, ""), str):
            raise _damaged(path, key, "a string")
    for key in _TABLES:
        v = doc.get(key, {})
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v):
            raise _damaged(path, key, "a table keyed by file names")


def _damaged(path: Path, key: str, what: str) -> Refused:
    return Refused(f"sshsetup's record {path} is damaged: {key} must be {what}",
                   hint=f"move it away (mv {path} {path}.damaged) and run the command again; "
                        "remove then still takes out the managed ssh block")


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
