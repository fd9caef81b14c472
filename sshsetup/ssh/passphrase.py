"""Getting a passphrase without it ever reaching argv, logs or output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from sshsetup.errors import BadInput

MIN_LENGTH = 8  # JSC's key instructions: "at least 8 characters long" (mirrored at puttygen-download.com/Puttygen/puttygen-tool.php)


def read_file(spec: str) -> bytes:
    """First line of FILE (or stdin for '-'), without its line ending."""
    try:
        raw = sys.stdin.buffer.readline() if spec == "-" else Path(spec).read_bytes().splitlines()[0:1]
    except FileNotFoundError:
        raise BadInput(f"passphrase file {spec} does not exist", hint="give an existing file, or '-' to read standard input") from None
    except OSError as exc:
        raise BadInput(f"cannot read passphrase file {spec}: {exc.strerror}", hint="check the file's permissions") from None
    line = raw if isinstance(raw, bytes) else (raw[0] if raw else b"")
    return line.rstrip(b"\r\n")


def check(pw: bytes, *, jsc: bool, allow_empty: bool) -> bytes:
    if not pw:
        if jsc:
            raise BadInput(
                "JSC requires a passphrase on the private key; an empty passphrase is refused for JSC sites",
                hint="choose a passphrase (an ssh-agent saves retyping it)",
            )
        if not allow_empty:
            raise BadInput("empty passphrase", hint="choose a passphrase, or pass --insecure-empty-passphrase for a non-JSC test site")
        return pw
    if jsc and len(pw) < MIN_LENGTH:
        raise BadInput(f"the passphrase is shorter than {MIN_LENGTH} characters", hint="JSC asks for a secure passphrase: use a longer one")
    return pw


def obtain(file_spec: str | None, prompt: Callable[[], str] | None, *, jsc: bool, allow_empty: bool) -> bytes:
    if file_spec is not None:
        pw = read_file(file_spec)
    elif allow_empty and not jsc:
        pw = b""
    elif prompt is not None:
        pw = prompt().encode("utf-8")
    else:
        raise BadInput(
            "a passphrase is needed for the new key and there is no terminal to ask on",
            hint="pass --passphrase-file FILE (or '-' for standard input)",
        )
    return check(pw, jsc=jsc, allow_empty=allow_empty)
