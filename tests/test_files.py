from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sshsetup import files
from sshsetup.errors import Refused
from sshsetup.files import FileChange, Verb
from tests.helpers import snapshot
from tests.timing import budget, scaled


def test_create_update_identical_delete(tmp_path: Path) -> None:
    p = tmp_path / "d" / "f"
    [o] = files.apply(files.plan([FileChange(p, b"one\n")]), dry_run=False, stamp="S")
    assert (o.verb, p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) == (Verb.CREATE, b"one\n", 0o600)
    p.chmod(0o640)
    [o] = files.apply(files.plan([FileChange(p, b"two\n")]), dry_run=False, stamp="S")
    assert (o.verb, p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) == (Verb.UPDATE, b"two\n", 0o640)
    assert o.backup == p.with_name("f.sshsetup-backup-S") and o.backup.read_bytes() == b"one\n"
    assert stat.S_IMODE(o.backup.stat().st_mode) == 0o600
    [o] = files.apply(files.plan([FileChange(p, b"two\n")]), dry_run=False, stamp="S")
    assert o.verb is Verb.IDENTICAL
    [o] = files.apply(files.plan([FileChange(p, None)]), dry_run=False, stamp="S")
    assert o.verb is Verb.DELETE and not p.exists()
    assert o.backup == p.with_name("f.sshsetup-backup-S-1") and o.backup.read_bytes() == b"two\n"
    assert sorted(x.name for x in p.parent.iterdir()) == ["f.sshsetup-backup-S", "f.sshsetup-backup-S-1"]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"a\n")
    before = snapshot(tmp_path)
    planned = files.plan([FileChange(p, b"b\n"), FileChange(tmp_path / "new" / "f", b"x")])
    out = files.apply(planned, dry_run=True)
    assert [o.verb for o in out] == [Verb.UPDATE, Verb.CREATE]
    assert snapshot(tmp_path) == before  # not a byte, a mode or a directory
    assert files.diff(planned[0]) == f"--- {p}\n+++ {p}\n@@ -1 +1 @@\n-a\n+b\n"
    assert files.diff(planned[1]) == f"--- /dev/null\n+++ {tmp_path / 'new' / 'f'}\n@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n"


