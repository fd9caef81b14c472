"""``sshsetup code`` end to end: loopback sshd as the login node, the single-node Slurm, a real agent.

sshsetup runs as the throwaway user. A ``code`` launcher on its PATH stands in for the VS
Code binary (not for sshsetup): it records its argv, then connects twice ("two windows")
exactly as Remote-SSH does with a RemoteCommand entry: ``ssh -T <entry>`` fed a script that
prints ``$SLURM_JOB_ID``/``$SLURM_STEP_ID``, starts ``python3 -m http.server`` on port 0 and
prints ``listeningOn=PORT``. Authentications are counted in sshd's log (LogLevel VERBOSE).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.test_login import pkg  # noqa: F401 - a fixture
from tests.test_e2e import PASSPHRASE, py  # noqa: F401 - py is a fixture
from tests.testbed.agent import SshAgent
from tests.testbed.slurm import Slurm
from tests.testbed.sshd import Sshd, free_port
from tests.testbed.users import DEFAULT_PATH, TestUser, descendants, exe, kill_pids, run_as

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]
ACCEPTED = re.compile(r"Accepted publickey for ")
ENTRY = "jsc-testbed-code-develbooster-g1"
NAME = "sshsetup-code-testbed-develbooster-g1"
RESOURCES = ("--site", "testbed", "--account", "myproject", "--partition", "develbooster", "--gpus", "1", "--time", "00:05:00")

LAUNCHER = """\
#!/bin/sh
# stand-in for the VS Code binary: record argv, then connect twice as Remote-SSH does
printf '%s\\n' "$@" > "$HOME/code-argv.txt"
entry=${2#ssh-remote+}
for n in 1 2; do
  ssh -T "$entry" < "$HOME/standin.sh" > "$HOME/window-$n.out" 2> "$HOME/window-$n.err" &
  echo $! >> "$HOME/windows.pid"
done
"""

STANDIN = """\
echo "job=$SLURM_JOB_ID step=$SLURM_STEP_ID"
d=$(mktemp -d)
cd "$d"
echo hello-from-the-node > index.html
python3 -u -m http.server --bind 127.0.0.1 0 > http.log 2>&1 &
for i in $(seq 100); do
  port=$(sed -n 's/.*port \\([0-9]*\\).*/\\1/p' http.log)
  [ -n "$port" ] && break
  sleep 0.1
done
echo "listeningOn=$port"
wait
"""


def sites_toml(sshd: Sshd) -> str:
    return (f'[sites.testbed]\nname = "Test bed"\nhostname = "127.0.0.1"\nport = {sshd.port}\nalias = "jsc-testbed"\n'
            'gpu_partitions = ["booster"]\ndevel_partitions = ["develbooster"]\ngpus_per_node = 4\n'
            'max_walltime = "24:00:00"\ndevel_max_walltime = "02:00:00"\n')


class Session:
    """The user's machine: init done, key uploaded and in the agent, a ``code`` launcher on PATH."""

    def __init__(self, user: TestUser, sshd: Sshd, slurm: Slurm, agent: SshAgent, py: Path, pkg: Path) -> None:
        self.user, self.sshd, self.slurm, self.agent, self.py = user, sshd, slurm, agent, py
        self.env = {**agent.env, "PYTHONPATH": str(pkg), "SSHSETUP_NO_CLIPBOARD": "1",
                    "PATH": f"{user.home}/bin:{DEFAULT_PATH}"}
        user.write("sites.toml", sites_toml(sshd))
        user.write("pw", PASSPHRASE + "\n")
        user.write(".ssh/known_hosts", sshd.known_hosts_text(), mode=0o644)
        user.write("bin/code", LAUNCHER, mode=0o755)
        user.write("standin.sh", STANDIN, mode=0o644)
        r = self.sshsetup("init", "--site", "testbed", "--sites-file", f"{user.home}/sites.toml", "--user", user.name,
                          "--passphrase-file", f"{user.home}/pw", "--yes", "--from", "127.0.0.1", "--no-vscode")
        assert r.returncode == 0, r.stderr
        sshd.authorize(user, r.stdout.strip())
        agent.add(user.ssh_dir / "id_ed25519_jsc", PASSPHRASE)
        self.start = sshd.log_offset()

    def sshsetup(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_as(self.user, [str(self.py), "-m", "sshsetup", *args], env={**self.env, **(env or {})}, timeout=120)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """sshsetup as the user in its own process group (SIGINT goes to it alone); stderr merged into stdout."""
        full = self.user.env({**self.env, **(env or {})})
        cmd = [exe("runuser"), "-u", self.user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in full.items()),
               str(self.py), "-u", "-m", "sshsetup", *args]
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd=self.user.home, start_new_session=True)

    def auths(self) -> int:
        return len(ACCEPTED.findall(self.sshd.log_text(self.start)))

    def squeue(self, *args: str) -> str:
        return self.slurm.run(["squeue", "-h", "-u", self.user.name, *args]).stdout

    def windows(self) -> list[int]:
        p = self.user.home / "windows.pid"
        return [int(x) for x in p.read_text().split()] if p.exists() else []


