"""A test sshd that asks for a real TOTP code after the key, and a pty to type it into.

``TotpSshd`` is an ``Sshd`` with ``AuthenticationMethods publickey,keyboard-interactive``
and ``UsePAM yes``. Its PAM stack is Debian's ``pam_oath`` (``libpam-oath``) reading a
users file in the server's directory: a real RFC 6238 check, with pam_oath's own replay
protection (a code works once). sshd's PAM service name is fixed at ``sshd``, so the
listener runs in a private *mount* namespace where a temporary ``pam.d/sshd`` is bind-mounted
over ``/etc/pam.d/sshd``: only that process tree sees it, and the mount ends with it.
No network namespace, nothing to restore by hand.

Codes come from the real ``oathtool --totp``. ``Pty`` runs a command on a fresh pseudo
terminal (its controlling tty, as a user's terminal is) so that ssh's prompts can be
answered the way a user types them.
"""

from __future__ import annotations

import os
import re
import secrets
import select
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .require import missing, require_exe
from .sshd import SSHD, Sshd
from .users import TestUser, descendants, exe, kill_pids

PAM_OATH = ("/lib/x86_64-linux-gnu/security/pam_oath.so", "/usr/lib/x86_64-linux-gnu/security/pam_oath.so",
            "/lib/aarch64-linux-gnu/security/pam_oath.so", "/usr/lib/aarch64-linux-gnu/security/pam_oath.so",
            "/lib/security/pam_oath.so")
STEP = 30
# What sshd logs (LogLevel VERBOSE) for one finished authentication of each method.
ACCEPTED_KBDINT = r"Accepted keyboard-interactive/pam for (\S+) from"
PARTIAL_PUBLICKEY = r"Partial publickey for (\S+) from"
ANY_AUTH = r"(?:Accepted|Partial|Failed) \S+ for \S+ from"
CONNECTION = r"Connection from \S+ port \d+ on"


def require_totp() -> tuple[str, str]:
    """(pam_oath.so, oathtool): skip locally when missing, fail under CI=true."""
    require_exe("unshare", "/usr/bin/unshare")
    require_exe("mount", "/usr/bin/mount", "/bin/mount")
    oathtool = require_exe("oathtool")
    for path in PAM_OATH:
        if os.path.exists(path):
            return path, oathtool
    missing("pam_oath.so", "the PAM module of libpam-oath is not installed; run .ci/run to install it")
    raise AssertionError("unreachable")


def pam_stack(module: str, users_file: Path) -> str:
    """The test sshd's whole PAM service: the TOTP check and nothing of the machine's own."""
    return (
        "# sshsetup testbed: TOTP after the public key (pam_oath, RFC 6238, replay-protected)\n"
        f"auth     required pam_oath.so usersfile={users_file} window=1 digits=6 debug\n"
        "account  required pam_permit.so\n"
        "session  required pam_permit.so\n"
        "password required pam_deny.so\n"
    ).replace("pam_oath.so", module, 1)


class TotpSshd(Sshd):
    """``Sshd`` that requires ``publickey,keyboard-interactive``; the second factor is a TOTP code."""

    def __init__(self, directory: Path, *, extra_config: Sequence[str] = (), **kw: Any) -> None:
        self.pam_module, self.oathtool = require_totp()
        config = ["UsePAM yes", "KbdInteractiveAuthentication yes",
                  "AuthenticationMethods publickey,keyboard-interactive", *extra_config]
        super().__init__(directory, extra_config=config, **kw)
        self.secret = secrets.token_hex(20)
        self.users_file = self.dir / "users.oath"
        self.pam_file = self.dir / "pam.sshd"
        self.users_file.write_text("")
        self.users_file.chmod(0o600)
        self.pam_file.write_text(pam_stack(self.pam_module, self.users_file))

    def add_user(self, user: TestUser | str) -> None:
        """Give ``user`` the server's TOTP secret (one ``HOTP/T30/6`` line of pam_oath's users file)."""
        name = user if isinstance(user, str) else user.name
        with open(self.users_file, "a") as f:
            f.write(f"HOTP/T{STEP}/6 {name} - {self.secret}\n")

    def launch_argv(self) -> list[str]:
        script = 'mount --bind "$1" /etc/pam.d/sshd && exec "$2" -D -e -f "$3"'
        return [exe("unshare"), "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                str(self.pam_file), SSHD, str(self.config_path)]

    # ------------------------------------------------------------------ codes

    def code(self, at: float | None = None) -> str:
        """The code ``oathtool --totp`` gives for time ``at`` (default: now)."""
        when = time.time() if at is None else at
        done = subprocess.run([self.oathtool, "--totp", "-d", "6", f"--now=@{int(when)}", self.secret],
                              capture_output=True, text=True, timeout=10, check=True)
        return done.stdout.strip()

    def wrong_code(self) -> str:
        """A code that is valid for none of the steps pam_oath accepts now (window=1)."""
        now = time.time()
        valid = {self.code(now + d * STEP) for d in (-2, -1, 0, 1, 2)}
        code = self.code(now + 3600)
        while code in valid:
            code = f"{(int(code) + 1) % 1_000_000:06d}"
        return code

    # ------------------------------------------------------------------ the log

    def count(self, pattern: str, since: int = 0) -> int:
        return len(re.findall(pattern, self.log_text(since)))


def seconds_left_in_step(now: float | None = None) -> float:
    t = time.time() if now is None else now
    return STEP - (t % STEP)


def wait_for_fresh_step(need: float) -> None:
    """Sleep to the next 30 s step when fewer than ``need`` seconds are left in this one."""
    left = seconds_left_in_step()
    if left < need:
        time.sleep(left + 0.2)


class Pty:
    """A command on its own pseudo terminal (its controlling tty); read what it shows, type into it."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | None = None) -> None:
        import fcntl
        import termios

        master, slave = os.openpty()
        self.fd = master
        self.output = b""

        def ctty() -> None:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                     preexec_fn=ctty, env=dict(env) if env is not None else None, cwd=cwd)
        os.close(slave)

    @classmethod
    def as_user(cls, user: TestUser, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Pty:
        """``argv`` as ``user`` (``runuser``, clean environment as ``run_as`` gives), on the pty."""
        cmd = [exe("runuser"), "-u", user.name, "--", "env", "-i"]
        cmd += [f"{k}={v}" for k, v in user.env(env).items()]
        return cls([*cmd, *argv], cwd=str(user.home))

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: every process closed the terminal
            return False
        if not chunk:
            return False
        self.output += chunk
        return True

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait until ``pattern`` shows on the terminal (searched in everything shown so far)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.text)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)):
                m = rx.search(self.text)
                if m:
                    return m
                raise AssertionError(f"{pattern!r} not shown within {timeout}s; the terminal shows:\n{self.text}")

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 60.0) -> int:
        """Read until the command exits; its exit status."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0.05) and self.proc.poll() is not None and select.select([self.fd], [], [], 0)[0]:
            pass
        if self.proc.poll() is None:
            self.close()
            raise AssertionError(f"still running after {timeout}s; the terminal shows:\n{self.text}")
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            kill_pids([*descendants(self.proc.pid), self.proc.pid])
            try:
                self.proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> Pty:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
