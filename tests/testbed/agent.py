"""An ``ssh-agent`` running as the test user, fed through SSH_ASKPASS (testbed.md 1.5).

A passphrase never appears on a command line: ssh-add asks the askpass program, which
reads the passphrase from a 0600 file owned by the test user.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .users import TestUser, exe, popen_daemon, run_as, stop_process


class AgentError(RuntimeError):
    pass


class SshAgent:
    """``ssh-agent -D -a SOCK`` as ``user``; the socket lives in a private dir owned by the user."""

    def __init__(self, user: TestUser, directory: Path | None = None) -> None:
        self.user = user
        self._own_dir = directory is None
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="agent-", dir=user.base))
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        user.chown(self.dir)
        self.sock = self.dir / "agent.sock"
        self.askpass = self.dir / "askpass"
        self._passfile = self.dir / "passphrase"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> SshAgent:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        self.user.chown(self.dir)
        self.sock.unlink(missing_ok=True)
        argv = [exe("runuser"), "-u", self.user.name, "--", "env", "-i"]
        argv += [f"{k}={v}" for k, v in self.user.env().items()]
        argv += ["ssh-agent", "-D", "-a", str(self.sock)]
        self.proc = popen_daemon(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=str(self.user.home),
        )
        deadline = time.monotonic() + timeout
        while not self.sock.exists():
            if self.proc.poll() is not None:
                raise AgentError(f"ssh-agent exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise AgentError("ssh-agent socket did not appear")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, children_first=True)
            self.proc = None
        self.sock.unlink(missing_ok=True)
        self._passfile.unlink(missing_ok=True)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SshAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def env(self) -> dict[str, str]:
        """``{"SSH_AUTH_SOCK": sock}``: pass as ``run_as(..., env=agent.env)``."""
        return {"SSH_AUTH_SOCK": str(self.sock)}

    def add(self, key: Path | str, passphrase: str | None = None, *, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """``ssh-add KEY`` as the user; a passphrase goes through SSH_ASKPASS (forced).

        Raises AgentError when ssh-add fails; returns its CompletedProcess otherwise
        (stderr: ``Identity added: KEY (comment)``).
        """
        env = dict(self.env)
        if passphrase is not None:
            fd = os.open(self._passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(passphrase)
            self.user.chown(self._passfile)
            self.askpass.write_text(f"#!/bin/sh\nexec cat {shlex.quote(str(self._passfile))}\n")
            self.askpass.chmod(0o755)
            self.user.chown(self.askpass)
            env.update(SSH_ASKPASS=str(self.askpass), SSH_ASKPASS_REQUIRE="force")
        try:
            r = run_as(self.user, ["ssh-add", str(key)], env=env, timeout=timeout)
        finally:
            self._passfile.unlink(missing_ok=True)
        if r.returncode != 0:
            raise AgentError(f"ssh-add {key} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def list_keys(self) -> list[str]:
        """``ssh-add -l`` lines (empty list when the agent holds no key)."""
        r = run_as(self.user, ["ssh-add", "-l"], env=self.env, timeout=30)
        if r.returncode == 1:
            return []
        if r.returncode != 0:
            raise AgentError(f"ssh-add -l failed ({r.returncode}): {r.stderr.strip()}")
        return [ln for ln in r.stdout.splitlines() if ln.strip()]
