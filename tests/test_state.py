from __future__ import annotations

import json
from pathlib import Path

from sshsetup import files, state
from sshsetup.judoor import records
from sshsetup.judoor.keyline import named_change


def test_one_layout_for_every_record_file(tmp_path: Path) -> None:
    """Manifest, key-line records and named ranges: sorted, indented, final newline, 0600, no backup."""
    doc = {"version": 1, "b": [1], "a": "x"}
    assert state.dump(doc) == b'{\n  "a": "x",\n  "b": [\n    1\n  ],\n  "version": 1\n}\n'
    ch = state.change(tmp_path / "m.json", doc)
    assert (ch.mode, ch.backup, ch.label) == (0o600, False, "sshsetup state")
    named = named_change(tmp_path / "ranges.json", {"office": ["134.94.0.0/16"], "home": ["93.199.0.0/16"]})
    assert named.new == state.dump({"version": 1, "ranges": {"home": ["93.199.0.0/16"], "office": ["134.94.0.0/16"]}})
    assert (named.mode, named.backup, named.label) == (0o600, False, "named ranges")
    rec = records.KeyLineRecord("jusuf", "jsc-jusuf", "SHA256:x", ("10.0.0.0/8",), "2026-01-01T00:00:00+00:00", "from=...")
    kl = records.updated(tmp_path / "keylines.json", [rec])
    assert kl.new is not None and kl.new == state.dump(json.loads(kl.new))
    assert (kl.mode, kl.backup, kl.label) == (0o600, False, "key-line state")


def test_load_add_unique_and_damage(tmp_path: Path) -> None:
    p = tmp_path / "manifest.json"
    assert state.load(p) == {"version": 1}
    doc = state.load(p)
    state.add_unique(doc, "keys", "/k")
    state.add_unique(doc, "keys", "/k")
    files.apply(files.plan([state.change(p, doc)]), dry_run=False)
    assert state.load(p) == {"version": 1, "keys": ["/k"]}
    assert p.stat().st_mode & 0o777 == 0o600
    p.write_text("{not json")
    assert state.load(p) == {"version": 1, "damaged": True}
