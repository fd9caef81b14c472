"""The console entry point (``sshsetup`` and ``python -m sshsetup``).

A Ctrl-C while sshsetup is still starting (importing click and the command modules) exits 130
with one line, as every later Ctrl-C does; ``cli.main`` cannot catch what happens before it exists.
"""

from __future__ import annotations

import sys


def console_main() -> None:
    try:
        from sshsetup.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted (^C)\n")
        raise SystemExit(130) from None
    raise SystemExit(main())
