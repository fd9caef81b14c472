"""The crash-safety suite's hook: imported by ``files.checkpoint`` only when ``SSHSETUP_TEST_HOOK_DIR`` is set.

At each named checkpoint it appends the name to ``$SSHSETUP_TEST_HOOK_DIR/reached`` and waits
while a file ``pause-<name>`` exists there, so that the test can kill the process at that point.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def reached(name: str) -> None:
    d = Path(os.environ["SSHSETUP_TEST_HOOK_DIR"])
    with (d / "reached").open("a", encoding="utf-8") as fh:
        fh.write(name + "\n")
    while (d / f"pause-{name}").exists():
        time.sleep(0.005)
