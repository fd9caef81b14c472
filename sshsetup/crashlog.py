"""An unexpected error: a short 'please report' line and a log with the traceback."""

from __future__ import annotations

import sys
import time
import traceback

import click

from sshsetup import __version__


def report_crash() -> None:
    from sshsetup.paths import Paths

    tb = traceback.format_exc()
    try:
        log_dir = Paths.from_env().log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / f"crash-{time.strftime('%Y%m%dT%H%M%S')}.log"
        log.write_text(f"sshsetup {__version__}\npython {sys.version}\nargv {sys.argv[1:]}\n\n{tb}", encoding="utf-8")
        where = str(log)
    except OSError:
        where = "(could not write a log)"
    exc = sys.exc_info()[1]
    click.echo(
        f"error: sshsetup {__version__} hit an unexpected {type(exc).__name__}; please report this with the log: {where}",
        err=True,
    )
