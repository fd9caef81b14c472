"""Backups are pruned to the newest ``KEEP_BACKUPS`` per file, and ``remove`` lists the ones kept (issue 12 item 12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sshsetup import files
from sshsetup.files import FileChange
from tests.helpers import run_cli


def _write(p: Path, data: bytes, stamp: str) -> None:
    files.apply(files.plan([FileChange(p, data)]), dry_run=False, stamp=stamp)


def test_the_newest_five_backups_per_file_are_kept(tmp_path: Path) -> None:
    assert files.KEEP_BACKUPS == 5
    p = tmp_path / "config"
    p.write_bytes(b"v0\n")
    other = tmp_path / "config.sshsetup-backup-mine"  # not one of sshsetup's names: never touched
    other.write_bytes(b"mine\n")
    beside = tmp_path / "settings.json.sshsetup-backup-20240101T000000"  # another file's backup
    beside.write_bytes(b"{}\n")
    for i in range(1, 8):
        _write(p, f"v{i}\n".encode(), f"2025010{i}T120000")
    kept = files.backups(p)
    assert [b.name for b in kept] == [f"config.sshsetup-backup-2025010{i}T120000" for i in range(3, 8)]
    assert [b.read_bytes() for b in kept] == [f"v{i}\n".encode() for i in range(2, 7)]
    assert other.read_bytes() == b"mine\n" and beside.exists()


def test_backups_of_one_second_sort_by_their_number(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"0\n")
    for i in range(1, 13):
        _write(p, f"{i}\n".encode(), "20250101T120000")
    assert [b.name for b in files.backups(p)] == [f"f.sshsetup-backup-20250101T120000-{n}" for n in range(7, 12)]
    assert files.backups(p)[-1].read_bytes() == b"11\n"


def test_a_failed_write_prunes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"0\n")
    for i in range(1, 6):
        _write(p, f"{i}\n".encode(), f"2025010{i}T120000")
    before = files.backups(p)
    blocked = tmp_path / "sub"
    blocked.write_bytes(b"a file where a directory must be")
    with pytest.raises(Exception):  # noqa: B017, PT011 - the writer's own error for the second change
        files.apply(files.plan([FileChange(p, b"6\n"), FileChange(blocked / "x", b"x")]), dry_run=False, stamp="20250109T120000")
    assert files.backups(p) == before and p.read_bytes() == b"5\n"


def test_backups_follow_a_symlink_to_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "ssh_config"
    real.parent.mkdir()
    real.write_bytes(b"a\n")
    link = tmp_path / "config"
    os.symlink(real, link)
    _write(link, b"b\n", "20250101T120000")
    assert files.backups(link) == [real.with_name("ssh_config.sshsetup-backup-20250101T120000")]


def test_remove_lists_the_backups_it_keeps(capsys: pytest.CaptureFixture[str], key: Path, fake_home: Path) -> None:
    config = fake_home / ".ssh" / "config"
    config.write_text("Host mine\n  HostName mine.example.org\n")
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode").rc == 0
    dry = run_cli(capsys, "remove", "--dry-run")
    (first,) = files.backups(config)
    assert (f"Backups sshsetup kept (the newest 5 per file; delete them yourself once you no longer need them):\n"
            f"  {first}\n") in dry.err + dry.out
    r = run_cli(capsys, "remove", "--yes")
    assert r.rc == 0, r.err
    assert config.read_text() == "Host mine\n  HostName mine.example.org\n"
    kept = files.backups(config)
    assert len(kept) == 2 and kept[0] == first
    assert "".join(f"  {b}\n" for b in kept) in r.err + r.out
