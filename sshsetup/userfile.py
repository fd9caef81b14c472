"""Read a file the user named (``--key``, ``--passphrase-file``, a config) without hanging or eating memory.

``read_regular`` opens with ``O_NONBLOCK`` (opening a FIFO never waits for a
writer), then looks at what it opened with ``fstat`` (not ``stat`` before:
no race between the check and the read). Only a regular file is read; a FIFO,
a device (``/dev/zero``, a terminal), a socket or a directory is refused with
an error and a hint. The read is capped at ``limit`` bytes: a bigger file is
refused, never truncated. With ``follow_symlinks=False`` a symlink is refused
too (``O_NOFOLLOW``).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from sshsetup.errors import BadInput, SshSetupError

KIB = 1024
MIB = 1024 * KIB


def human_size(n: int) -> str:
    """1024 -> '1 KiB', 65536 -> '64 KiB', 1048576 -> '1 MiB', 1000 -> '1000 bytes'."""
    if n >= MIB and n % MIB == 0:
        return f"{n // MIB} MiB"
    if n >= KIB and n % KIB == 0:
        return f"{n // KIB} KiB"
    return f"{n} bytes"


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_regular(
    path: Path | str,
    *,
    limit: int,
    what: str,
    follow_symlinks: bool = True,
    error: type[SshSetupError] = BadInput,
) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``), or ``error`` with a hint.

    ``what`` names the file in messages ("passphrase file", "key"); it may be "".
    """
    subject = f"{what} {path}" if what else str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{subject} does not exist", hint="check the path (it must be an existing file)") from None
    except PermissionError:
        raise error(f"cannot read {subject}: permission denied", hint=f"check its owner and mode: ls -l {path}") from None
    except IsADirectoryError:  # pragma: no cover - O_RDONLY opens a directory on POSIX; Windows says this
        raise error(f"{subject} is a directory, not a file", hint="give the path of a file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            if follow_symlinks:
                raise error(f"{subject} is a symlink loop", hint=f"fix or remove the link: ls -l {path}") from None
            raise error(f"{subject} is a symlink; sshsetup does not follow it here",
                        hint=f"give the file the link points to: readlink -f {path}") from None
        raise error(f"cannot read {subject}: {exc.strerror or exc}", hint=f"check: ls -l {path}") from None
    try:
        st = os.fstat(fd)
        kind = _kind(st.st_mode)
        if kind is not None:
            hint = ("give the path of a file" if kind == "a directory" else
                    "sshsetup reads regular files only (a pipe or device could block or never end); "
                    "save the content to a file and give that")
            raise error(f"{subject} is {kind}, not a regular file", hint=hint)
        too_big = error(f"{subject} is larger than {human_size(limit)}",
                        hint=f"a {what or 'file'} is never that big: check that this is the right file")
        if st.st_size > limit:
            raise too_big
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        got = 0
        while got <= limit:  # read one byte past the limit: a file that grew meanwhile is still refused
            try:
                chunk = os.read(fd, min(64 * KIB, limit + 1 - got))
            except OSError as exc:
                raise error(f"cannot read {subject}: {exc.strerror or exc}", hint=f"check: ls -l {path}") from None
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            raise too_big
        return b"".join(chunks)
    finally:
        os.close(fd)
