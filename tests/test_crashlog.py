"""Crash logs: 0600 in a 0700 directory, never overwriting each other (not even in the same second)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from sshsetup import __version__
from sshsetup.crashlog import write_log

BOOM = (
    "import sys, sshsetup.cli as c\n"
    "def boom(): raise ZeroDivisionError('x')\n"
    "c.cli.add_command(__import__('click').command('boom')(boom))\n"
    "sys.exit(c.main(['boom']))\n"
)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_same_second_same_process_gets_new_names(tmp_path: Path) -> None:
    logs = [write_log(tmp_path / "log", f"crash {n}\n", now=1_800_000_000.0) for n in range(3)]
    assert len(set(logs)) == 3
    assert [p.read_text() for p in logs] == ["crash 0\n", "crash 1\n", "crash 2\n"]
    assert all(_mode(p) == 0o600 for p in logs)
    assert _mode(tmp_path / "log") == 0o700
    assert logs[0].name.startswith("crash-") and f"-{os.getpid()}" in logs[0].name


def test_mode_is_0600_under_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        log = write_log(tmp_path, "x")
    finally:
        os.umask(old)
    assert _mode(log) == 0o600


def test_a_planted_symlink_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    import time

    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(1_800_000_000.0))
    (tmp_path / f"crash-{stamp}-{os.getpid()}.log").symlink_to(victim)
    log = write_log(tmp_path, "the traceback", now=1_800_000_000.0)
    assert victim.read_text() == "keep me"
    assert log.read_text() == "the traceback" and not log.is_symlink()


def test_two_crashing_runs_in_the_same_second_keep_both_logs(fake_home: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", BOOM], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errs = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [3, 3, 3, 3]
    prefix = f"error: sshsetup {__version__} hit an unexpected ZeroDivisionError; please report this with the log: "
    logs = [Path(e.strip().removeprefix(prefix)) for e in errs]
    assert all(e.startswith(prefix) and "Traceback" not in e for e in errs)
    assert len(set(logs)) == 4
    for log in logs:
        assert log.is_relative_to(fake_home) and _mode(log) == 0o600
        assert "ZeroDivisionError: x" in log.read_text()
