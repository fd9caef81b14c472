"""Slurm accounting for a test-bed cluster: slurmdbd backed by a real MariaDB (testbed.md 2.6).

``Accounting(directory, munge_socket)`` owns two daemons under ``directory``: ``mariadbd``
(a fresh data dir made by ``mariadb-install-db``, a Unix socket and a free port on 127.0.0.1
only) and ``slurmdbd`` (a free port, its 0600 ``slurmdbd.conf`` beside the cluster's
slurm.conf, a database user with a random password). ``Slurm(..., accounting=True)`` starts
it after munged and before slurmctld, and puts :meth:`slurm_conf_lines` into slurm.conf, so
``sacct`` and ``sacctmgr`` work. No system service is used; nothing listens on 3306. Needs root.

Start-up cost: ``mariadb-install-db`` is most of it (≈1-6 s on a loaded 2-core machine, see
``startup_seconds``), so only the clusters that need ``sacct`` have accounting.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .sshd import free_port
from .users import exe, popen_daemon, stop_process

EXECUTABLES = ("mariadbd", "mariadb-install-db", "mariadb", "slurmdbd", "sacctmgr", "sacct")
DB_USER = "slurm"
DB_NAME = "slurm_acct_db"


class AccountingError(RuntimeError):
    pass


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Accounting:
    """mariadbd + slurmdbd for one cluster (``ClusterName=cluster``), files under ``directory``.

    ``etc``: the directory of the cluster's slurm.conf (slurmdbd reads ``slurmdbd.conf`` there).
    """

    def __init__(self, directory: Path, *, munge_socket: Path, etc: Path, cluster: str = "testbed") -> None:
        self.dir = Path(directory)
        self.munge_socket = munge_socket
        self.etc = etc
        self.cluster = cluster
        self.data = self.dir / "data"
        self.db_socket = self.dir / "mysqld.sock"
        self.conf_path = etc / "slurmdbd.conf"
        self.db_port = 0
        self.dbd_port = 0
        self._password = ""
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self.startup_seconds = 0.0
        self.phases: dict[str, float] = {}  # seconds per start-up step (install, mariadbd, slurmdbd, sacctmgr)

    # ------------------------------------------------------------------ configuration

    def allocate_ports(self) -> None:
        self.db_port = free_port()
        self.dbd_port = free_port()
        while self.dbd_port == self.db_port:
            self.dbd_port = free_port()

    def slurm_conf_lines(self) -> list[str]:
        """The slurm.conf lines that send job records to this slurmdbd (replace the ``none`` ones)."""
        return [
            "AccountingStorageType=accounting_storage/slurmdbd",
            "AccountingStorageHost=localhost",
            f"AccountingStoragePort={self.dbd_port}",
            f"AccountingStoragePass={self.munge_socket}",  # the munge socket for the slurmdbd connection
            "JobAcctGatherType=jobacct_gather/none",
        ]

    def _write_conf(self) -> None:
        self._password = secrets.token_hex(16)
        log = self.dir / "slurmdbd.log"
        text = "\n".join([
            "AuthType=auth/munge",
            f"AuthInfo=socket={self.munge_socket}",
            "DbdHost=localhost",
            "DbdAddr=127.0.0.1",
            f"DbdPort={self.dbd_port}",
            "SlurmUser=root",
            "StorageType=accounting_storage/mysql",
            "StorageHost=127.0.0.1",
            f"StoragePort={self.db_port}",
            f"StorageUser={DB_USER}",
            f"StoragePass={self._password}",
            f"StorageLoc={DB_NAME}",
            f"LogFile={log}",
            f"PidFile={self.dir / 'slurmdbd.pid'}",
            "",
        ])
        fd = os.open(self.conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.conf_path.chmod(0o600)  # slurmdbd refuses a conf others can read

    # ------------------------------------------------------------------ helpers

    def _env(self, slurm_conf: Path) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(slurm_conf)}

    def _sql(self, statement: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe("mariadb"), "--no-defaults", f"--socket={self.db_socket}", "-uroot", "-e", statement],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, check=False,
        )

    def sacctmgr(self, slurm_conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """``sacctmgr -i ARGS`` against this slurmdbd."""
        return subprocess.run(
            [exe("sacctmgr"), "-i", *args], env=self._env(slurm_conf), capture_output=True, text=True, timeout=60,
            stdin=subprocess.DEVNULL, check=False,
        )

    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> None:
        with open(self.dir / f"{name}.out", "ab") as f:
            self._procs[name] = popen_daemon(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                             env=dict(env) if env is not None else None)

    def _wait(self, what: str, cond: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            for name, p in self._procs.items():
                if p.poll() is not None:
                    raise AccountingError(f"{name} exited with {p.returncode} while waiting for {what}:\n{self._diag()}")
            if time.monotonic() > deadline:
                raise AccountingError(f"timed out after {timeout}s waiting for {what}:\n{self._diag()}")
            time.sleep(0.05)

    def _diag(self) -> str:
        parts = []
        for f in sorted(self.dir.glob("*.out")) + sorted(self.dir.glob("*.log")) + sorted(self.dir.glob("*.err")):
            try:
                parts.append(f"--- {f}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-20:]))
            except OSError:
                pass
        return "\n".join(parts)

    # ------------------------------------------------------------------ life cycle

    def start(self, slurm_conf: Path, accounts: Sequence[str], users: Sequence[str] = ("root",),
              timeout: float = 60.0) -> Accounting:
        """mariadbd, the database user, slurmdbd, then the cluster, its accounts and users in sacctmgr.

        ``slurm_conf`` must already name this slurmdbd (:meth:`slurm_conf_lines`): sacctmgr reads it.
        """
        t0 = last = time.monotonic()

        def phase(name: str) -> None:
            nonlocal last
            now = time.monotonic()
            self.phases[name] = now - last
            last = now

        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        try:
            if not (self.data / "mysql").is_dir():
                done = subprocess.run(
                    [exe("mariadb-install-db"), "--no-defaults", f"--datadir={self.data}", "--user=root",
                     "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
                     "--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M",
                     "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0"],
                    capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False,
                )
                if done.returncode != 0:
                    raise AccountingError(f"mariadb-install-db failed ({done.returncode}): {done.stderr[-2000:]}")
            phase("mariadb-install-db")
            self._spawn("mariadbd", [
                "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.data}", f"--socket={self.db_socket}",
                f"--port={self.db_port}", "--bind-address=127.0.0.1", "--user=root",
                f"--pid-file={self.dir / 'mysqld.pid'}", f"--log-error={self.dir / 'mysqld.err'}",
                "--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0", "--skip-name-resolve",
            ])
            self._wait("mariadbd", lambda: self.db_socket.exists() and self._sql("SELECT 1").returncode == 0, timeout)
            phase("mariadbd")
            self._write_conf()
            grants = "".join(
                f"CREATE USER IF NOT EXISTS '{DB_USER}'@'{host}' IDENTIFIED BY '{self._password}';"
                f"ALTER USER '{DB_USER}'@'{host}' IDENTIFIED BY '{self._password}';"
                f"GRANT ALL ON {DB_NAME}.* TO '{DB_USER}'@'{host}';"
                for host in ("127.0.0.1", "localhost")
            )
            done = self._sql(grants)
            if done.returncode != 0:
                raise AccountingError(f"creating the database user failed: {done.stderr.strip()}")
            self._spawn("slurmdbd", ["/usr/sbin/slurmdbd", "-D"], env=self._env(slurm_conf))
            self._wait("slurmdbd", lambda: _listening(self.dbd_port), timeout)
            phase("slurmdbd")
            steps = [("add", "cluster", self.cluster),
                     ("add", "account", ",".join(accounts), f"Cluster={self.cluster}", "Description=test",
                      "Organization=jsc"),
                     ("add", "user", ",".join(users), f"Account={accounts[0]}", f"Cluster={self.cluster}")]
            for step in steps:
                self._wait(f"sacctmgr {' '.join(step[:2])}", lambda s=step: self.sacctmgr(slurm_conf, *s).returncode == 0,
                           timeout)
            phase("sacctmgr")
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def add_user(self, slurm_conf: Path, name: str, account: str) -> None:
        """An association for ``name`` (a test user made after start-up)."""
        done = self.sacctmgr(slurm_conf, "add", "user", name, f"Account={account}", f"Cluster={self.cluster}")
        if done.returncode != 0 and "Nothing new added" not in done.stdout + done.stderr:
            raise AccountingError(f"sacctmgr add user {name} failed: {done.stdout.strip()} {done.stderr.strip()}")

    def stop(self) -> None:
        """slurmdbd, then mariadbd (SIGTERM to each process group, SIGKILL after 10 s)."""
        for name in ("slurmdbd", "mariadbd"):
            p = self._procs.pop(name, None)
            if p is not None:
                stop_process(p, timeout=10)

    @property
    def running(self) -> bool:
        return bool(self._procs) and all(p.poll() is None for p in self._procs.values())
