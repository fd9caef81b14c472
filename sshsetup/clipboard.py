"""Copy text to the clipboard with the first tool that works; never raise.

The tools are tried in order (pbcopy on macOS, clip.exe on Windows and WSL,
wl-copy on Wayland, xclip on X11). One that is missing or fails (wl-copy
without a Wayland session, xclip without ``$DISPLAY``) is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

DEFAULT_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("pbcopy",),
    ("clip.exe",),
    ("wl-copy",),
    ("xclip", "-selection", "clipboard"),
)


def copy(text: str, commands: Sequence[Sequence[str]] = DEFAULT_COMMANDS, timeout: float = 5.0) -> str | None:
    """Copy ``text``; return the name of the tool that took it (e.g. ``"xclip"``), or None."""
    for argv in commands:
        if not argv:
            continue
        exe = shutil.which(argv[0])
        if exe is None:
            continue
        try:
            # stdout/stderr to DEVNULL: wl-copy and xclip fork a child that keeps serving the
            # selection; a captured pipe would make us wait for that child.
            done = subprocess.run(  # noqa: S603 - fixed tool list, no shell
                [exe, *argv[1:]],
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.SubprocessError, ValueError):
            continue
        if done.returncode == 0:
            return argv[0]
    return None
