"""tests.helpers.snapshot sees every kind of change a refusal must not make."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import Entry, snapshot


def tree(root: Path) -> Path:
    root = root / "t"  # tmp_path holds the fake home too
    root.mkdir()
    (root / "d").mkdir(mode=0o700)
    (root / "d" / "f").write_bytes(b"one\n")
    (root / "d" / "f").chmod(0o600)
    (root / "link").symlink_to("d/f")
    (root / "dirlink").symlink_to("d")
    os.mkfifo(root / "pipe", 0o600)
    return root


def test_snapshot_records_kind_mode_and_content(tmp_path: Path) -> None:
    tmp_path = tree(tmp_path)
    tmp_path.chmod(0o755)
    assert snapshot(tmp_path) == {
        ".": Entry("dir", 0o755, None),
        "d": Entry("dir", 0o700, None),
        "d/f": Entry("file", 0o600, b"one\n"),
        "dirlink": Entry("symlink", 0o777, "d"),
        "link": Entry("symlink", 0o777, "d/f"),
        "pipe": Entry("fifo", 0o600, None),
    }


def test_snapshot_sees_chmod_mkdir_relink_and_bytes(tmp_path: Path) -> None:
    tmp_path = tree(tmp_path)
    before = snapshot(tmp_path)
    changes = [
        lambda: (tmp_path / "d" / "f").chmod(0o644),
        lambda: (tmp_path / "d").chmod(0o755),
        lambda: tmp_path.chmod(0o750),
        lambda: (tmp_path / "d" / "new").mkdir(),
        lambda: ((tmp_path / "link").unlink(), (tmp_path / "link").symlink_to("d")),
        lambda: (tmp_path / "d" / "f").write_bytes(b"two\n"),
        lambda: ((tmp_path / "pipe").unlink(), (tmp_path / "pipe").write_bytes(b"")),
    ]
    for change in changes:
        change()
        after = snapshot(tmp_path)
        assert after != before
        before = after
