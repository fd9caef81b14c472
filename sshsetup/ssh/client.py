"""The one owner of the ssh command line.

Every ssh that sshsetup runs itself is built here: which config file ssh reads (``-F``),
``BatchMode``, how the ControlMaster is used, verbosity, and the remote command. Nothing
else in sshsetup spells out ``["ssh", ...]``.

The config-file rule: a plain ``ssh`` reads ``~/.ssh/config`` of the passwd home. When
sshsetup manages another file (a ``HOME`` that is not the passwd home, as in tests or a
sandboxed session), it passes ``-F FILE``; when that file does not exist yet, ``-F none``,
so ssh never falls back to a config sshsetup was not asked to use.

The master rule (``Master``):

- ``REUSE`` (the default): use the site's live ControlMaster when there is one, and never
  become a master. Without a live master ssh connects on its own.
- ``NONE``: an independent connection that neither uses nor creates a master (a probe of
  the key itself).
- ``OPEN``: may create the master (``sshsetup login`` only).
"""

from __future__ import annotations

import enum
import os
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sshsetup.paths import Paths

_DESTINATION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@%+:\[\]-]{0,254}")
_OPTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")


class Master(str, enum.Enum):
    REUSE = "reuse"
    NONE = "none"
    OPEN = "open"


_MASTER_OPTIONS: dict[Master, tuple[tuple[str, str], ...]] = {
    Master.REUSE: (("ControlMaster", "no"),),
    Master.NONE: (("ControlMaster", "no"), ("ControlPath", "none")),
    Master.OPEN: (("ControlMaster", "auto"),),
}


@dataclass(frozen=True)
class Completed:
    """What one ssh run gave: exit status, both streams, and whether the deadline hit."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


@dataclass(frozen=True)
class Ssh:
    """An ssh client bound to one config file (``None``: ssh's default)."""

    config: Path | None = None
    executable: str = "ssh"
    env: Mapping[str, str] | None = field(default=None, compare=False)

    @classmethod
    def for_paths(cls, paths: Paths, *, executable: str = "ssh") -> Ssh:
        return cls(None if paths.ssh_uses_default_config else paths.ssh_config, executable)

    def config_args(self) -> list[str]:
        if self.config is None:
            return []
        return ["-F", str(self.config) if self.config.exists() else "none"]

    def argv(
        self,
        destination: str,
        remote: str | None = None,
        *,
        batch: bool = True,
        tty: bool = False,
        verbose: int = 0,
        connect_timeout: float | None = None,
        master: Master = Master.REUSE,
        options: Mapping[str, str] | None = None,
        log_file: Path | None = None,
    ) -> list[str]:
        """The full argv; ``remote`` is one shell command line (build it with ``shell_join``).

        ``log_file``: ssh's own messages (``-v`` included) go to that file (``-E``), not stderr.
        """
        _check_destination(destination)
        argv = [self.executable, *self.config_args(), "-tt" if tty else "-T"]
        argv += ["-v"] * max(0, min(verbose, 3))
        if log_file is not None:
            argv += ["-E", str(log_file)]
        opts: dict[str, str] = {}
        if batch:
            opts["BatchMode"] = "yes"
        if connect_timeout is not None:
            opts["ConnectTimeout"] = str(max(1, int(connect_timeout)))
        opts.update(_MASTER_OPTIONS[master])
        opts.update(options or {})
        for key, value in opts.items():
            argv += ["-o", f"{_option_name(key)}={_option_value(value)}"]
        argv += ["--", destination]
        if remote is not None:
            argv.append(remote)
        return argv

    def dump_argv(self, destination: str) -> list[str]:
        """``ssh -G``: the configuration ssh would use for ``destination``; no connection."""
        _check_destination(destination)
        return [self.executable, *self.config_args(), "-T", "-G", "--", destination]

    def control_argv(self, destination: str, operation: str, *, options: Mapping[str, str] | None = None) -> list[str]:
        """``ssh -O check|exit|stop``: talk to the master of ``destination``; never authenticates.

        ``options`` (e.g. a ``ControlPath`` of the caller's own) go before ``-O``.
        """
        if operation not in ("check", "exit", "stop"):
            raise ValueError(f"unknown control operation {operation!r}")
        _check_destination(destination)
        opts = [a for k, v in (options or {}).items() for a in ("-o", f"{_option_name(k)}={_option_value(v)}")]
        return [self.executable, *self.config_args(), *opts, "-O", operation, "--", destination]

    def run(self, argv: Sequence[str], *, timeout: float, input: str | None = None) -> Completed:
        """Run ``argv`` (from this client) with one deadline for the whole process."""
        env = None if self.env is None else {**os.environ, **self.env}
        try:
            proc = subprocess.run(
                list(argv), input=input, capture_output=True, text=True, errors="replace", timeout=timeout,
                stdin=None if input is not None else subprocess.DEVNULL, env=env, check=False,
            )
        except subprocess.TimeoutExpired as exc:
            return Completed(tuple(argv), 255, _text(exc.stdout), _text(exc.stderr), timed_out=True)
        except OSError as exc:
            return Completed(tuple(argv), 127, "", f"cannot run {argv[0]}: {exc.strerror or exc}")
        return Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)

    def run_on_terminal(self, argv: Sequence[str], *, timeout: float) -> Completed:
        """Run ``argv`` with the user's terminal for ssh's prompts; stdout is captured.

        ssh asks for a passphrase or a code on ``/dev/tty`` itself. At the deadline ssh gets
        SIGTERM (it puts the terminal back as it was) and, if it stays, SIGKILL.
        """
        env = None if self.env is None else {**os.environ, **self.env}
        try:
            proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, text=True, errors="replace", env=env)
        except OSError as exc:
            return Completed(tuple(argv), 127, "", f"cannot run {argv[0]}: {exc.strerror or exc}")
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                out, _ = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            return Completed(tuple(argv), 255, out or "", "", timed_out=True)
        return Completed(tuple(argv), proc.returncode, out or "", "")

    def control(self, destination: str, operation: str, *, timeout: float = 10.0) -> Completed:
        """Run ``ssh -O check|exit|stop``: never authenticates, never connects to the server."""
        return self.run(self.control_argv(destination, operation), timeout=timeout)

    def dump(self, destination: str, *, timeout: float = 10.0) -> dict[str, list[str]]:
        """``ssh -G`` parsed: keyword -> values in ssh's order. RuntimeError with all of ssh's lines."""
        done = self.run(self.dump_argv(destination), timeout=timeout)
        if not done.ok:
            raise RuntimeError("\n".join(done.stderr_lines) or ("ssh -G timed out" if done.timed_out else "ssh -G failed"))
        out: dict[str, list[str]] = {}
        for line in done.stdout.splitlines():
            key, _, value = line.partition(" ")
            out.setdefault(key, []).append(value)
        return out


def shell_join(words: Sequence[str]) -> str:
    """A remote command line whose words reach the remote program unchanged (POSIX shell quoting)."""
    return shlex.join(list(words))


def _check_destination(destination: str) -> None:
    if not _DESTINATION.fullmatch(destination):
        raise ValueError(f"not an ssh destination: {destination!r}")


def _option_name(name: str) -> str:
    if not _OPTION_NAME.fullmatch(name):
        raise ValueError(f"not an ssh option name: {name!r}")
    return name


def _option_value(value: str) -> str:
    if not value or any(c in value for c in "\r\n\0") or value != value.strip():
        raise ValueError(f"not a one-line ssh option value: {value!r}")
    return value


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data
