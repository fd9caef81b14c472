"""The writer refuses read-only and hard-linked files, before anything is written (issue 12 item 12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sshsetup import files
from sshsetup.errors import Refused
from sshsetup.files import FileChange, Verb


def test_a_read_only_file_is_refused_for_update_and_delete_but_not_when_identical(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_bytes(b"{}\n")
    p.chmod(0o444)
    for new in (b"{\"a\": 1}\n", None):
        with pytest.raises(Refused) as err:
            files.plan([FileChange(p, new)])
        assert err.value.message == f"{p} is read-only (mode 0444); sshsetup changes no read-only file"
        assert err.value.hint == f"if it may change, make it writable and run sshsetup again: chmod u+w {p}"
    assert [x.verb for x in files.plan([FileChange(p, b"{}\n")])] == [Verb.IDENTICAL]
    assert p.read_bytes() == b"{}\n"


def test_a_read_only_target_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"a\n")
    real.chmod(0o400)
    link = tmp_path / "config"
    link.symlink_to(real)
    with pytest.raises(Refused, match="config is read-only .mode 0400."):
        files.plan([FileChange(link, b"b\n")])


def test_a_hard_linked_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "config"
    p.write_bytes(b"a\n")
    os.link(p, tmp_path / "dotfile")
    os.link(p, tmp_path / "another")
    with pytest.raises(Refused) as err:
        files.plan([FileChange(p, b"b\n")])
    assert err.value.message == f"{p} has 3 hard links; replacing it would cut it off from the other names"
    assert err.value.hint == ("keep one name and make the others symlinks to it (sshsetup writes through symlinks); "
                              f"they are: find ~ -xdev -samefile {p}")


def test_the_way_back_link_of_a_running_write_is_not_the_users(tmp_path: Path) -> None:
    p = tmp_path / "config"
    p.write_bytes(b"a\n")
    os.link(p, tmp_path / ".config.k3j4.sshsetup-tmp")  # what apply holds while it renames (or a killed run left)
    (o,) = files.apply(files.plan([FileChange(p, b"b\n")]), dry_run=False)
    assert o.verb is Verb.UPDATE and p.read_bytes() == b"b\n"
