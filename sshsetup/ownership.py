"""Refuse to work in a home the effective user does not own (``sudo -E sshsetup init``, macOS sudo).

Run as root in alice's home, every file sshsetup creates (key, config, backups,
lock, state) would belong to root: alice's ssh could not read her key, and
sshsetup itself, run again as alice, would meet a root-owned lock. So sshsetup
refuses before it reads or writes anything, and says how to run it instead.

Refusing was chosen over "give each file the owner of what it replaces" because
a new file (a new key, a first config, the state directory) replaces nothing:
its owner would be a guess, and a wrong guess (root owning alice's private key,
or alice owning a file root meant for itself) is exactly the failure to avoid.
Root that means its own ssh setup runs with its own HOME (plain ``sudo -H`` or
``sudo -i``), which passes this check.

Checked: the home itself, and those of ``~/.ssh``, the config directory and the
state directory that exist already.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sshsetup.errors import Refused

if TYPE_CHECKING:
    from sshsetup.paths import Paths


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _checked(paths: Paths) -> list[Path]:
    extra = [paths.ssh_dir, paths.config_dir, paths.state_dir]
    return [paths.home, *[p for p in extra if p.exists()]]


def _foreign(paths: Paths, euid: int) -> tuple[Path, int] | None:
    for path in _checked(paths):
        try:
            owner = path.stat().st_uid
        except OSError:  # a missing home is reported elsewhere, with its own hint
            continue
        if owner != euid:
            return path, owner
    return None


def _effective(euid: int | None) -> int | None:
    if euid is not None:
        return euid
    return os.geteuid() if hasattr(os, "geteuid") else None  # Windows: no file owners in this sense


def _problem(paths: Paths, euid: int | None) -> tuple[str, str] | None:
    me = _effective(euid)
    found = None if me is None else _foreign(paths, me)
    if me is None or found is None:
        return None
    path, owner_uid = found
    owner, runner = _user_name(owner_uid), _user_name(me)
    if me == 0:
        hint = (f"run sshsetup as {owner}, without sudo (files written as root would lock {owner} out of them); "
                "to set up root's own ssh, use root's home: sudo -H sshsetup ...")
    else:
        hint = f"run sshsetup as {owner}, or set HOME to your own home directory"
    return f"{path} belongs to {owner}, but sshsetup runs as {runner}", hint


def home_owner_problem(paths: Paths, euid: int | None = None) -> str | None:
    """Why sshsetup must not work in ``paths`` as ``euid`` (default: the effective uid), or None. Read-only."""
    found = _problem(paths, euid)
    return None if found is None else found[0]


def require_own_home(paths: Paths, euid: int | None = None) -> None:
    """Raise Refused (exit 1, error and hint) when the effective user does not own the home."""
    found = _problem(paths, euid)
    if found is not None:
        raise Refused(found[0], hint=found[1])
