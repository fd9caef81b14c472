"""The one writer: plan changes, show them as a diff, apply them atomically.

Pure code computes ``FileChange`` records (path + new bytes). ``plan`` compares
them with the disk and gives each a verb; ``apply`` writes them: temp file in the
same directory, fsync, rename, through symlinks to their target, keeping the mode
and a timestamped backup of the old bytes (the newest ``KEEP_BACKUPS`` per file are kept).
"""

from __future__ import annotations

import contextlib
import difflib
import enum
import errno
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sshsetup.errors import Refused

STALE_CHECK_SECONDS = 3600.0
DIR_MODE = 0o700  # every directory sshsetup creates, whatever the umask (as ssh-keygen makes ~/.ssh)


class Verb(str, enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    IDENTICAL = "identical"
    DELETE = "delete"
    REFUSE = "refuse"


@dataclass(frozen=True)
class FileChange:
    path: Path
    new: bytes | None  # None: delete the file (only if it exists)
    mode: int = 0o600  # for a new file; an existing file keeps its mode
    label: str = ""
    backup: bool = True
    refuse: str | None = None  # a reason: the writer must not touch this file
    dir_mode: int = DIR_MODE  # for the missing directories above a new file
    exclusive: bool = False  # a new file must not appear meanwhile: linked into place (O_EXCL semantics), never renamed over


@dataclass(frozen=True)
class Planned:
    change: FileChange
    target: Path  # the real file (symlinks resolved)
    old: bytes | None
    verb: Verb


@dataclass(frozen=True)
class Outcome:
    path: Path
    verb: Verb
    backup: Path | None = None
    reason: str | None = None


def checkpoint(name: str) -> None:
    """A named point of a write, for the crash-safety suite (``sshsetup._testhook``).

    The hook module is imported only when ``SSHSETUP_TEST_HOOK_DIR`` is set; otherwise this does nothing.
    """
    if os.environ.get("SSHSETUP_TEST_HOOK_DIR"):
        from sshsetup import _testhook

        _testhook.reached(name)


def ensure_dir(path: Path, mode: int = DIR_MODE) -> list[Path]:
    """Create ``path`` and its missing parents with exactly ``mode`` (not ``mode & ~umask``).

    Existing directories are left as they are. Returns the directories created, outermost first.
    """
    missing: list[Path] = []
    d = path
    while not d.exists():
        missing.append(d)
        if d.parent == d:
            break
        d = d.parent
    created: list[Path] = []
    for m in reversed(missing):
        try:
            m.mkdir(mode=mode)
        except FileExistsError:
            continue
        os.chmod(m, mode)  # the umask narrowed (or, at 000, did not narrow) what mkdir made
        created.append(m)
    return created


def remove_dirs(created: Sequence[Path]) -> None:
    """Take back directories ``ensure_dir`` created, innermost first, if they are still empty."""
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()


def real_target(path: Path) -> Path:
    """The file a write to ``path`` must change: the end of a symlink chain."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(f"{path} is a symlink loop", hint=f"fix or remove the link: ls -l {path}") from None
    return Path(os.path.realpath(path))


READ_LIMIT = 16 * 1024 * 1024  # no file sshsetup edits is near this: a larger one is refused, never read to the end


def read_bytes(path: Path) -> bytes | None:
    """The bytes of a file sshsetup may change (None: it does not exist); a FIFO, a device or a
    huge file is refused with a hint, never read (it could block forever or never end)."""
    target = real_target(path)
    try:
        st = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a file where a parent directory should be
        return None
    except PermissionError:
        raise Refused(f"cannot read {path}: permission denied", hint=f"check its owner and mode: ls -l {path}") from None
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        from sshsetup.userfile import read_regular

        return read_regular(target, limit=READ_LIMIT, what="", error=Refused)  # refuses with the kind of file it is
    if st.st_size > READ_LIMIT:
        raise Refused(f"{path} is larger than {READ_LIMIT >> 20} MiB; sshsetup does not edit it",
                      hint=f"check that {path} is the file you mean")
    try:
        return target.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise Refused(f"{path} is a directory, not a file", hint=f"move it away: mv {path} {path}.dir") from None
    except PermissionError:
        raise Refused(f"cannot read {path}: permission denied", hint=f"check its owner and mode: ls -l {path}") from None


def plan(changes: Sequence[FileChange]) -> list[Planned]:
    out: list[Planned] = []
    for ch in changes:
        target = real_target(ch.path)
        old = read_bytes(ch.path)
        if ch.refuse is not None:
            verb = Verb.REFUSE
        elif ch.new is None:
            verb = Verb.IDENTICAL if old is None else Verb.DELETE
        elif old is None:
            verb = Verb.CREATE
        elif old == ch.new:
            verb = Verb.IDENTICAL
        else:
            verb = Verb.UPDATE
        if verb in (Verb.UPDATE, Verb.DELETE):
            writable(ch.path, target)
        out.append(Planned(ch, target, old, verb))
    return out


def writable(path: Path, target: Path) -> None:
    """Refuse to replace or delete a read-only file, or one with more than one hard link.

    A file without its owner's write bit (``chmod a-w``, Windows' read-only attribute) says
    "leave me": sshsetup does, as VS Code does. A hard-linked file cannot be replaced atomically
    without cutting it off from its other names, and writing it in place would give up the
    all-or-nothing write: sshsetup refuses, and a symlink (which it follows) shares a file as well.
    """
    try:
        st = os.stat(target)
    except OSError:
        return
    if not st.st_mode & stat.S_IWUSR:
        raise Refused(f"{path} is read-only (mode {stat.S_IMODE(st.st_mode):04o}); sshsetup changes no read-only file",
                      hint=f"if it may change, make it writable and run sshsetup again: chmod u+w {target}")
    links = _user_links(target, st)
    if links > 1:
        raise Refused(f"{path} has {links} hard links; replacing it would cut it off from the other names",
                      hint=f"keep one name and make the others symlinks to it (sshsetup writes through symlinks); "
                           f"they are: find ~ -xdev -samefile {target}")


def _user_links(target: Path, st: os.stat_result) -> int:
    """The names of ``target`` other than a running sshsetup's way back. Another sshsetup (waiting for the
    lock is not needed to plan) may add or drop its link between the ``stat`` and the listing: a count is
    taken only when ``stat`` says the same before and after it, else read again."""
    for _ in range(20):
        if st.st_nlink <= 1:
            return 1
        n = st.st_nlink - _own_links(target, st)
        try:
            again = os.stat(target)
        except OSError:
            return 1
        if (again.st_ino, again.st_nlink) == (st.st_ino, st.st_nlink):
            return n
        st = again
    return n


def _own_links(target: Path, st: os.stat_result) -> int:
    """The links a running sshsetup holds to ``target`` (its way back while it writes), not the user's."""
    n = 0
    with contextlib.suppress(OSError):
        for tmp in target.parent.glob(f".{target.name}.*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                t = tmp.stat()
                n += (t.st_dev, t.st_ino) == (st.st_dev, st.st_ino)
    return n


_HUNK = re.compile(r"^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@")


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix, by bisection on C-level compares."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    if limit <= 0:
        return 0
    if a[len(a) - limit :] == b[len(b) - limit :]:  # the usual case: one insertion
        return limit
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _changed_region(a: bytes, b: bytes, context: int) -> tuple[int, int, int, int]:
    """Byte range (start, end_a, end_b) of the lines that differ, widened by context lines,
    and the 0-based line number of start."""
    p = _common_prefix(a, b)
    s = _common_suffix(a, b, min(len(a), len(b)) - p)
    start = a.rfind(b"\n", 0, p) + 1
    for _ in range(context):
        if start == 0:
            break
        start = a.rfind(b"\n", 0, start - 1) + 1
    end_a = len(a) - s
    if end_a > 0 and end_a < len(a) and a[end_a - 1 : end_a] != b"\n":
        nl = a.find(b"\n", end_a)
        end_a = len(a) if nl < 0 else nl + 1
    for _ in range(context):
        if end_a >= len(a):
            break
        nl = a.find(b"\n", end_a)
        end_a = len(a) if nl < 0 else nl + 1
    end_b = len(b) - (len(a) - end_a)
    return start, end_a, end_b, a.count(b"\n", 0, start)


def _split(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def diff(p: Planned, context: int = 3) -> str:
    """A unified diff of one planned change ('' when nothing changes).

    Only the changed lines (plus context) are handed to difflib, so a small
    edit of a huge file costs time in proportion to the edit.
    """
    if p.verb in (Verb.IDENTICAL, Verb.REFUSE):
        return ""
    new = None if p.verb is Verb.DELETE else p.change.new
    a = "/dev/null" if p.old is None else str(p.change.path)
    b = "/dev/null" if new is None else str(p.change.path)
    old_b, new_b = p.old or b"", new or b""
    start, end_a, end_b, skip = _changed_region(old_b, new_b, context)
    lines = difflib.unified_diff(_split(old_b[start:end_a]), _split(new_b[start:end_b]), a, b, n=context)

    def shift(m: re.Match[str]) -> str:
        return f"@@ -{int(m.group(1)) + skip}{m.group(2)} +{int(m.group(3)) + skip}{m.group(4)} @@"

    out = []
    for line in lines:
        if skip and line.startswith("@@"):
            line = _HUNK.sub(shift, line)
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):  # not supported on every platform/filesystem
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temps(path: Path) -> None:
    """Delete temp files a killed run left beside ``path`` (call only while holding the lock)."""
    target = real_target(path) if os.path.lexists(path) else path
    try:
        leftovers = list(target.parent.glob(f".{target.name}.*.sshsetup-tmp"))
    except OSError:
        return
    for tmp in leftovers:
        with contextlib.suppress(OSError):
            tmp.unlink()
    try:  # the ssh -G candidates of a killed run (a live run's are seconds old, and not ours to take)
        checks = list(target.parent.glob(f".{target.name}.*.sshsetup-check"))
    except OSError:
        return
    for tmp in checks:
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > STALE_CHECK_SECONDS:
                tmp.unlink()


def set_mode(fd: int, path: str, mode: int) -> None:
    """chmod a file we just created (os.fchmod does not exist on Windows before Python 3.13)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # pragma: no cover - Windows: only the read-only bit exists; ACLs are the user profile's
        os.chmod(path, mode)


def atomic_write(target: Path, data: bytes, mode: int) -> None:
    """Replace ``target`` with ``data``: temp file in the same directory, fsync, rename."""
    tmp = stage(target, data, mode)
    try:
        checkpoint(f"before-rename:{target.name}")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


TEMP_SUFFIX = ".sshsetup-tmp"


def temp_name(target: Path) -> str:
    """A fresh temp file beside ``target`` (created empty, mode 0600), named so ``remove_stale_temps`` finds it."""
    import tempfile  # lazily: it pulls in random and shutil, which a dry run never needs

    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    os.close(fd)
    return tmp


def stage(target: Path, data: bytes, mode: int) -> str:
    """Write ``data`` to a new temp file beside ``target`` (mode ``mode``), fsynced; its name."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    try:
        set_mode(fd, tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


KEEP_BACKUPS = 5  # per file: the newest five backups stay, older ones go once a write has succeeded
BACKUP_INFIX = ".sshsetup-backup-"


def backups(path: Path) -> list[Path]:
    """The backups sshsetup kept of ``path`` (symlinks resolved), oldest first."""
    target = real_target(path) if os.path.lexists(path) else path
    own = re.compile(re.escape(target.name + BACKUP_INFIX) + r"(\d{8}T\d{6})(?:-(\d{1,3}))?")
    found: list[tuple[str, int, Path]] = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    for name in names:
        m = own.fullmatch(name)
        if m is not None:
            found.append((m.group(1), int(m.group(2) or 0), target.parent / name))
    return [p for _, _, p in sorted(found)]


def prune_backups(path: Path, keep: int = KEEP_BACKUPS) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``path``; the ones deleted."""
    old = backups(path)[:-keep] if keep > 0 else backups(path)
    gone = []
    for b in old:
        with contextlib.suppress(OSError):
            b.unlink()
            gone.append(b)
    return gone


def write_backup(target: Path, old: bytes, stamp: str) -> Path:
    """Keep the old bytes beside the file, never overwriting an earlier backup."""
    mode = stat.S_IMODE(target.stat().st_mode) & 0o600 or 0o600
    taken = [b.name[len(target.name + BACKUP_INFIX + stamp):] for b in backups(target)
             if b.name.startswith(target.name + BACKUP_INFIX + stamp)]
    first = 1 + max((int(t[1:]) if t else 0 for t in taken), default=-1)  # after the newest, even if older ones were pruned
    for n in range(first, 1000):
        suffix = f"{BACKUP_INFIX}{stamp}" + (f"-{n}" if n else "")
        backup = target.with_name(target.name + suffix)
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(old)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:  # a half-written backup is worse than none: the write fails as a whole
            backup.unlink(missing_ok=True)
            raise
        return backup
    raise Refused(f"too many backups of {target}", hint=f"delete old backups: ls {target}.sshsetup-backup-*")


def write_error(target: Path, exc: OSError) -> Refused:
    if exc.errno == errno.ENOSPC:
        return Refused(f"cannot write {target}: the disk is full", hint="free some space, then run sshsetup again")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return Refused(
            f"cannot write {target}: {exc.strerror.lower() if exc.strerror else 'permission denied'}",
            hint=f"check the owner and mode of {target.parent}",
        )
    return Refused(f"cannot write {target}: {exc.strerror or exc}", hint=f"check {target.parent}")


@dataclass
class _Staged:
    """What ``apply`` has prepared for one change, so that it can be taken back."""

    p: Planned
    tmp: str | None = None  # the new bytes, beside the target
    backup: Path | None = None
    keep: str | None = None  # a hard link to the old file: the way back if a later rename fails
    dirs: list[Path] | None = None
    done: bool = False


def _prepare(p: Planned, stamp: str) -> _Staged:
    st = _Staged(p)
    try:
        if p.verb is Verb.CREATE:
            st.dirs = ensure_dir(p.target.parent, p.change.dir_mode)
        if p.verb in (Verb.CREATE, Verb.UPDATE):
            mode = p.change.mode if p.verb is Verb.CREATE else stat.S_IMODE(p.target.stat().st_mode)
            st.tmp = stage(p.target, p.change.new or b"", mode)
        if p.verb in (Verb.UPDATE, Verb.DELETE) and p.change.backup and p.old is not None:
            st.backup = write_backup(p.target, p.old, stamp)
        if p.verb in (Verb.UPDATE, Verb.DELETE):
            st.keep = temp_name(p.target)
            os.unlink(st.keep)
            try:
                os.link(p.target, st.keep)
            except OSError:  # pragma: no cover - no hard links here (some Windows/FAT volumes): no way back
                st.keep = None
    except BaseException:
        _discard(st)
        raise
    return st


def _discard(st: _Staged) -> None:
    """Undo the preparation of a change that was not made."""
    for name in (st.tmp, st.keep):
        if name is not None:
            with contextlib.suppress(OSError):
                os.unlink(name)
    if st.backup is not None:
        with contextlib.suppress(OSError):
            st.backup.unlink()
    remove_dirs(st.dirs or [])


def _undo(st: _Staged) -> None:
    """Put back the old file of a change that was made (best effort: a rename failed later)."""
    with contextlib.suppress(OSError):
        if st.keep is not None:
            os.replace(st.keep, st.p.target)
            st.keep = None
        elif st.p.verb is Verb.CREATE:
            st.p.target.unlink()
    _discard(st)


def apply(planned: Sequence[Planned], *, dry_run: bool, stamp: str | None = None) -> list[Outcome]:
    """Apply every change, or none when one of them is refused or ``dry_run`` is set.

    All or nothing: the new bytes of every file and the backups of the old ones are written
    first (a full disk or a permission problem stops here, with every file as it was and no
    backup left behind); only then are the files renamed into place, in order.
    """
    refused = [p for p in planned if p.verb is Verb.REFUSE]
    if refused or dry_run:
        return [Outcome(p.change.path, p.verb, reason=p.change.refuse) for p in planned]
    stamp = stamp or time.strftime("%Y%m%dT%H%M%S")
    staged: list[_Staged] = []
    try:
        for p in planned:
            try:
                staged.append(_prepare(p, stamp))
            except OSError as exc:
                raise write_error(p.target, exc) from None
        for st in staged:
            p = st.p
            try:
                if st.tmp is not None and p.verb is Verb.CREATE and p.change.exclusive:
                    try:
                        os.link(st.tmp, p.target)  # fails if anything (a file, a symlink) appeared at the target
                    except FileExistsError:
                        raise Refused(f"{p.target} appeared while sshsetup was writing it; it was not changed",
                                      hint="run the command again") from None
                    os.unlink(st.tmp)
                    st.tmp = None
                elif st.tmp is not None:
                    checkpoint(f"before-rename:{p.target.name}")
                    os.replace(st.tmp, p.target)
                    st.tmp = None
                elif p.verb is Verb.DELETE:
                    p.target.unlink()
            except OSError as exc:
                raise write_error(p.target, exc) from None
            st.done = True
    except BaseException:
        for st in reversed(staged):
            if st.done:
                _undo(st)
            else:
                _discard(st)
        raise
    out: list[Outcome] = []
    for st in staged:
        if st.keep is not None:
            with contextlib.suppress(OSError):
                os.unlink(st.keep)
        if st.p.verb is not Verb.IDENTICAL:
            _fsync_dir(st.p.target.parent)
        if st.backup is not None:
            prune_backups(st.p.target)
        out.append(Outcome(st.p.change.path, st.p.verb, st.backup))
    return out


@dataclass(frozen=True)
class Confirmed:
    outcomes: list[Outcome]
    diff: str
    declined: bool  # an existing file was to change and nobody agreed: nothing was written


def apply_confirmed(change: FileChange, *, dry_run: bool, yes: bool, ask: Callable[[str], bool] | None,
                    question: Callable[[Verb], str]) -> Confirmed:
    """Plan and apply one change; replacing or deleting an existing file needs ``yes`` or ``ask(question(verb))``.

    A new or identical file needs no agreement, and ``dry_run`` never asks.
    """
    (planned,) = plan([change])
    shown = diff(planned)
    if planned.verb in (Verb.UPDATE, Verb.DELETE) and not (dry_run or yes or (ask is not None and ask(question(planned.verb)))):
        return Confirmed(apply([planned], dry_run=True), shown, declined=True)
    return Confirmed(apply([planned], dry_run=dry_run), shown, declined=False)


def _try_lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - msvcrt locks are released when the process dies, too
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _owner(path: Path) -> str:
    """' (owned by NAME)' of the innermost existing of ``path`` and its parents ('' where unknown)."""
    for p in (path, *path.parents):
        try:
            uid = p.stat().st_uid
        except OSError:
            continue
        try:
            import pwd

            return f" (owned by {pwd.getpwuid(uid).pw_name})"
        except (ImportError, KeyError):  # pragma: no cover - Windows, or a uid without a name
            return f" (owned by uid {uid})"
    return ""  # pragma: no cover - not even / exists


def _open_lock(lock_file: Path) -> int:
    """The lock file, created 0600 if missing; one refusal when it or its directory is not ours."""
    try:
        ensure_dir(lock_file.parent)
        return os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except PermissionError:
        raise Refused(
            f"cannot open the lock file {lock_file}: permission denied{_owner(lock_file)}",
            hint=f"sshsetup probably ran as another user (sudo) before; give its files back: "
                 f"sudo chown -R \"$USER\" {lock_file.parent}",
        ) from None
    except OSError as exc:
        raise write_error(lock_file, exc) from None


@contextlib.contextmanager
def locked(lock_file: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold an exclusive lock against concurrent sshsetup runs.

    The OS drops the lock when the process dies, so a stale lock file is harmless.
    """
    fd = _open_lock(lock_file)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                _try_lock(fd)
                break
            except (BlockingIOError, PermissionError):
                if time.monotonic() > deadline:
                    raise Refused(
                        "another sshsetup is running (lock held)",
                        hint=f"wait for it to finish; the lock is {lock_file}",
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
