"""An unexpected error: a short 'please report' line and a log with the traceback.

The log is created with ``O_EXCL`` and mode 0600 (it names paths and argv; it is
the user's business only), in a 0700 directory, under a name that no other run
can take: the time, the process id and a counter. Two crashes in the same second
never overwrite each other.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

import click

from sshsetup import __version__

_ATTEMPTS = 100


def write_log(log_dir: Path, text: str, *, now: float | None = None) -> Path:
    """Create a new crash log in ``log_dir`` holding ``text``; OSError if that is impossible."""
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for n in range(_ATTEMPTS):
        path = log_dir / f"crash-{stamp}-{os.getpid()}{f'-{n}' if n else ''}.log"
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # whatever the umask said
            data = text.encode("utf-8", "replace")
            while data:
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)
        return path
    raise FileExistsError(f"no free crash log name in {log_dir}")


def report_crash() -> None:
    from sshsetup.paths import Paths

    tb = traceback.format_exc()
    try:
        log = write_log(Paths.from_env().log_dir, f"sshsetup {__version__}\npython {sys.version}\nargv {sys.argv[1:]}\n\n{tb}")
        where = str(log)
    except OSError:
        where = "(could not write a log)"
    exc = sys.exc_info()[1]
    click.echo(
        f"error: sshsetup {__version__} hit an unexpected {type(exc).__name__}; please report this with the log: {where}",
        err=True,
    )
