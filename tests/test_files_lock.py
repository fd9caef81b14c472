"""A lock file (or state directory) another user owns, e.g. left by ``sudo sshsetup``: one refusal, not a crash.

The test runs as root and takes another user's identity (``nobody``, by ``seteuid``) for the call,
so the kernel's own permission checks refuse the open: nothing is faked.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshsetup import files
from sshsetup.errors import Refused
from tests.testbed.require import require_root


@contextlib.contextmanager
def as_nobody() -> Iterator[None]:
    nobody = pwd.getpwnam("nobody")
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def nobody_state() -> Iterator[Path]:
    """A state directory of nobody's (under a fresh directory in /tmp that nobody can reach)."""
    require_root("a lock file owned by another user")
    nobody = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(prefix="sshsetup-lock-"))
    try:
        base.chmod(0o755)
        state = base / "state"
        state.mkdir()
        os.chown(state, nobody.pw_uid, nobody.pw_gid)
        yield state
    finally:
        shutil.rmtree(base)


HINT = "sshsetup probably ran as another user (sudo) before; give its files back: sudo chown -R \"$USER\" {}"


def test_a_root_owned_lock_file_is_one_refusal(nobody_state: Path) -> None:
    lock = nobody_state / "sshsetup.lock"
    lock.write_bytes(b"")
    lock.chmod(0o600)  # root's, as a sudo run leaves it
    with pytest.raises(Refused) as err, as_nobody(), files.locked(lock, timeout=1):
        pass
    assert err.value.message == f"cannot open the lock file {lock}: permission denied (owned by root)"
    assert err.value.hint == HINT.format(nobody_state)
    assert lock.stat().st_uid == 0 and lock.read_bytes() == b""


def test_a_root_owned_state_directory_is_one_refusal(nobody_state: Path) -> None:
    os.chown(nobody_state, 0, 0)
    nobody_state.chmod(0o755)  # readable, not writable: the lock file cannot be created
    lock = nobody_state / "sshsetup.lock"
    with pytest.raises(Refused) as err, as_nobody(), files.locked(lock, timeout=1):
        pass
    assert err.value.message == f"cannot open the lock file {lock}: permission denied (owned by root)"
    assert err.value.hint == HINT.format(nobody_state)
    assert not lock.exists()


def test_the_users_own_lock_file_still_locks(nobody_state: Path) -> None:
    lock = nobody_state / "sshsetup.lock"
    with as_nobody(), files.locked(lock, timeout=1):
        assert lock.stat().st_uid == pwd.getpwnam("nobody").pw_uid
