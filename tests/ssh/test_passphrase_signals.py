"""The hidden passphrase prompt on a REAL terminal (a pty): echo is off while it asks, and back on
however it ends: Enter, a mismatch, Ctrl-C (exit 130, "Interrupted (^C)"), SIGTERM, SIGHUP, Ctrl-D.

The child is a small program that calls ``read_hidden`` and maps the outcome the way ``cli.main``
does; the terminal's state is read from the test's own handle on the pty after the child is gone.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

import pytest

PASSPHRASE = "correct horse battery"
CHILD = r"""
import sys
from sshsetup.errors import SshSetupError
from sshsetup.ssh.passphrase import read_hidden
try:
    pw = read_hidden("Passphrase for the new key", confirm=True)
except KeyboardInterrupt:
    print("Interrupted (^C)", file=sys.stderr)
    raise SystemExit(130)
except SshSetupError as exc:
    print(f"error: {exc.message}", file=sys.stderr)
    print(f"hint: {exc.hint}", file=sys.stderr)
    raise SystemExit(exc.exit_code)
print(f"got {len(pw)} characters", file=sys.stderr)
"""


def _controlling_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty, so ^C sends SIGINT to it."""
    import fcntl

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A child on a pty; the test keeps the slave side open to read the terminal's modes afterwards."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        attrs = termios.tcgetattr(self.slave)
        attrs[3] |= termios.ECHO | termios.ICANON | termios.ISIG
        termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        env = {**os.environ, "TERM": "dumb"}
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=self.slave, stdout=self.slave, stderr=self.slave,
                                     env=env, close_fds=True, preexec_fn=_controlling_terminal)
        self.seen = b""
        self.pos = 0

    def _pump(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:
            return False
        self.seen += chunk
        return bool(chunk)

    def expect(self, text: str, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while text.encode() not in self.seen[self.pos :]:
            left = end - time.monotonic()
            assert left > 0, f"timed out waiting for {text!r}; screen so far:\n{self.seen.decode(errors='replace')}"
            if not self._pump(left):
                break
        at = self.seen.find(text.encode(), self.pos)
        assert at >= 0, self.seen.decode(errors="replace")
        self.pos = at + len(text)

    def echo_is_on(self) -> bool:
        return bool(termios.tcgetattr(self.slave)[3] & termios.ECHO)

    def wait_for_echo_off(self, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while self.echo_is_on():
            assert time.monotonic() < end, "echo was never switched off"
            time.sleep(0.01)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self, timeout: float = 20.0) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._pump(0.1)
        while self._pump(0.05) and select.select([self.master], [], [], 0)[0]:
            pass
        return self.proc.wait(5)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def term():
    t = Terminal()
    try:
        yield t
    finally:
        t.close()


def test_enter_twice_gives_the_passphrase_and_echo_comes_back(term: Terminal) -> None:
    term.expect("Passphrase for the new key: ")
    assert not term.echo_is_on()
    term.send(PASSPHRASE.encode() + b"\r")
    term.expect("Repeat for confirmation: ")
    term.send(PASSPHRASE.encode() + b"\r")
    assert term.finish() == 0, term.seen
    assert f"got {len(PASSPHRASE)} characters" in term.seen.decode()
    assert PASSPHRASE.encode() not in term.seen  # never echoed
    assert term.echo_is_on()


def test_a_mismatch_is_asked_again(term: Terminal) -> None:
    term.expect("Passphrase for the new key: ")
    term.send(PASSPHRASE.encode() + b"\r")
    term.expect("Repeat for confirmation: ")
    term.send(b"something else\r")
    term.expect("Error: The two entered values do not match.")
    term.expect("Passphrase for the new key: ")
    term.send(b"second try passphrase\r")
    term.expect("Repeat for confirmation: ")
    term.send(b"second try passphrase\r")
    assert term.finish() == 0
    assert "got 21 characters" in term.seen.decode()
    assert term.echo_is_on()


@pytest.mark.parametrize("at", ["first", "confirmation"])
def test_ctrl_c_exits_130_and_restores_echo(term: Terminal, at: str) -> None:
    term.expect("Passphrase for the new key: ")
    if at == "confirmation":
        term.send(PASSPHRASE.encode() + b"\r")
        term.expect("Repeat for confirmation: ")
    term.wait_for_echo_off()
    term.send(b"half typ\x03")  # ^C: the terminal sends SIGINT (ISIG stays on)
    assert term.finish() == 130
    screen = term.seen.decode()
    assert "Interrupted (^C)" in screen and "Traceback" not in screen and "Aborted" not in screen
    assert term.echo_is_on()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_restore_echo(term: Terminal, sig: int) -> None:
    term.expect("Passphrase for the new key: ")
    term.wait_for_echo_off()
    term.send(b"half typed")
    time.sleep(0.1)
    term.proc.send_signal(sig)
    assert term.finish() == 128 + sig
    assert "Traceback" not in term.seen.decode()
    assert term.echo_is_on()


def test_ctrl_d_is_an_error_with_a_hint(term: Terminal) -> None:
    term.expect("Passphrase for the new key: ")
    term.wait_for_echo_off()
    term.send(b"\x04")  # ^D on an empty line: end of input
    assert term.finish() == 2
    screen = term.seen.decode()
    assert "error: no passphrase was typed (end of input)" in screen
    assert "hint: type the passphrase and press Enter, or pass --passphrase-file FILE" in screen
    assert term.echo_is_on()


def test_signal_handlers_are_put_back() -> None:
    """In this process: after the prompt the previous handlers and echo are back."""
    import threading

    from sshsetup.ssh import passphrase

    master, slave = pty.openpty()

    def type_when_asked() -> None:  # typed-ahead input is flushed (TCSAFLUSH): type once echo is off
        end = time.monotonic() + 10
        while termios.tcgetattr(slave)[3] & termios.ECHO and time.monotonic() < end:
            time.sleep(0.01)
        os.write(master, b"typed\n")

    typist = threading.Thread(target=type_when_asked, daemon=True)
    try:
        before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        typist.start()
        with open(os.devnull, "w") as sink:
            assert passphrase.read_hidden("Secret", confirm=False, fd=slave, err=sink) == "typed"
        assert {s: signal.getsignal(s) for s in before} == before
        assert termios.tcgetattr(slave)[3] & termios.ECHO
    finally:
        typist.join(10)
        os.close(master)
        os.close(slave)


# ---------------------------------------------------------------- the real `sshsetup init` prompt


class InitTerminal(Terminal):
    def __init__(self, home: str) -> None:  # noqa: D107 - same as Terminal, running sshsetup init
        self.master, self.slave = pty.openpty()
        env = {**os.environ, "HOME": home, "TERM": "dumb", "SSHSETUP_NO_CLIPBOARD": "1"}
        argv = [sys.executable, "-m", "sshsetup", "init", "--site", "jusuf", "--user", "smith1", "--no-vscode"]
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
                                     close_fds=True, preexec_fn=_controlling_terminal)
        self.seen = b""
        self.pos = 0


def test_init_ctrl_c_at_the_passphrase_prompt_exits_130(fake_home) -> None:
    t = InitTerminal(str(fake_home))
    try:
        t.expect("Passphrase for the new key (at least 8 characters): ")
        t.wait_for_echo_off()
        t.send(b"\x03")
        rc = t.finish()
        screen = t.seen.decode(errors="replace")
        assert (rc, "Traceback" in screen, "Aborted" in screen) == (130, False, False), screen
        assert "Interrupted (^C)" in screen
        assert t.echo_is_on()
        assert not (fake_home / ".ssh" / "config").exists()
    finally:
        t.close()


def test_init_sigterm_at_the_passphrase_prompt_restores_echo(fake_home) -> None:
    t = InitTerminal(str(fake_home))
    try:
        t.expect("Passphrase for the new key (at least 8 characters): ")
        t.wait_for_echo_off()
        t.proc.send_signal(signal.SIGTERM)
        assert t.finish() == 128 + signal.SIGTERM
        assert t.echo_is_on()
        assert not (fake_home / ".ssh" / "config").exists()
    finally:
        t.close()
