"""A throwaway OpenSSH server on 127.0.0.1 and [::1] (testbed.md 1.2).

The server side (what JuDoor would hold) is ``<dir>/authorized_keys/<user>``, kept apart
from any client ``~/.ssh``. Needs root (privilege separation) and ``/usr/sbin/sshd``.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .users import KeyPair, TestUser, make_key, popen_daemon, run_as, stop_process

SSHD = "/usr/sbin/sshd"


def free_port(host: str = "127.0.0.1") -> int:
    """A currently unused TCP port on ``host`` (bind to port 0, read, close: tiny race)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def read_banner(host: str, port: int, timeout: float = 1.0) -> bytes:
    """Connect and return whatever the server sends within ``timeout`` (b"" for none).

    Raises OSError (e.g. ConnectionRefusedError) when the connection itself fails.
    """
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        data = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(256)
            except (socket.timeout, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
        return data


def make_host_key(path: Path) -> str:
    """``ssh-keygen`` an ed25519 host key at ``path``; return ``"ssh-ed25519 AAAA..."``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "testbed-host", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return " ".join(path.with_name(path.name + ".pub").read_text().split()[:2])


def _quote(word: str) -> str:
    """Quote one sshd_config argument when it holds blanks or quotes."""
    if re.search(r'[\s"\']', word):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


class SshdError(RuntimeError):
    pass


class Sshd:
    """One ``sshd -D -e`` on ``127.0.0.1:port`` and ``[::1]:port``.

    Files live in ``directory``: ``sshd_config``, ``hostkey``, ``authorized_keys/<user>``
    and ``sshd.log`` (everything sshd and its children print).
    """

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        setenv: Mapping[str, str] | None = None,
        extra_config: Sequence[str] = (),
        host_key: Path | None = None,
        authorized_keys_file: str | None = None,
    ) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)
        self.auth_dir = self.dir / "authorized_keys"
        self.auth_dir.mkdir(exist_ok=True)
        self.auth_dir.chmod(0o755)
        self.config_path = self.dir / "sshd_config"
        self.log_path = self.dir / "sshd.log"
        self._auto_port = port is None
        self.port = port if port is not None else free_port()
        self.setenv: dict[str, str] = dict(setenv or {})
        self.extra_config: list[str] = list(extra_config)
        # %u / %h tokens are sshd's; default: one file per user outside any home.
        self.authorized_keys_file = authorized_keys_file or f"{self.auth_dir}/%u"
        if host_key is None:
            host_key = self.dir / "hostkey"
            self.host_key = make_host_key(host_key)
        else:
            self.host_key = " ".join(host_key.with_name(host_key.name + ".pub").read_text().split()[:2])
        self.host_key_path = host_key
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    # ------------------------------------------------------------------ config

    def config_text(self) -> str:
        lines = [
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            "ListenAddress ::1",
            f"HostKey {self.host_key_path}",
            "PidFile none",
            f"AuthorizedKeysFile {self.authorized_keys_file}",
            "StrictModes no",
            "UsePAM no",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "AllowTcpForwarding yes",
            "PrintMotd no",
            "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp",
        ]
        if self.setenv:
            lines.append("SetEnv " + " ".join(_quote(f"{k}={v}") for k, v in self.setenv.items()))
        # sshd keeps the FIRST value of most keywords: extra lines must win, so they go
        # before the defaults they override (Match blocks must come last, though).
        extra = list(self.extra_config)
        keys = {ln.split()[0].lower() for ln in extra if ln.strip() and not ln.lstrip().startswith("#")}
        if "match" in keys:
            idx = next(i for i, ln in enumerate(extra) if ln.split() and ln.split()[0].lower() == "match")
            head, tail = extra[:idx], extra[idx:]
        else:
            head, tail = extra, []
        head_keys = {ln.split()[0].lower() for ln in head if ln.strip()}
        body = [ln for ln in lines if ln.split()[0].lower() not in head_keys or ln.split()[0].lower() == "listenaddress"]
        return "\n".join(head + body + tail) + "\n"

    # ------------------------------------------------------------------ life cycle

    def start(self, timeout: float = 10.0) -> Sshd:
        """Start and wait for the banner; an auto-chosen port that turns out taken is re-picked."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except SshdError as e:
                if not self._auto_port or attempt == 2 or "Address already in use" not in str(e):
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> Sshd:
        os.makedirs("/run/sshd", exist_ok=True)
        os.chmod("/run/sshd", 0o755)
        self.config_path.write_text(self.config_text())
        t0 = time.monotonic()
        check = subprocess.run([SSHD, "-t", "-f", str(self.config_path)], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise SshdError(f"sshd -t failed ({check.returncode}): {check.stderr.strip()}\n{self.config_text()}")
        log_start = self.log_offset()
        log = open(self.log_path, "ab")  # noqa: SIM115 - O_APPEND: sshd's children write to it too
        try:
            self.proc = popen_daemon(
                self.launch_argv(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise SshdError(f"sshd exited with {self.proc.returncode}:\n{self.log_text()}")
            if f"Bind to port {self.port} on" in self.log_text(log_start):
                self.stop()
                raise SshdError(f"sshd could not bind port {self.port}:\n{self.log_text(log_start)}")
            probe_port = self._probe_banner()
            if probe_port:
                break
            if time.monotonic() > deadline:
                self.stop()
                raise SshdError(f"sshd sent no banner on port {self.port} within {timeout}s:\n{self.log_text()}")
            time.sleep(0.01)
        # The probe makes sshd log "Connection closed by 127.0.0.1 port P": wait for that
        # line so the log is in a fixed order (start-up, probe, then the test's own lines).
        rx = re.compile(rf"Connection closed by 127\.0\.0\.1 port {probe_port}\b")
        probe_deadline = time.monotonic() + 2.0
        while not rx.search(self.log_text()) and time.monotonic() < probe_deadline:
            time.sleep(0.005)
        text = self.log_text(log_start)
        for addr in ("127.0.0.1", "::1"):
            if f"Server listening on {addr} port {self.port}." not in text:
                self.stop()  # e.g. the port was taken on one address: the banner was someone else's
                raise SshdError(f"sshd is not listening on {addr} port {self.port}:\n{text}")
        self.startup_seconds = time.monotonic() - t0
        return self

    def launch_argv(self) -> list[str]:
        """How the listener is started (a subclass may wrap it, e.g. tests/testbed/totp.py)."""
        return [SSHD, "-D", "-e", "-f", str(self.config_path)]

    def _probe_banner(self) -> int:
        """Connect to 127.0.0.1:port; the local port if sshd sent its banner, else 0."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                local = int(s.getsockname()[1])
                data = b""
                while b"\n" not in data:
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    data += chunk
                return local if data.startswith(b"SSH-2.0-") else 0
        except OSError:
            return 0

    def stop(self) -> None:
        """Stop the listener, its process group and every session child (ControlPersist...)."""
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def restart(
        self,
        extra_config: Sequence[str] | None = None,
        setenv: Mapping[str, str] | None = None,
    ) -> Sshd:
        """Stop and start again on the same port; ``None`` keeps the current setting."""
        self.stop()
        if extra_config is not None:
            self.extra_config = list(extra_config)
        if setenv is not None:
            self.setenv = dict(setenv)
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> Sshd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ keys

    @property
    def host_key_line(self) -> str:
        """known_hosts line for 127.0.0.1: ``[127.0.0.1]:PORT ssh-ed25519 AAAA...``."""
        return f"[127.0.0.1]:{self.port} {self.host_key}"

    def known_hosts_lines(self, hosts: Iterable[str] = ("127.0.0.1", "::1")) -> list[str]:
        """One known_hosts line per host name/address, bracketed with the port."""
        return [f"[{h}]:{self.port} {self.host_key}" for h in hosts]

    def known_hosts_text(self, hosts: Iterable[str] = ("127.0.0.1", "::1")) -> str:
        return "".join(line + "\n" for line in self.known_hosts_lines(hosts))

    def authorized_keys_path(self, user: TestUser | str) -> Path:
        name = user if isinstance(user, str) else user.name
        return self.auth_dir / name

    def authorize(
        self,
        user: TestUser | str,
        line: str,
        *,
        from_: str | None = None,
        append: bool = False,
    ) -> Path:
        """Write the server-side authorized_keys line(s) for ``user``; returns the file.

        ``line`` is a complete line (options allowed, e.g. ``from="127.0.0.2/32" ssh-ed25519 ...``);
        ``from_`` adds the option ``from="<from_>"`` in front (joined with a comma to options
        already there). ``append`` adds the line instead of replacing the file.
        """
        if from_ is not None:
            first = line.split(maxsplit=1)[0] if line.strip() else ""
            is_key_type = first.startswith(("ssh-", "ecdsa-", "sk-", "rsa-"))
            line = f'from="{from_}" {line}' if is_key_type else f'from="{from_}",{line}'
        path = self.authorized_keys_path(user)
        text = line.rstrip("\n") + "\n"
        if append and path.exists():
            text = path.read_text() + text
        path.write_text(text)
        path.chmod(0o644)
        return path

    def unauthorize(self, user: TestUser | str) -> None:
        self.authorized_keys_path(user).unlink(missing_ok=True)

    # ------------------------------------------------------------------ logs

    def log_offset(self) -> int:
        """Current size of the log: pass to ``log_text(since=...)`` to see only newer lines."""
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_text(self, since: int = 0) -> str:
        """sshd's log (stderr of the listener and all its children) from byte ``since``."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str, *, since: int = 0, timeout: float = 5.0) -> re.Match[str]:
        """Wait until regex ``pattern`` appears in the log (after ``since``); return the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log_text(since))
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not in sshd log within {timeout}s:\n{self.log_text(since)}")
            time.sleep(0.02)

    # ------------------------------------------------------------------ client side

    def host_block(
        self,
        alias: str,
        user: TestUser | str,
        *,
        identity_file: str | Path | None = "~/.ssh/id_ed25519_jsc",
        host: str = "127.0.0.1",
        extra: Sequence[str] = (),
    ) -> str:
        """A ``Host alias`` block for an ssh client config pointing at this server."""
        name = user if isinstance(user, str) else user.name
        lines = [f"Host {alias}", f"    HostName {host}", f"    Port {self.port}", f"    User {name}"]
        if identity_file is not None:
            lines += [f"    IdentityFile {identity_file}", "    IdentitiesOnly yes"]
        lines += ["    StrictHostKeyChecking yes", "    BatchMode yes"]
        lines += [f"    {x}" for x in extra]
        return "\n".join(lines) + "\n"


class SshClient:
    """The client side for one test: key, ``~/.ssh/config`` Host block, known_hosts, all as ``user``.

    ``setup()`` writes ``~/.ssh/<key_name>`` (ed25519, optional passphrase), a ``Host <alias>``
    block in ``~/.ssh/config`` (``IdentityFile ~/.ssh/<key_name>``, ``IdentitiesOnly``,
    ``StrictHostKeyChecking yes``, ``BatchMode yes``), both known_hosts lines, and authorizes
    the key on the server with ``from="<from_>"`` (None: no restriction).
    """

    def __init__(self, user: TestUser, sshd: Sshd, alias: str, key: KeyPair) -> None:
        self.user = user
        self.sshd = sshd
        self.alias = alias
        self.key = key

    @classmethod
    def setup(
        cls,
        user: TestUser,
        sshd: Sshd,
        *,
        alias: str = "jsc-testbed",
        key_name: str = "id_ed25519_jsc",
        passphrase: str | None = None,
        from_: str | None = "127.0.0.0/8,::1",
        extra: Sequence[str] = (),
        authorize: bool = True,
    ) -> SshClient:
        key = make_key(user, key_name, passphrase=passphrase)
        config = user.ssh_dir / "config"
        old = config.read_text() if config.exists() else ""
        user.write(".ssh/config", old + sshd.host_block(alias, user, identity_file=f"~/.ssh/{key_name}", extra=extra))
        kh = user.ssh_dir / "known_hosts"
        old_kh = kh.read_text() if kh.exists() else ""
        user.write(".ssh/known_hosts", old_kh + sshd.known_hosts_text(), mode=0o644)
        if authorize:
            sshd.authorize(user, key.public_line, from_=from_)
        return cls(user, sshd, alias, key)

    def ssh(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float = 30.0,
    ) -> subprocess.CompletedProcess[str]:
        """``ssh ARGS`` as the user (no alias added: pass it yourself)."""
        return run_as(self.user, ["ssh", *args], env=env, input=input, timeout=timeout)

    def run(
        self,
        remote: str | Sequence[str] = "true",
        *,
        options: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float = 30.0,
    ) -> subprocess.CompletedProcess[str]:
        """``ssh [OPTIONS] ALIAS REMOTE`` as the user; a list REMOTE is joined with shlex.join."""
        cmd = remote if isinstance(remote, str) else shlex.join(remote)
        return self.ssh(*options, self.alias, cmd, env=env, input=input, timeout=timeout)
