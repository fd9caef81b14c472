"""Small test helpers: run the CLI in-process and capture its streams, set environment variables for a while."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sshsetup.catalogue import Site
from sshsetup.cli import main
from sshsetup.slurm.jobscript import make_spec, render_jobscript


@dataclass
class Run:
    rc: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    rc = main(list(args))
    cap = capsys.readouterr()
    return Run(rc, cap.out, cap.err)


@dataclass(frozen=True)
class Entry:
    """One directory entry as ``lstat`` sees it: what it is, its permission bits, and its content."""

    kind: str  # "dir", "file", "symlink", "fifo", "socket", "other"
    mode: int  # stat.S_IMODE: a chmod shows here
    content: bytes | str | None  # a file's bytes, a symlink's target; None for the rest


def entry(path: Path) -> Entry:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return Entry("symlink", stat.S_IMODE(st.st_mode), os.readlink(path))
    if stat.S_ISREG(st.st_mode):
        return Entry("file", stat.S_IMODE(st.st_mode), path.read_bytes())
    kinds = {stat.S_IFDIR: "dir", stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket"}
    return Entry(kinds.get(stat.S_IFMT(st.st_mode), "other"), stat.S_IMODE(st.st_mode), None)


def snapshot(root: Path) -> dict[str, Entry]:
    """Every entry under root, root itself (".") and directories included: relative path -> Entry.

    Equal snapshots prove nothing changed: no byte, no mode, no mkdir, no new or relinked symlink.
    Symlinks are recorded, never followed.
    """
    found = {".": entry(root)}
    for top, dirs, files in os.walk(root):  # os.walk does not descend into symlinked directories
        for name in (*dirs, *files):
            p = Path(top, name)
            found[str(p.relative_to(root))] = entry(p)
    return dict(sorted(found.items()))


LOCK = ".local/state/sshsetup/sshsetup.lock"  # relative to HOME, with conftest's XDG_STATE_HOME


def without_own_lock(after: dict[str, Entry], before: dict[str, Entry]) -> dict[str, Entry]:
    """``after`` less sshsetup's own lock file and the state directories made for it (not user files)."""
    own = {LOCK, *(str(parent) for parent in Path(LOCK).parents if str(parent) != ".")}
    return {k: v for k, v in after.items() if k not in own or k in before and k != LOCK}


@contextlib.contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in os.environ and restore the old ones after (hypothesis tests cannot use monkeypatch)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def make_jobscript(site: Site, account: str, *args: Any, **kw: Any) -> str:
    """A job script's text: ``make_spec``'s arguments (and checks), rendered."""
    return render_jobscript(make_spec(site, account, *args, **kw))
