"""A single-node Slurm (munged + slurmctld + slurmd) on loopback (testbed.md 2.2-2.4).

Named and shaped like a JSC system: partitions ``booster`` (default, 24 h) and
``develbooster`` (2 h), one node ``tbnode01`` with ``Gres=gpu:4`` (fake devices made with
mknod), ``--account`` required and checked by a job_submit.lua (``myproject`` and
``training2500`` are valid budgets). Needs root. ``accounting=True`` adds slurmdbd and
MariaDB (tests/testbed/slurmdbd.py), so ``sacct`` answers; without it accounting is off.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .slurmdbd import Accounting, AccountingError
from .sshd import free_port
from .users import alive, exe, kill_pids, popen_daemon, stop_process

NODE = "tbnode01"
FINISHED_STATES = frozenset(
    {
        "COMPLETED",
        "CANCELLED",
        "FAILED",
        "TIMEOUT",
        "NODE_FAIL",
        "PREEMPTED",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
    }
)


@dataclass(frozen=True)
class Partition:
    name: str
    max_time: str = "24:00:00"
    default: bool = False
    extra: str = ""  # more ``PartitionName=`` options, e.g. "MaxNodes=1"

    def line(self, node: str) -> str:
        s = f"PartitionName={self.name} Nodes={node} MaxTime={self.max_time} State=UP"
        if self.default:
            s += " Default=YES"
        if self.extra:
            s += " " + self.extra
        return s


JUWELS_BOOSTER: tuple[Partition, ...] = (
    Partition("booster", "24:00:00", default=True),
    Partition("develbooster", "02:00:00"),
)
DEFAULT_ACCOUNTS: tuple[str, ...] = ("myproject", "training2500")

JOB_SUBMIT_LUA = """\
-- JSC-like budget check without slurmdbd: --account is required and must be known
local allowed = { %(allowed)s }
function slurm_job_submit(job_desc, part_list, submit_uid)
   local acct = job_desc.account
   if acct == nil or acct == "" then
      slurm.log_user("Please specify a budget with --account=<budget>")
      return slurm.ESLURM_INVALID_ACCOUNT
   end
   if not allowed[acct] then
      slurm.log_user("Budget '%%s' is not valid", acct)
      return slurm.ESLURM_INVALID_ACCOUNT
   end
   return slurm.SUCCESS
end
function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
   return slurm.SUCCESS
end
return slurm.SUCCESS
"""


class SlurmError(RuntimeError):
    pass


def _node_hardware() -> str:
    """``slurmd -C``'s first line without ``NodeName=`` (CPUs=... RealMemory=...)."""
    out = subprocess.run(["/usr/sbin/slurmd", "-C"], capture_output=True, text=True, check=True, timeout=30).stdout
    first = out.splitlines()[0].split()
    return " ".join(w for w in first if not w.startswith("NodeName="))


