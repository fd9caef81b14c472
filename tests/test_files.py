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
    planned = files.plan([FileChange(p, b"b\n"), FileChange(tmp_path / "new", b"x")])
    out = files.apply(planned, dry_run=True)
    assert [o.verb for o in out] == [Verb.UPDATE, Verb.CREATE]
    assert p.read_bytes() == b"a\n" and not (tmp_path / "new").exists()
    assert files.diff(planned[0]) == f"--- {p}\n+++ {p}\n@@ -1 +1 @@\n-a\n+b\n"
    assert files.diff(planned[1]) == f"--- /dev/null\n+++ {tmp_path / 'new'}\n@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n"


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
