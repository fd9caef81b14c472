"""sshsetup.state: the manifest ``remove`` reads, loaded leniently and written through the one writer."""

from __future__ import annotations

from pathlib import Path

from sshsetup import state
from sshsetup.files import FileChange


def test_load_missing_damaged_and_foreign(tmp_path: Path) -> None:
    p = tmp_path / "manifest.json"
    assert state.load(p) == {"version": 1}
    p.write_text("{not json")
    assert state.load(p) == {"version": 1, "damaged": True}
    p.write_bytes(b"\xff\xfe")
    assert state.load(p) == {"version": 1, "damaged": True}
    p.write_text("[1, 2]")
    assert state.load(p) == {"version": 1}
    p.write_text('{"version": 1, "keys": ["/k"]}')
    assert state.load(p) == {"version": 1, "keys": ["/k"]}


def test_dump_is_sorted_indented_and_ends_in_a_newline() -> None:
    assert state.dump({"version": 1, "b": ["x"], "a": "é"}) == b'{\n  "a": "\\u00e9",\n  "b": [\n    "x"\n  ],\n  "version": 1\n}\n'


def test_change_is_a_private_file_without_backup(tmp_path: Path) -> None:
    p = tmp_path / "manifest.json"
    assert state.change(p, {"version": 1}) == FileChange(p, b'{\n  "version": 1\n}\n', mode=0o600, label="sshsetup state", backup=False)


def test_add_unique_keeps_order_and_drops_repeats() -> None:
    doc: dict[str, object] = {"version": 1}
    for v in ("b", "a", "b"):
        state.add_unique(doc, "keys", v)
    assert doc == {"version": 1, "keys": ["b", "a"]}