def test_refusal_blocks_every_write(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    planned = files.plan([FileChange(a, b"x"), FileChange(b, b"y", refuse="markers are malformed")])
    out = files.apply(planned, dry_run=False)
    assert [(o.verb, o.reason) for o in out] == [(Verb.CREATE, None), (Verb.REFUSE, "markers are malformed")]
    assert not a.exists() and not b.exists()


def test_writes_through_symlink_chain(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "ssh_config"
    real.parent.mkdir()
    real.write_bytes(b"old\n")
    mid = tmp_path / "mid"
    mid.symlink_to(real)
    link = tmp_path / "config"
    link.symlink_to(mid)
    [o] = files.apply(files.plan([FileChange(link, b"new\n")]), dry_run=False, stamp="S")
    assert link.is_symlink() and mid.is_symlink()
    assert real.read_bytes() == b"new\n"
    assert o.backup == real.with_name("ssh_config.sshsetup-backup-S")


def test_symlink_loop_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(Refused) as exc:
        files.plan([FileChange(a, b"x")])
    assert exc.value.message == f"{a} is a symlink loop"


def test_directory_and_unreadable_are_refused(tmp_path: Path) -> None:
    d = tmp_path / "dir"
    d.mkdir()
    with pytest.raises(Refused, match="is a directory"):
        files.plan([FileChange(d, b"x")])


@pytest.mark.parametrize(
    ("err", "message"),
    [
        pytest.param(OSError(28, "No space left on device"), "cannot write /d/f: the disk is full", id="enospc"),
        pytest.param(OSError(13, "Permission denied"), "cannot write /d/f: permission denied", id="eacces"),
        pytest.param(OSError(30, "Read-only file system"), "cannot write /d/f: read-only file system", id="erofs"),
        pytest.param(OSError(5, "Input/output error"), "cannot write /d/f: Input/output error", id="other"),
    ],
)
def test_write_errors_become_one_line(err: OSError, message: str) -> None:
    assert files.write_error(Path("/d/f"), err).message == message


def test_atomic_write_leaves_no_temp_on_failure(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    target = tmp_path / "w" / "f"
    target.write_bytes(b"old")

    class Boom(Exception):
        pass

    orig = os.replace

    def failing_replace(src: str, dst: object) -> None:
        raise Boom

    os.replace = failing_replace  # type: ignore[assignment]
    try:
        with pytest.raises(Boom):
            files.atomic_write(target, b"new", 0o600)
    finally:
        os.replace = orig
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["f"]


def test_lock_serialises_runs(tmp_path: Path) -> None:
    lock = tmp_path / "state" / "lock"
    order: list[str] = []

    def other() -> None:
        with files.locked(lock):
            order.append("other")

    with files.locked(lock):
        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.2)
        order.append("first")
    t.join()
    assert order == ["first", "other"]


def test_lock_times_out_with_a_hint(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    with files.locked(lock):
        err: list[Refused] = []

        def other() -> None:
            try:
                with files.locked(lock, timeout=0.1):
                    pass
            except Refused as exc:
                err.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert err[0].message == "another sshsetup is running (lock held)"


def test_checkpoint_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files.checkpoint("nothing")  # inactive without the env var
    monkeypatch.setenv("SSHSETUP_TEST_HOOK_DIR", str(tmp_path))
    files.checkpoint("a")
    files.checkpoint("b")
    assert (tmp_path / "reached").read_text() == "a\nb\n"


def test_remove_stale_temps(tmp_path: Path) -> None:
    tmp_path = tmp_path / "d"
    tmp_path.mkdir()
    (tmp_path / "config").write_text("x")
    for name in (".config.abc.sshsetup-tmp", ".config.def.sshsetup-tmp", ".other.abc.sshsetup-tmp", "config.bak"):
        (tmp_path / name).write_text("left over")
    files.remove_stale_temps(tmp_path / "config")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.abc.sshsetup-tmp", "config", "config.bak"]
    files.remove_stale_temps(tmp_path / "missing" / "file")  # no directory: nothing to do


def test_apply_confirmed_asks_only_before_replacing_or_deleting(tmp_path: Path) -> None:
    p = tmp_path / "f"
    asked: list[str] = []

    def ask(answer: bool) -> Callable[[str], bool]:
        def answered(q: str) -> bool:
            asked.append(q)
            return answer

        return answered

    def question(verb: Verb) -> str:
        return f"{verb.value} {p.name}?"

    new = files.apply_confirmed(FileChange(p, b"a\n"), dry_run=False, yes=False, ask=ask(False), question=question)
    assert (new.declined, [o.verb for o in new.outcomes], p.read_bytes(), asked) == (False, [Verb.CREATE], b"a\n", [])
    no = files.apply_confirmed(FileChange(p, b"b\n"), dry_run=False, yes=False, ask=ask(False), question=question)
    assert (no.declined, [o.verb for o in no.outcomes], p.read_bytes(), asked) == (True, [Verb.UPDATE], b"a\n", ["update f?"])
    assert "-a\n+b\n" in no.diff
    dry = files.apply_confirmed(FileChange(p, b"b\n"), dry_run=True, yes=False, ask=ask(False), question=question)
    assert (dry.declined, p.read_bytes(), len(asked)) == (False, b"a\n", 1)
    unasked = files.apply_confirmed(FileChange(p, None), dry_run=False, yes=False, ask=None, question=question)
    assert (unasked.declined, p.exists()) == (True, True)
    gone = files.apply_confirmed(FileChange(p, None), dry_run=False, yes=False, ask=ask(True), question=question)
    assert (gone.declined, [o.verb for o in gone.outcomes], p.exists(), asked[-1]) == (False, [Verb.DELETE], False, "delete f?")
    same = files.apply_confirmed(FileChange(p, None), dry_run=False, yes=True, ask=None, question=question)
    assert (same.declined, [o.verb for o in same.outcomes]) == (False, [Verb.IDENTICAL])


def test_all_or_nothing_when_the_third_write_fails(tmp_path: Path) -> None:
    """The new bytes and backups of every file are written first; a failure there changes nothing."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"old a\n")
    b.write_bytes(b"old b\n")
    (tmp_path / "plain-file").write_bytes(b"x")
    third = tmp_path / "plain-file" / "c"  # its directory cannot be made: a file is in the way
    planned = files.plan([FileChange(a, b"new a\n"), FileChange(b, b"new b\n"), FileChange(third, b"c\n")])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(Refused) as info:
        files.apply(planned, dry_run=False, stamp="S")
    assert info.value.message.startswith(f"cannot write {third}: ")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before  # no backup, no temp file


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o277])
def test_ensure_dir_makes_exactly_0700_and_leaves_existing_ones(tmp_path: Path, umask: int) -> None:
    import os
    import stat

    existing = tmp_path / "there"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    old = os.umask(umask)
    try:
        made = files.ensure_dir(existing / "x" / "y")
    finally:
        os.umask(old)
    assert made == [existing / "x", existing / "x" / "y"]
    assert [oct(stat.S_IMODE(d.stat().st_mode)) for d in made] == ["0o700", "0o700"]
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755
    assert files.ensure_dir(existing / "x" / "y") == []
    files.remove_dirs(made)
    assert not (existing / "x").exists()


def test_a_new_file_s_directories_are_0700_under_umask_000(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0)
    try:
        files.apply(files.plan([FileChange(tmp_path / "d1" / "d2" / "f", b"x", mode=0o600)]), dry_run=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "d1").stat().st_mode) == stat.S_IMODE((tmp_path / "d1" / "d2").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "d1" / "d2" / "f").stat().st_mode) == 0o600


def test_exclusive_create_refuses_a_file_that_appeared_after_plan(tmp_path: Path) -> None:
    """doctor --report: a new file is linked into place, so a file (or symlink) that appeared meanwhile is never replaced."""
    target = tmp_path / "report.json"
    planned = files.plan([files.FileChange(target, b"{}\n", 0o600, exclusive=True)])
    target.write_bytes(b"theirs")
    with pytest.raises(Refused) as e:
        files.apply(planned, dry_run=False)
    assert (e.value.message, e.value.hint) == (f"{target} appeared while sshsetup was writing it; it was not changed",
                                               "run the command again")
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".") or "report" in p.name] == ["report.json"]


def test_exclusive_create_writes_mode_0600(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    files.apply(files.plan([files.FileChange(target, b"{}\n", 0o600, exclusive=True)]), dry_run=False)
    assert target.read_bytes() == b"{}\n" and (target.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.name.startswith("r.")] == ["r.json"]


# What the mutation run (python -m tests.mutation) found unchecked in the writer.


def test_verbs_and_change_defaults_users_see() -> None:
    assert [v.value for v in Verb] == ["create", "update", "identical", "delete", "refuse"]
    assert FileChange(Path("f"), b"x") == FileChange(Path("f"), b"x", mode=0o600, label="", backup=True, refuse=None)


def test_diff_has_three_lines_of_context_and_shows_a_deletion(tmp_path: Path) -> None:
    p = tmp_path / "f"
    old = "".join(f"{i}\n" for i in range(1, 13)).encode()
    p.write_bytes(old)
    (planned,) = files.plan([FileChange(p, old.replace(b"7\n", b"seven\n"))])
    assert files.diff(planned) == f"--- {p}\n+++ {p}\n@@ -4,7 +4,7 @@\n 4\n 5\n 6\n-7\n+seven\n 8\n 9\n 10\n"
    assert files.diff(planned, context=0) == f"--- {p}\n+++ {p}\n@@ -7 +7 @@\n-7\n+seven\n"
    (gone,) = files.plan([FileChange(p, None)])
    assert files.diff(gone) == f"--- {p}\n+++ /dev/null\n@@ -1,12 +0,0 @@\n" + "".join(f"-{i}\n" for i in range(1, 13))


def test_diff_of_a_small_edit_to_a_huge_file_looks_only_at_the_edit() -> None:
    import difflib

    old = "".join(f"Host node{i}\n    HostName 10.0.{i % 256}.{i // 256}\n" for i in range(100_000)).encode()
    new = old[: len(old) // 2] + b"# one line\n" + old[len(old) // 2 :]
    planned = files.Planned(FileChange(Path("f"), new), Path("f"), old, Verb.UPDATE)
    t = time.perf_counter()
    ours = files.diff(planned)
    took = time.perf_counter() - t
    t = time.perf_counter()
    full = "".join(difflib.unified_diff(old.decode().splitlines(True), new.decode().splitlines(True), "f", "f"))
    whole = time.perf_counter() - t
    assert ours == full
    assert took < budget(0.0, 0.2, below=1.0) * whole, (took, whole)  # ~0.04 against ~1 s on the 2-core machine


@pytest.mark.parametrize(("mode", "backup_mode"), [(0o644, 0o600), (0o400, 0o400), (0o000, 0o600), (0o660, 0o600), (0o755, 0o600)])
def test_a_backup_is_never_more_readable_than_its_file(tmp_path: Path, mode: int, backup_mode: int) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"old\n")
    p.chmod(mode)
    b = files.write_backup(p, b"old\n", "S")
    assert (b.name, b.read_bytes(), stat.S_IMODE(b.stat().st_mode)) == ("f.sshsetup-backup-S", b"old\n", backup_mode)


def test_after_a_thousand_backups_sshsetup_refuses(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"old\n")
    (tmp_path / "f.sshsetup-backup-S").write_bytes(b"")
    for n in range(1, 1000):
        (tmp_path / f"f.sshsetup-backup-S-{n}").write_bytes(b"")
    before = snapshot(tmp_path)
    with pytest.raises(Refused) as exc:
        files.write_backup(p, b"old\n", "S")
    assert (exc.value.message, exc.value.hint) == (f"too many backups of {p}", f"delete old backups: ls {p}.sshsetup-backup-*")
    assert snapshot(tmp_path) == before


def test_backup_stamp_is_the_local_time(tmp_path: Path) -> None:
    import re

    p = tmp_path / "f"
    p.write_bytes(b"old\n")
    (out,) = files.apply(files.plan([FileChange(p, b"new\n")]), dry_run=False)
    assert out.backup is not None and re.fullmatch(r"f\.sshsetup-backup-\d{8}T\d{6}", out.backup.name), out.backup.name


def test_the_temp_file_is_beside_the_target_private_and_found_as_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    d = tmp_path / "d"
    d.mkdir()
    (hooks / "pause-before-rename:f").touch()
    monkeypatch.setenv("SSHSETUP_TEST_HOOK_DIR", str(hooks))
    t = threading.Thread(target=files.atomic_write, args=(d / "f", b"data", 0o640))
    t.start()
    try:
        for _ in range(int(scaled(500))):
            if (hooks / "reached").exists():
                break
            time.sleep(0.01)
        (tmp,) = d.iterdir()  # paused just before the rename
        assert tmp.name.startswith(".f.") and tmp.name.endswith(".sshsetup-tmp")
        assert (tmp.read_bytes(), stat.S_IMODE(tmp.stat().st_mode)) == (b"data", 0o640)
        assert list(d.glob(".f.*.sshsetup-tmp")) == [tmp]  # what remove_stale_temps deletes after a crash
    finally:
        (hooks / "pause-before-rename:f").unlink()
        t.join()
    assert [p.name for p in d.iterdir()] == ["f"]


def test_lock_file_is_private_and_its_directories_are_made(tmp_path: Path) -> None:
    lock = tmp_path / "a" / "b" / "sshsetup.lock"
    with files.locked(lock):
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_a_full_disk_fails_the_write_and_leaves_no_partial_backup(tmp_path: Path) -> None:
    import subprocess

    d = tmp_path / "small"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        from tests.testbed.require import missing

        missing("a tmpfs mount for the full-disk case", r.stderr.strip())
    try:
        p = d / "f"
        p.write_bytes(b"x" * 40_000)
        with pytest.raises(OSError):
            files.write_backup(p, p.read_bytes(), "S")
        assert [x.name for x in d.iterdir()] == ["f"]  # the half-written backup was removed
        with pytest.raises(Refused) as exc:
            files.apply(files.plan([FileChange(p, b"y" * 40_000)]), dry_run=False, stamp="S")
        assert (exc.value.message, exc.value.hint) == (f"cannot write {p}: the disk is full", "free some space, then run sshsetup again")
        assert [x.name for x in d.iterdir()] == ["f"] and p.read_bytes() == b"x" * 40_000
    finally:
        subprocess.run(["umount", str(d)], check=False)


def test_create_makes_the_directories_and_writes_empty_files(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "f"
    empty = tmp_path / "e"
    empty.write_bytes(b"x")
    out = files.apply(files.plan([FileChange(deep, b""), FileChange(empty, b"", backup=False)]), dry_run=False)
    assert [o.verb for o in out] == [Verb.CREATE, Verb.UPDATE]
    assert (deep.read_bytes(), empty.read_bytes()) == (b"", b"")


def test_diff_of_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"caf\xe9\n")
    (planned,) = files.plan([FileChange(p, b"cafe\n")])
    assert files.diff(planned) == f"--- {p}\n+++ {p}\n@@ -1 +1 @@\n-caf\ufffd\n+cafe\n"