@pytest.fixture
def session(test_user: TestUser, slurm: Slurm, slurm_sshd: Sshd, ssh_agent: SshAgent, py: Path, pkg: Path) -> Iterator[Session]:
    s = Session(test_user, slurm_sshd, slurm, ssh_agent, py, pkg)
    yield s
    pids = s.windows()
    kill_pids([*pids, *(d for p in pids for d in descendants(p))])
    run_as(test_user, ["ssh", "-O", "exit", "jsc-testbed"], env=ssh_agent.env)


def read_until(proc: subprocess.Popen[bytes], pattern: str, timeout: float = 60.0) -> str:
    """Output of ``proc`` so far, once ``pattern`` matches it (AssertionError with all output on timeout or exit)."""
    assert proc.stdout is not None
    seen = _SEEN.setdefault(proc.pid, b"")
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while not rx.search(seen.decode(errors="replace")):
        left = deadline - time.monotonic()
        ready = select.select([proc.stdout], [], [], max(0.0, min(left, 0.5)))[0] if left > 0 else []
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if ready and not chunk or left <= 0:
            raise AssertionError(f"{pattern!r} not seen (exit {proc.poll()}):\n{seen.decode(errors='replace')}")
        seen += chunk
        _SEEN[proc.pid] = seen
    return seen.decode(errors="replace")


_SEEN: dict[int, bytes] = {}