class Slurm:
    """A running single-node cluster under ``directory`` (munge/ and slurm/ inside).

    ``partitions``: the PartitionName lines (default: JUWELS Booster-like);
    ``accounts``: budgets the job_submit.lua accepts; ``gpus``: fake GPUs on the node;
    ``extra_config``: more slurm.conf lines; ``accounting``: slurmdbd + MariaDB (``sacct`` works).
    """

    def __init__(
        self,
        directory: Path,
        *,
        partitions: Sequence[Partition] = JUWELS_BOOSTER,
        accounts: Iterable[str] = DEFAULT_ACCOUNTS,
        gpus: int = 4,
        extra_config: Sequence[str] = (),
        node: str = NODE,
        accounting: bool = False,
    ) -> None:
        self.dir = Path(directory)
        self.partitions = tuple(partitions)
        self.accounts = tuple(accounts)
        self.gpus = gpus
        self.extra_config = tuple(extra_config)
        self.node = node
        self.munge_dir = self.dir / "munge"
        self.munge_socket = self.munge_dir / "run" / "munge.socket"
        self.slurm_dir = self.dir / "slurm"
        self.etc = self.slurm_dir / "etc"
        self.log_dir = self.slurm_dir / "log"
        self.conf_path = self.etc / "slurm.conf"
        self.ctld_port = 0
        self.slurmd_port = 0
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self.startup_seconds = 0.0
        self.accounting = (
            Accounting(self.slurm_dir / "dbd", munge_socket=self.munge_socket, etc=self.etc) if accounting else None
        )

    # ------------------------------------------------------------------ files

    def _write_files(self) -> None:
        d, s = self.dir, self.slurm_dir
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)
        for sub, mode in (("", 0o755), ("run", 0o755), ("etc", 0o700), ("lib", 0o700), ("log", 0o700)):
            p = self.munge_dir / sub
            p.mkdir(exist_ok=True)
            p.chmod(mode)
        key = self.munge_dir / "etc" / "munge.key"
        if not key.exists():
            subprocess.run([exe("mungekey"), "--create", f"--keyfile={key}"], check=True, capture_output=True, timeout=30)
        for sub in ("etc", "state", f"spool/{self.node}", "run", "log", "dev"):
            (s / sub).mkdir(parents=True, exist_ok=True)
        for p in (s, s / "etc", s / "dev"):
            p.chmod(0o755)
        for i in range(self.gpus):
            dev = s / "dev" / f"nvidia{i}"
            if not dev.exists():
                os.mknod(dev, 0o666 | 0o020000, os.makedev(1, 3))  # S_IFCHR, like /dev/null
                dev.chmod(0o666)
        self.ctld_port = free_port()
        self.first_job_id = secrets.randbelow(9_000_000) + 1000
        self.slurmd_port = free_port()
        while self.slurmd_port == self.ctld_port:
            self.slurmd_port = free_port()
        gres = f" Gres=gpu:{self.gpus}" if self.gpus else ""
        acct: list[str] = []
        if self.accounting is not None:
            self.accounting.allocate_ports()
            acct = self.accounting.slurm_conf_lines()
        # these win over the defaults (a key given twice); more NodeName/PartitionName lines add to them
        replaced = {line.split("=", 1)[0] for line in (*acct, *self.extra_config)} - {"NodeName", "PartitionName"}
        lines = [
            "ClusterName=testbed",
            "SlurmctldHost=localhost(127.0.0.1)",
            f"SlurmctldPort={self.ctld_port}",
            f"SlurmdPort={self.slurmd_port}",
            # job ids of their own: test clusters side by side (or one after another while a job of an earlier
            # one still winds down) must not all count from 1, since a job's MASTER_PORT follows from its id
            f"FirstJobId={self.first_job_id}",
            "CommunicationParameters=NoInAddrAny,NoCtldInAddrAny",  # every daemon binds 127.0.0.1, not the any address
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={s}/state",
            f"SlurmdSpoolDir={s}/spool/%n",
            f"SlurmctldPidFile={s}/run/slurmctld.pid",
            f"SlurmdPidFile={s}/run/slurmd-%n.pid",
            f"SlurmctldLogFile={s}/log/slurmctld.log",
            f"SlurmdLogFile={s}/log/slurmd-%n.log",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/backfill",
            "SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/filetxt",
            f"JobCompLoc={s}/log/jobcomp.txt",
            "EnforcePartLimits=ALL",
            "JobSubmitPlugins=lua",
            "MpiDefault=none",
            "MailProg=/bin/true",
            "ReturnToService=2",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=30",
            "InactiveLimit=0",
            "MinJobAge=300",
            "KillWait=5",
            "GresTypes=gpu",
            *acct,
            *self.extra_config,
            f"NodeName={self.node} NodeAddr=127.0.0.1 NodeHostname=localhost {_node_hardware()}{gres} State=UNKNOWN",
            *(p.line(self.node) for p in self.partitions),
        ]
        ours = {*acct, *self.extra_config}
        lines = [line for line in lines if line.split("=", 1)[0] not in replaced or line in ours]
        self.conf_path.write_text("\n".join(lines) + "\n")
        self.conf_path.chmod(0o644)
        gres_conf = self.etc / "gres.conf"
        if self.gpus:
            files = f"{s}/dev/nvidia[0-{self.gpus - 1}]" if self.gpus > 1 else f"{s}/dev/nvidia0"
            gres_conf.write_text(f"NodeName={self.node} Name=gpu File={files}\n")
        else:
            gres_conf.write_text("")
        gres_conf.chmod(0o644)
        allowed = ", ".join(f'["{a}"] = true' for a in self.accounts)
        lua = self.etc / "job_submit.lua"
        lua.write_text(JOB_SUBMIT_LUA % {"allowed": allowed})
        lua.chmod(0o644)

    # ------------------------------------------------------------------ helpers

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: os.environ) plus ``SLURM_CONF`` for this cluster."""
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf_path)
        return env

    def run(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        check: bool = False,
        timeout: float = 60.0,
        input: str | None = None,
        cwd: Path | str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a Slurm client command (as root) against this cluster; text output captured."""
        return subprocess.run(
            [os.fspath(a) for a in argv],
            env=self.env(),
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            cwd=os.fspath(cwd) if cwd is not None else None,
        )

    def job_state(self, job_id: int | str) -> str | None:
        """``squeue -h -t all -j ID -o %T`` (e.g. PENDING, RUNNING, COMPLETED); None if unknown."""
        r = self.run(["squeue", "-h", "-t", "all", "-j", str(job_id), "-o", "%T"])
        out = r.stdout.strip()
        return out.splitlines()[0].strip() if r.returncode == 0 and out else None

    def wait_job_state(
        self,
        job_id: int | str,
        states: Iterable[str] | str = FINISHED_STATES,
        timeout: float = 30.0,
        interval: float = 0.1,
    ) -> str:
        """Poll until the job is in one of ``states``; return that state (AssertionError on timeout)."""
        wanted = {states} if isinstance(states, str) else set(states)
        deadline = time.monotonic() + timeout
        last: str | None = None
        while True:
            last = self.job_state(job_id)
            if last in wanted:
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} is {last}, not in {sorted(wanted)} after {timeout}s")
            time.sleep(interval)

    def sbatch(self, *args: str, account: str | None = "myproject") -> int:
        """``sbatch --parsable [-A account] ARGS`` as root; returns the job id (SlurmError on failure)."""
        argv = ["sbatch", "--parsable"]
        if account is not None:
            argv.append(f"--account={account}")
        r = self.run([*argv, *args])
        if r.returncode != 0:
            raise SlurmError(f"sbatch failed ({r.returncode}): {r.stderr.strip()}")
        return int(r.stdout.strip().split(";")[0])

    def node_state(self) -> str:
        """The node's state as sinfo prints it (``idle``, ``mixed``, ``allocated``, ``drained``...)."""
        states = sorted(set(self.run(["sinfo", "-h", "-N", "-o", "%T"]).stdout.split()))
        return ",".join(states)

    def cancel_all(self, timeout: float = 15.0) -> None:
        """scancel every job and wait until none is pending/running any more."""
        r = self.run(["squeue", "-h", "-o", "%i"])
        ids = r.stdout.split()
        if not ids:
            return
        self.run(["scancel", *ids])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.run(["squeue", "-h", "-o", "%i"]).stdout.split():
                return
            time.sleep(0.1)

    def log_text(self, which: str = "slurmctld") -> str:
        """``slurmctld`` or ``slurmd`` log (or munged's with ``"munged"``)."""
        path = {
            "slurmctld": self.log_dir / "slurmctld.log",
            "slurmd": self.log_dir / f"slurmd-{self.node}.log",
            "munged": self.munge_dir / "log" / "munged.log",
        }[which]
        try:
            return path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # ------------------------------------------------------------------ life cycle

    def _spawn(self, name: str, argv: list[str], out: Path) -> subprocess.Popen[bytes]:
        with open(out, "ab") as f:
            p = popen_daemon(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=f,
                stderr=subprocess.STDOUT,
                env=self.env(),
            )
        self._procs[name] = p
        return p

    def _wait(self, what: str, cond: object, timeout: float) -> None:
        assert callable(cond)
        deadline = time.monotonic() + timeout
        while not cond():
            for name, p in self._procs.items():
                if p.poll() is not None:
                    raise SlurmError(f"{name} exited with {p.returncode} while waiting for {what}:\n{self._diag()}")
            if time.monotonic() > deadline:
                raise SlurmError(f"timed out after {timeout}s waiting for {what}:\n{self._diag()}")
            time.sleep(0.02)

    def _diag(self) -> str:
        parts = []
        for f in sorted(self.log_dir.glob("*")) + sorted((self.munge_dir / "log").glob("*")):
            try:
                parts.append(f"--- {f}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-20:]))
            except OSError:
                pass
        return "\n".join(parts)

    def start(self, timeout: float = 30.0) -> Slurm:
        """Bring the cluster up (new random ports); retried when a daemon dies at start-up."""
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except (SlurmError, AccountingError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> Slurm:
        t0 = time.monotonic()
        self._write_files()
        m = self.munge_dir
        try:
            self._spawn(
                "munged",
                [
                    "/usr/sbin/munged",
                    "-F",
                    f"--socket={self.munge_socket}",
                    f"--key-file={m / 'etc' / 'munge.key'}",
                    f"--pid-file={m / 'run' / 'munged.pid'}",
                    f"--log-file={m / 'log' / 'munged.log'}",
                    f"--seed-file={m / 'lib' / 'munged.seed'}",
                ],
                m / "munged.out",
            )
            self._wait("the munge socket", self.munge_socket.exists, timeout)
            if self.accounting is not None:
                self.accounting.start(self.conf_path, self.accounts)
            self._spawn(
                "slurmctld",
                ["/usr/sbin/slurmctld", "-D", "-c", "-f", str(self.conf_path)],
                self.log_dir / "slurmctld.out",
            )
            self._wait("slurmctld (scontrol ping)", lambda: "UP" in self.run(["scontrol", "ping"]).stdout, timeout)
            self._spawn(
                "slurmd",
                ["/usr/sbin/slurmd", "-D", "-N", self.node, "-f", str(self.conf_path)],
                self.log_dir / "slurmd.out",
            )
            self._wait("the node to be idle", lambda: self.node_state() == "idle", timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _stray_pids(self) -> list[int]:
        """Processes (slurmstepd, job steps) whose environment names this cluster's SLURM_CONF."""
        marker = f"SLURM_CONF={self.conf_path}".encode()
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) == os.getpid():
                continue
            try:
                env = Path(f"/proc/{p}/environ").read_bytes()
            except OSError:
                continue
            if marker in env.split(b"\0") and alive(int(p)):
                out.append(int(p))
        return out

    def stop(self) -> None:
        """Cancel jobs, then stop slurmd, slurmctld, munged (in that order) and any stray step."""
        if "slurmctld" in self._procs and self._procs["slurmctld"].poll() is None and "slurmd" in self._procs:
            try:
                self.cancel_all(timeout=10)
            except Exception:  # noqa: BLE001 - best effort before killing
                pass
        for name in ("slurmd", "slurmctld", "munged"):
            if name == "munged" and self.accounting is not None:
                self.accounting.stop()
            p = self._procs.pop(name, None)
            if p is not None:
                stop_process(p)
        kill_pids(self._stray_pids())

    @property
    def running(self) -> bool:
        dbd = self.accounting is None or self.accounting.running
        return dbd and bool(self._procs) and all(p.poll() is None for p in self._procs.values())

    def __enter__(self) -> Slurm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
