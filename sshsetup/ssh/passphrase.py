"""Getting a passphrase without it ever reaching argv, logs or output.

A passphrase must be one that the user can type at ssh's prompt later, so a
passphrase file is checked byte by byte:

* a UTF-8 byte-order mark (Notepad writes one) is stripped, with a note;
* one line ending (LF or CRLF) is stripped; only the first line counts;
* a NUL byte, bytes that are not UTF-8 (Latin-1, ...) and more than 1023 bytes
  (the most ssh's prompt reads) are refused with a hint.

``read_hidden`` asks on the terminal with echo off and puts the terminal back
on every way out: Enter, Ctrl-C (``KeyboardInterrupt``, exit 130), SIGTERM and
SIGHUP (``SystemExit`` 128+signal, after the terminal is restored).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from sshsetup.errors import BadInput

MIN_LENGTH = 8  # JSC's key instructions: "at least 8 characters long" (mirrored at puttygen-download.com/Puttygen/puttygen-tool.php)
MAX_BYTES = 1023  # OpenSSH's readpassphrase() buffer is 1024 bytes including the terminating NUL
FILE_LIMIT = 64 * 1024  # a passphrase file bigger than this is not a passphrase file
UTF8_BOM = b"\xef\xbb\xbf"
MISMATCH = "Error: The two entered values do not match."  # click's words, so the prompt reads the same


def _first_line(data: bytes) -> bytes:
    lines = data.splitlines()
    return lines[0] if lines else b""


def _read_stdin() -> bytes:
    line = sys.stdin.buffer.readline(FILE_LIMIT + 1)
    if len(line) > FILE_LIMIT:
        raise BadInput(f"the passphrase on standard input is longer than {MAX_BYTES} bytes",
                       hint=f"ssh reads at most {MAX_BYTES} bytes of a passphrase: use a shorter one")
    return line


def checked_bytes(pw: bytes, where: str) -> bytes:
    """Refuse a passphrase nobody could type at ssh's prompt (NUL, not UTF-8, too long)."""
    if b"\0" in pw:
        raise BadInput(f"{where} contains a NUL byte",
                       hint="ssh's prompt stops at NUL, so that key could never be unlocked: write the passphrase as plain text")
    try:
        pw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{where} is not valid UTF-8 (byte {exc.start + 1}: {pw[exc.start]:#04x}; Latin-1 or another legacy encoding?)",
                       hint="save the file as UTF-8 (without BOM): that is what a UTF-8 terminal sends when you type it") from None
    if len(pw) > MAX_BYTES:
        raise BadInput(f"{where} is {len(pw)} bytes long; ssh reads at most {MAX_BYTES}",
                       hint=f"use a passphrase of at most {MAX_BYTES} bytes")
    return pw


def read_file(spec: str, notes: list[str] | None = None) -> bytes:
    """First line of FILE (or stdin for '-'), without its line ending; a BOM is stripped and said
    (appended to ``notes``, or printed to stderr when the caller gives none)."""
    from sshsetup.userfile import read_regular

    if spec == "-":
        line, where = _first_line(_read_stdin()), "the passphrase on standard input"
    else:
        line, where = _first_line(read_regular(spec, limit=FILE_LIMIT, what="passphrase file")), f"passphrase file {spec}"
    if line.startswith(UTF8_BOM):
        line = line[len(UTF8_BOM):]
        said = f"note: removed the UTF-8 byte-order mark at the start of {where}; it is not part of the passphrase"
        if notes is not None:
            notes.append(said)
        else:  # a caller without a notes list: say it now (stderr, like every note)
            print(said, file=sys.stderr)
    return checked_bytes(line, where)


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


def obtain(file_spec: str | None, prompt: Callable[[], str] | None, *, jsc: bool, allow_empty: bool,
           notes: list[str] | None = None) -> bytes:
    if file_spec is not None:
        pw = read_file(file_spec, notes)
    elif allow_empty and not jsc:
        pw = b""
    elif prompt is not None:
        pw = checked_bytes(prompt().encode("utf-8"), "the typed passphrase")
    else:
        raise BadInput(
            "a passphrase is needed for the new key and there is no terminal to ask on",
            hint="pass --passphrase-file FILE (or '-' for standard input)",
        )
    return check(pw, jsc=jsc, allow_empty=allow_empty)


# ---------------------------------------------------------------- the hidden prompt

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def _echo_off(fd: int) -> Iterator[None]:
    """Echo off on ``fd`` (keeping ISIG: Ctrl-C still interrupts); restored however the block ends.

    The signal handlers restore the terminal themselves before they raise, so even a signal that
    cuts the ``finally`` clause short leaves echo on. A signal that arrives while the clean-up runs
    is held and sent again once the previous handlers are back.
    """
    import termios

    old = termios.tcgetattr(fd)
    state: dict[str, Any] = {"closing": False, "pending": None}

    def restore() -> None:
        try:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
        except termios.error:  # the terminal is gone (SIGHUP): nothing to restore
            pass

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        restore()
        if state["closing"]:
            state["pending"] = signum
            return
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    previous: dict[int, Any] = {}
    try:
        for sig in _SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:  # ignored (nohup, a background job): leave it so
                continue
            try:
                previous[sig] = signal.signal(sig, on_signal)
            except ValueError:  # not the main thread: only the main thread may set handlers
                break
        new = termios.tcgetattr(fd)
        new[3] &= ~(termios.ECHO | termios.ECHOE | termios.ECHOK | termios.ECHONL)
        termios.tcsetattr(fd, termios.TCSAFLUSH, new)
        yield
    finally:
        state["closing"] = True
        restore()
        for sig, handler in previous.items():
            if handler is not None:  # None: a handler set outside Python, which cannot be put back
                signal.signal(sig, handler)
        if state["pending"] is not None:
            signal.raise_signal(state["pending"])  # now the previous handler deals with it


def _read_line(fd: int) -> bytes:
    """One line from a terminal in canonical mode, without its line ending; EOFError on Ctrl-D."""
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = os.read(fd, 4096)
        if not chunk:
            if buf:
                break
            raise EOFError
        buf += chunk
    return buf.rstrip(b"\r\n")


def _write(err: Any, text: str) -> None:
    try:
        err.write(text)
        err.flush()
    except (OSError, ValueError):
        pass


def _ask_once(fd: int, err: Any, prompt: str) -> bytes:
    with _echo_off(fd):
        _write(err, f"{prompt}: ")
        try:
            line = _read_line(fd)
        finally:
            _write(err, "\n")  # the Enter the user typed was not echoed
    return line


def read_hidden(prompt: str, confirm: bool = True, *, fd: int | None = None, err: Any = None) -> str:
    """Ask for a secret on the terminal (stdin) without echo; ask again to confirm when ``confirm``.

    The prompt and messages go to ``err`` (stderr). Ctrl-C raises KeyboardInterrupt; SIGTERM/SIGHUP
    raise SystemExit(128+signal); Ctrl-D raises BadInput; the terminal is restored first in every case.
    Without termios (Windows) it falls back to ``getpass``.
    """
    fd = sys.stdin.fileno() if fd is None else fd
    err = sys.stderr if err is None else err
    try:
        import termios  # noqa: F401 - POSIX only
    except ImportError:  # pragma: no cover - Windows: getpass reads the console with echo off
        import getpass

        typed = getpass.getpass(f"{prompt}: ", stream=err)
        while confirm and getpass.getpass("Repeat for confirmation: ", stream=err) != typed:
            _write(err, MISMATCH + "\n")
            typed = getpass.getpass(f"{prompt}: ", stream=err)
        return typed
    while True:
        try:
            first = _ask_once(fd, err, prompt)
            if not confirm:
                break
            again = _ask_once(fd, err, "Repeat for confirmation")
        except EOFError:
            raise BadInput("no passphrase was typed (end of input)",
                           hint="type the passphrase and press Enter, or pass --passphrase-file FILE") from None
        if again == first:
            break
        _write(err, MISMATCH + "\n")
    try:
        return first.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the typed passphrase is not valid UTF-8 (is the terminal set to another encoding?)",
                       hint="set the terminal to UTF-8 (e.g. LANG=C.UTF-8), or pass --passphrase-file FILE") from None
