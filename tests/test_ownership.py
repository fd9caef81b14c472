"""Issue 12 item 5: sshsetup refuses a home that the effective user does not own (sudo -E, macOS sudo).

The tests run as root (like the rest of the suite) and give the fake home to ``nobody``: that is
exactly ``sudo -E sshsetup init`` in alice's home.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sshsetup.errors import Refused
from sshsetup.ownership import home_owner_problem, require_own_home
from sshsetup.paths import Paths
from tests.helpers import run_cli, snapshot

NOBODY = 65534
ROOT_HINT = ("run sshsetup as nobody, without sudo (files written as root would lock nobody out of them); "
             "to set up root's own ssh, use root's home: sudo -H sshsetup ...")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand a directory to another user")


def _paths() -> Paths:
    return Paths.from_env()


def test_own_home_is_fine(fake_home: Path) -> None:
    assert home_owner_problem(_paths()) is None
    require_own_home(_paths())


def test_root_in_someone_elses_home_is_refused(fake_home: Path) -> None:
    os.chown(fake_home, NOBODY, -1)
    assert home_owner_problem(_paths()) == f"{fake_home} belongs to nobody, but sshsetup runs as root"
    with pytest.raises(Refused) as exc:
        require_own_home(_paths())
    assert (exc.value.message, exc.value.hint, exc.value.exit_code) == (
        f"{fake_home} belongs to nobody, but sshsetup runs as root", ROOT_HINT, 1)


def test_a_foreign_ssh_dir_is_refused(fake_home: Path) -> None:
    (fake_home / ".ssh").mkdir(mode=0o700)
    os.chown(fake_home / ".ssh", NOBODY, -1)
    assert home_owner_problem(_paths()) == f"{fake_home / '.ssh'} belongs to nobody, but sshsetup runs as root"


def test_a_foreign_state_dir_is_refused(fake_home: Path) -> None:
    state = _paths().state_dir
    state.mkdir(parents=True)
    os.chown(state, NOBODY, -1)
    assert home_owner_problem(_paths()) == f"{state} belongs to nobody, but sshsetup runs as root"


def test_a_user_in_roots_home(fake_home: Path) -> None:
    with pytest.raises(Refused) as exc:
        require_own_home(_paths(), euid=NOBODY)
    assert (exc.value.message, exc.value.hint) == (
        f"{fake_home} belongs to root, but sshsetup runs as nobody", "run sshsetup as root, or set HOME to your own home directory")


def test_an_unknown_owner_is_named_by_uid(fake_home: Path) -> None:
    os.chown(fake_home, 4242, -1)
    assert home_owner_problem(_paths()) == f"{fake_home} belongs to uid 4242, but sshsetup runs as root"


def test_a_missing_home_is_left_to_the_other_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "nowhere"))
    assert home_owner_problem(_paths()) is None


def test_init_as_root_in_someone_elses_home_changes_nothing(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ssh = fake_home / ".ssh"
    ssh.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-f", str(ssh / "id")], check=True)
    for p in (fake_home, ssh, ssh / "id", ssh / "id.pub"):
        os.chown(p, NOBODY, -1)
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--yes", "--user", "smith1", "--key", str(ssh / "id"), "--no-vscode")
    assert (r.rc, r.err.splitlines()) == (1, [f"error: {fake_home} belongs to nobody, but sshsetup runs as root", f"hint: {ROOT_HINT}"])
    assert snapshot(fake_home) == before
    assert all(p.stat().st_uid == NOBODY for p in fake_home.rglob("*"))