def finish(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, (_SEEN.pop(proc.pid, b"") + out).decode(errors="replace")


def wait_for(path: Path, pattern: str, timeout: float = 60.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, path.read_text()) if path.exists() else None
        if m:
            return m
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not in {path}: {path.read_text() if path.exists() else '(missing)'}")


def get_through_master(s: Session, login_port: int) -> str:
    """HTTP GET through a forward on the login master to the relayed port (ssh -O forward: no authentication)."""
    from tests.testbed.sshd import free_port

    local = free_port()
    spec = f"127.0.0.1:{local}:127.0.0.1:{login_port}"
    r = run_as(s.user, ["ssh", "-O", "forward", "-L", spec, "jsc-testbed"], env=s.agent.env)
    assert r.returncode == 0, r.stderr
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/index.html", timeout=30) as resp:
            return str(resp.read().decode())
    finally:
        run_as(s.user, ["ssh", "-O", "cancel", "-L", spec, "jsc-testbed"], env=s.agent.env)


def test_code_end_to_end_with_one_authentication(session: Session) -> None:
    s = session
    proc = s.popen("code", *RESOURCES, "--idle", "0")
    try:
        shown = read_until(proc, r"Holding the session: Ctrl-C ends it and cancels job (\d+)\.", timeout=90)
        job = int(re.search(r"cancels job (\d+)\.", shown).group(1))  # type: ignore[union-attr]
        assert f"Submitted session job {job} (profile testbed-develbooster-g1, 00:05:00)." in shown
        assert f"✓ job {job} runs on tbnode01: VS Code connects with the entry {ENTRY}" in shown
        argv = wait_for(s.user.home / "code-argv.txt", r"\n").string.splitlines()
        assert argv == ["--remote", f"ssh-remote+{ENTRY}", str(s.user.home)]
        for n in (1, 2):
            out = s.user.home / f"window-{n}.out"
            step = int(wait_for(out, rf"(?m)^job={job} step=(\d+)$").group(1))
            port = int(wait_for(out, r"listeningOn=(\d+)").group(1))
            assert f"{job}.{step}" in s.squeue("--steps", "-o", "%i").split()
            assert get_through_master(s, port) == "hello-from-the-node\n"
        err = (s.user.home / "window-1.err").read_text()
        assert f"sshsetup: attaching to job {job} on tbnode01" in err
        listed = s.sshsetup("code", "--list", "--site", "testbed")
        assert listed.returncode == 0, listed.stderr
        assert re.search(rf"^{job}\s+{NAME}\s+RUNNING\s+tbnode01\s+\d+:\d\d\s+-\s+0\.\d\d", listed.stdout, re.M), listed.stdout
        doc = json.loads(s.sshsetup("code", "--list", "--site", "testbed", "--json").stdout)
        running = [r for r in doc["jobs"] if r["state"] == "RUNNING"]  # earlier tests' ended jobs may be listed too
        assert [r["job"] for r in running] == [job] and running[0]["node"] == "tbnode01"
        os.killpg(proc.pid, signal.SIGINT)
        rc, rest = finish(proc)
        assert rc == 0, rest
        assert f"Session ended: cancelled job {job} (this run submitted it); no other job was touched." in rest
        s.slurm.wait_job_state(job, timeout=30)
        stopped = s.sshsetup("code", "--stop", "--site", "testbed")
        assert (stopped.returncode, stopped.stderr) == (0, "No session job to stop.\n")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert s.auths() == 1, s.sshd.log_text(s.start)


def test_ctrl_c_while_pending_cancels_only_that_job(session: Session) -> None:
    s = session
    other = s.slurm.run(["runuser", "-u", s.user.name, "--", "env", f"SLURM_CONF={s.slurm.conf_path}", "sbatch", "--parsable",
                         "--account=myproject", "--begin=now+1hour", "--job-name=other", "--wrap=sleep 60"])
    other_id = int(other.stdout.strip().split(";")[0])
    proc = s.popen("code", *RESOURCES, "--begin", "now+1hour", "--no-open")
    try:
        shown = read_until(proc, r"job (\d+) PENDING \(BeginTime\), waiting 0:0\d", timeout=60)
        job = int(re.search(r"Submitted session job (\d+)", shown).group(1))  # type: ignore[union-attr]
        read_until(proc, r"waiting 0:(0[5-9]|1\d)", timeout=20)  # a second poll, >= 5 s later
        os.killpg(proc.pid, signal.SIGINT)
        rc, rest = finish(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert rc == 130, rest
    assert f"Interrupted: cancelled job {job} (this run submitted it); no other job was touched." in rest
    assert s.slurm.wait_job_state(job, timeout=20) == "CANCELLED"
    assert s.slurm.job_state(other_id) == "PENDING"
    assert s.auths() == 1


SLOW_SBATCH = """\
#!/bin/sh
# the login node's sbatch, slow to answer: the job exists before its id reaches sshsetup
out=$(/usr/bin/sbatch "$@") || exit $?
touch "$HOME/sbatch-submitted"
sleep 10
echo "$out"
"""


@pytest.fixture
def slow_session(test_user: TestUser, slurm: Slurm, sshd_factory, ssh_agent: SshAgent, py: Path,  # type: ignore[no-untyped-def]
                 pkg: Path) -> Iterator[Session]:
    test_user.write("slowbin/sbatch", SLOW_SBATCH, mode=0o755)
    # a user's own Slurm time format (read by ssh's remote bash): sshsetup must still compare submit times
    test_user.write(".bashrc", "export SLURM_TIME_FORMAT='%d.%m. %H:%M'\n")
    sshd = sshd_factory(setenv={"SLURM_CONF": str(slurm.conf_path), "PATH": f"{test_user.home}/slowbin:/usr/bin:/bin"})
    s = Session(test_user, sshd, slurm, ssh_agent, py, pkg)
    yield s
    run_as(test_user, ["ssh", "-O", "exit", "jsc-testbed"], env=ssh_agent.env)
    slurm.run(["scancel", "-u", test_user.name])


def test_ctrl_c_during_sbatch_finds_the_job_by_name(slow_session: Session) -> None:
    """SIGINT after sbatch made the job, before its id came back: found by name and submit time, cancelled
    (in Slurm's standard time format, whatever SLURM_TIME_FORMAT the user's shell sets)."""
    s = slow_session
    older = s.slurm.run(["runuser", "-u", s.user.name, "--", "env", f"SLURM_CONF={s.slurm.conf_path}", "sbatch", "--parsable",
                         "--account=myproject", "--begin=now+1hour", f"--job-name={NAME}", "--wrap=sleep 60"])
    assert older.returncode == 0, older.stderr
    older_id = int(older.stdout.strip())
    s.slurm.run(["scancel", str(older_id)])  # an ended job of the same name: not this run's
    s.slurm.wait_job_state(older_id, timeout=20)
    other = s.slurm.run(["runuser", "-u", s.user.name, "--", "env", f"SLURM_CONF={s.slurm.conf_path}", "sbatch", "--parsable",
                         "--account=myproject", "--begin=now+1hour", "--job-name=other", "--wrap=sleep 60"])
    other_id = int(other.stdout.strip())
    before = set(s.squeue("-t", "all", "-o", "%i").split())  # earlier tests' jobs stay listed for MinJobAge
    proc = s.popen("code", *RESOURCES, "--begin", "now+1hour", "--no-open")
    try:
        wait_for_file(s.user.home / "sbatch-submitted", timeout=60)
        os.killpg(proc.pid, signal.SIGINT)
        rc, rest = finish(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert rc == 130, rest
    jobs = dict(ln.split() for ln in s.squeue("-t", "all", "-o", "%i %T").splitlines() if ln.strip())
    new = sorted(int(j) for j in jobs if j not in before)
    assert len(new) == 1 and jobs[str(new[0])] == "CANCELLED", (jobs, rest)
    assert f"Interrupted while sbatch ran: cancelled the job(s) it submitted: {new[0]}; no other job was touched." in rest
    assert jobs[str(other_id)] == "PENDING"
    assert s.auths() == 1


def wait_for_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_idle_watchdog_cancels_and_says_why(session: Session) -> None:
    s = session
    r = s.sshsetup("code", *RESOURCES, "--persist", "--idle", "15s")
    assert r.returncode == 0, r.stderr
    job = int(re.search(r"✓ job (\d+) runs on tbnode01", r.stderr).group(1))  # type: ignore[union-attr]
    assert "the job stays (--persist): it ends after 15 s without a client or with: sshsetup code --stop " in r.stderr
    for n in (1, 2):
        wait_for(s.user.home / f"window-{n}.out", r"listeningOn=\d+")
    time.sleep(20)  # longer than --idle while both windows are connected: the job stays
    assert s.slurm.job_state(job) == "RUNNING"
    pids = s.windows()
    kill_pids([*pids, *(d for p in pids for d in descendants(p))])
    closed = time.monotonic()
    while "sshsetup: idle since " not in s.squeue("-j", str(job), "-o", "%k"):
        assert time.monotonic() < closed + 10, s.squeue("-j", str(job), "-o", "%k")
        time.sleep(0.2)
    idle = s.sshsetup("code", "--list", "--site", "testbed", "--json")
    (row,) = [r for r in json.loads(idle.stdout)["jobs"] if r["job"] == job]
    assert row["state"] == "RUNNING" and isinstance(row["idle"], int) and 0 <= row["idle"] < 15, row
    deadline = closed + 15 + 3 + 10  # --idle, one watchdog tick (3 s), Slurm's own latency
    while s.slurm.job_state(job) == "RUNNING":
        assert time.monotonic() < deadline, s.squeue("--steps")
        time.sleep(0.5)
    gone = time.monotonic() - closed
    assert s.slurm.wait_job_state(job, timeout=10) == "CANCELLED"
    assert gone >= 15 - 3, gone  # idle counts from the last tick that saw a step
    listed = s.sshsetup("code", "--list", "--site", "testbed", "--json")
    (row,) = [r for r in json.loads(listed.stdout)["jobs"] if r["job"] == job]
    assert re.fullmatch(r"sshsetup: cancelled after 15 s without a client \(\d\d:\d\d\)", row["comment"]), row
    assert s.auths() == 1


def test_walltime_warnings_and_next(session: Session) -> None:
    s = session
    leads = {"SSHSETUP_TEST_WALLTIME_LEADS": "90,45"}
    proc = s.popen("code", *RESOURCES[:-1], "00:02:00", "--idle", "0", env=leads)
    try:
        shown = read_until(proc, r"Holding the session: Ctrl-C ends it and cancels job (\d+)\.", timeout=90)
        job = int(re.search(r"cancels job (\d+)\.", shown).group(1))  # type: ignore[union-attr]
        nxt = s.sshsetup("code", *RESOURCES[:-1], "00:02:00", "--next", env=leads)
        assert nxt.returncode == 0, nxt.stderr
        succ = int(re.search(r"✓ queued job (\d+) after job (\d+)", nxt.stderr).group(1))  # type: ignore[union-attr]
        assert f"after job {job} (--dependency=afterany:{job}): it starts when {job} ends" in nxt.stderr
        shown_job = s.slurm.run(["scontrol", "show", "job", str(succ)]).stdout
        assert f"Dependency=afterany:{job}" in shown_job and f"JobName={NAME}" in shown_job
        shown = read_until(proc, rf"warning: job {job} reaches its walltime in 90 s: save your work", timeout=60)
        shown = read_until(proc, rf"warning: job {job} reaches its walltime in 45 s: save your work", timeout=60)
        assert s.slurm.job_state(job) == "RUNNING"
        helper = (s.user.home / "window-1.err").read_text()
        assert f"sshsetup: warning: job {job} reaches its walltime in 90 s: save your work" in helper
        assert f"sshsetup: warning: job {job} reaches its walltime in 45 s: save your work" in helper
        os.killpg(proc.pid, signal.SIGINT)
        rc, rest = finish(proc)
        assert rc == 0 and f"cancelled job {job}" in rest, rest
        stop = s.sshsetup("code", "--stop", str(succ), "--site", "testbed")
        assert stop.returncode == 0 and stop.stderr.startswith(f"✓ cancelled job {succ} ({NAME}, "), stop.stderr
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert s.auths() == 1


# ------------------------------------------------------------------ the proxyjump transport, pspam emulated

PSPAM = """\
#!/bin/sh
# pspam emulation: the user's key only while the user has a running job
if SLURM_CONF={conf} /usr/bin/squeue -h -u "$1" -t R -o %i | grep -q .; then cat {keys}/"$1"; fi
"""


@contextlib.contextmanager
def pspam_sshd(sshd_factory, slurm: Slurm) -> Iterator[Sshd]:  # type: ignore[no-untyped-def]
    """A second loopback sshd as the compute node: AuthorizedKeysCommand admits only users with a running
    job on ``slurm``.

    The command must sit on a root-owned path no one else may write (sshd checks every component), so not /tmp.
    """
    import secrets
    import shutil

    d = Path(f"/run/sshsetup-pspam-{secrets.token_hex(4)}")
    d.mkdir(mode=0o755)
    node = sshd_factory(start=False)
    script = d / "keys"
    script.write_text(PSPAM.format(conf=slurm.conf_path, keys=node.auth_dir))
    script.chmod(0o755)
    node.extra_config = [f"AuthorizedKeysCommand {script} %u", "AuthorizedKeysCommandUser root", "AuthorizedKeysFile none"]
    node.start()
    try:
        yield node
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def pspam_node(sshd_factory, slurm: Slurm, test_user: TestUser) -> Iterator[Sshd]:  # type: ignore[no-untyped-def]
    """The pspam node on the test bed's cluster."""
    with pspam_sshd(sshd_factory, slurm) as node:
        yield node


def test_proxyjump_transport_with_pspam(session: Session, pspam_node: Sshd) -> None:
    s, node = session, pspam_node
    sites = s.user.home / "sites.toml"
    sites.write_text(sites.read_text() + 'compute_node_pattern = "tbnode*i.testbed"\n')  # like jwb*i.juwels
    r = s.sshsetup("init", "--compute-nodes", "--yes", "--from", "127.0.0.1", "--no-vscode")
    assert r.returncode == 0, r.stderr
    node.authorize(s.user, (s.user.ssh_dir / "id_ed25519_jsc.pub").read_text().strip())
    cfg = s.user.ssh_dir / "config"
    # what the site's DNS does at JSC: the node name Slurm reports reaches the node sshd (here on loopback)
    cfg.write_text(cfg.read_text() + f"Host tbnode01i.testbed\n    HostName 127.0.0.1\n    Port {node.port}\n")
    s.user.write(".ssh/known_hosts", (s.user.ssh_dir / "known_hosts").read_text() + node.known_hosts_text(), mode=0o644)
    no_mux = ["-o", "ControlPath=none", "-o", "BatchMode=yes"]
    refused = run_as(s.user, ["ssh", *no_mux, "tbnode01i.testbed", "true"], env=s.agent.env)
    assert refused.returncode == 255 and "Permission denied (publickey)" in refused.stderr, refused.stderr
    node_start = node.log_offset()

    r = s.sshsetup("code", *RESOURCES, "--transport", "proxyjump", "--persist", "--idle", "0")
    assert r.returncode == 0, r.stderr
    job = int(re.search(r"✓ job (\d+) runs on tbnode01", r.stderr).group(1))  # type: ignore[union-attr]
    block = cfg.read_text()
    assert f"Host {ENTRY}\n    HostName 127.0.0.1\n    Port {node.port}\n    User {s.user.name}\n    ProxyJump jsc-testbed\n" in block
    for n in (1, 2):
        out = s.user.home / f"window-{n}.out"
        port = int(wait_for(out, r"listeningOn=(\d+)").group(1))
        spec = f"127.0.0.1:{free_port()}:127.0.0.1:{port}"
        fwd = run_as(s.user, ["ssh", "-O", "forward", "-L", spec, ENTRY], env=s.agent.env)
        assert fwd.returncode == 0, fwd.stderr
        with urllib.request.urlopen(f"http://{spec.rsplit(':', 2)[0]}/index.html", timeout=30) as resp:
            assert resp.read() == b"hello-from-the-node\n"
    assert len(ACCEPTED.findall(node.log_text(node_start))) == 1  # two windows, one node master

    assert s.sshsetup("code", "--stop", "--site", "testbed").returncode == 0
    s.slurm.wait_job_state(job, timeout=30)
    pids = s.windows()
    kill_pids([*pids, *(d for p in pids for d in descendants(p))])
    run_as(s.user, ["ssh", "-O", "exit", ENTRY], env=s.agent.env)
    again = run_as(s.user, ["ssh", *no_mux, "tbnode01i.testbed", "true"], env=s.agent.env)
    assert again.returncode == 255 and "Permission denied (publickey)" in again.stderr
    assert s.auths() == 1  # the login sshd: the one master, also for both ProxyJump hops
