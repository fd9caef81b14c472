"""``jobscript --submit --follow`` for real: a login over the test bed's sshd, the real Slurm behind it.

The user's software comes the way it does at JSC (a line in ``~/.bashrc``; here ``python`` is put
on PATH). Everything after ``sshsetup login`` goes over that one master: sshd's log shows no
other authentication.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.test_login import Session, pkg  # noqa: F401 - pkg is a fixture
from tests.test_e2e import py  # noqa: F401 - py is a fixture
from tests.testbed.agent import SshAgent
from tests.testbed.slurm import Slurm
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser

JOB = ("jobscript", "--site", "testbed", "--account", "myproject", "--partition", "develbooster", "--gpus-per-node", "1",
       "--cpus-per-task", "1", "--time", "00:05:00")
TICKS = """\
import os, sys, time
for i in range(3):
    print("tick", i, flush=True)
    time.sleep(0.5)
sys.exit(int(open("exit-code").read()) if os.path.exists("exit-code") else 0)
"""
ACCEPTED = re.compile(r"Accepted publickey for ")


@pytest.fixture
def session(test_user: TestUser, slurm: Slurm, slurm_sshd: Sshd, ssh_agent: SshAgent, py: Path,  # noqa: F811
            pkg: Path) -> Iterator[Session]:  # noqa: F811
    s = Session(test_user, slurm_sshd, ssh_agent, py, pkg)
    test_user.write(".bashrc", 'export PATH="$HOME/bin:$PATH"\n', mode=0o644)
    test_user.home.joinpath("bin").mkdir(exist_ok=True)
    test_user.home.joinpath("bin", "python").symlink_to("/usr/bin/python3")
    test_user.write("train.py", TICKS, mode=0o644)
    yield s
    s.sshsetup("logout")


def test_without_a_login_nothing_is_sent(session: Session) -> None:
    start = session.sshd.log_offset()
    r = session.sshsetup(*JOB, "--submit", "--follow")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.startswith("error: --submit needs the login of testbed first: run sshsetup login --site testbed\n"), r.stderr
    assert not ACCEPTED.search(session.sshd.log_text(start))


def test_submit_follow_shows_the_queue_the_output_and_the_exit_state(session: Session, slurm: Slurm) -> None:
    assert session.sshsetup("login").returncode == 0
    after_login = session.sshd.log_offset()
    t0 = time.monotonic()
    r = session.sshsetup(*JOB, "--submit", "--follow")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert r.stdout == "tick 0\ntick 1\ntick 2\n", r.stderr
    lines = r.stderr.splitlines()
    m = re.fullmatch(r"Submitted job (\d+) on jsc-testbed; following it \(Ctrl\+C stops following, not the job\)", lines[1])
    assert lines[0] == "note: limits from the cluster (scontrol show partition, just now) on jsc-testbed" and m, r.stderr
    jid = m.group(1)
    out = f"{session.user.home}/python-job-{jid}.out"
    assert f"job {jid}: running on tbnode01, output {out}" in lines
    done = re.fullmatch(rf"job {jid}: COMPLETED, exit code 0:0, (\d+)s in the queue, (\d+)s running; output: {re.escape(out)}",
                        lines[-1])
    assert done, r.stderr
    assert slurm.job_state(jid) == "COMPLETED"
    assert not ACCEPTED.search(session.sshd.log_text(after_login))  # one connection: the login's
    print(f"time to first job: {took:.1f}s (queue {done.group(1)}s, running {done.group(2)}s)")


def test_a_failing_job_reports_its_exit_state(session: Session, slurm: Slurm) -> None:
    assert session.sshsetup("login").returncode == 0
    session.user.write("exit-code", "3\n", mode=0o644)
    r = session.sshsetup(*JOB, "--submit", "--follow")
    assert r.returncode == 1 and r.stdout.startswith("tick 0\n"), r.stderr
    last = r.stderr.splitlines()[-1]
    assert re.fullmatch(r"job (\d+): FAILED, exit code 3:0, \d+s in the queue, \d+s running; output: /\S+\.out", last), r.stderr


def test_submit_without_follow_says_where_the_output_goes(session: Session, slurm: Slurm) -> None:
    assert session.sshsetup("login").returncode == 0
    r = session.sshsetup(*JOB, "--submit")
    assert r.returncode == 0 and r.stdout == "", r.stderr
    m = re.search(rf"^Submitted job (\d+) on jsc-testbed; its output: {session.user.home}/python-job-(\d+)\.out$", r.stderr, re.M)
    assert m and m.group(1) == m.group(2), r.stderr
    assert slurm.wait_job_state(m.group(1)) == "COMPLETED"


CHAIN_TOY = """\
import json, os, signal, time
ckpt, resume = os.environ["SSHSETUP_CKPT_DIR"], os.environ["SSHSETUP_RESUME_FROM"]
stop = []
signal.signal(signal.SIGUSR1, lambda *_: stop.append(1))
step = json.load(open(resume))["step"] if resume else 0
steps = int(open(os.path.join(ckpt, "..", "steps")).read())

def save():
    with open(os.path.join(ckpt, "c.tmp"), "w") as f:
        json.dump({"step": step}, f)
    os.replace(os.path.join(ckpt, "c.tmp"), os.path.join(ckpt, f"step-{step:06d}.json"))

last = time.monotonic()
while not stop and step < steps:
    time.sleep(0.1)
    step += 1
    if time.monotonic() - last > float(os.environ["SSHSETUP_CKPT_EVERY"]):
        save()
        last = time.monotonic()
save()
if step >= steps:
    open(os.path.join(ckpt, "DONE"), "w").close()
"""
CHAIN = ("--time", "00:02:00", "--chain", "3", "--checkpoint-every", "5s", "--signal-lead", "1m")


def _submit_chain(session: Session, name: str, steps: int) -> str:
    session.user.write(f"{name}/steps", f"{steps}\n", mode=0o644)
    r = session.sshsetup(*JOB, *CHAIN, "--checkpoint-dir", f"$HOME/{name}/ckpt", "--submit")
    assert r.returncode == 0, r.stderr
    m = re.search(r"^Submitted job (\d+) on jsc-testbed; its output: (\S+); watch it: sshsetup jobs --site testbed (\d+)$",
                  r.stderr, re.M)
    assert m and m.group(1) == m.group(3) and m.group(2) == f"{session.user.home}/python-job-{m.group(1)}.out", r.stderr
    return m.group(1)


def _wait(slurm: Slurm, job: str, states: set[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while slurm.job_state(job) not in states:
        assert time.monotonic() < deadline, f"{job}: {slurm.job_state(job)}"
        time.sleep(0.3)


def test_jobs_shows_a_chain_and_stops_another(session: Session, slurm: Slurm) -> None:
    session.user.write("train.py", CHAIN_TOY, mode=0o644)
    assert session.sshsetup("login").returncode == 0
    after_login = session.sshd.log_offset()
    short = _submit_chain(session, "short", 10)  # done in its first link
    _wait(slurm, f"{short}_0", {"COMPLETED"})
    r = session.sshsetup("jobs", "--site", "testbed", short)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"chain {short} on jsc-testbed (array of 3 links, 2m each): finished (DONE)", r.stdout
    assert re.fullmatch(rf"  link 0: job {short}_0 COMPLETED \(done, ran \S+\)", lines[1]), r.stdout
    assert [ln.split()[3:5] for ln in lines[2:4]] == [[f"{short}_1", "CANCELLED"], [f"{short}_2", "CANCELLED"]], r.stdout
    assert re.fullmatch(r"  last checkpoint: \S+ ago; finished \d{4}-\d\d-\d\d \d\d:\d\d", lines[4]), r.stdout

    long = _submit_chain(session, "long", 100000)
    _wait(slurm, f"{long}_0", {"RUNNING"})
    time.sleep(2)  # the link has logged its job id and started the training
    r = session.sshsetup("jobs", "--stop", long)
    assert r.returncode == 0, r.stderr
    assert re.search(rf"^chain {long}: cancelled the links still queued; link job \d+ got SIGUSR1: it checkpoints and exits$",
                     r.stderr, re.M), r.stderr
    _wait(slurm, f"{long}_0", {"FAILED"})  # exit 75: stopped for a next link that will not come
    r = session.sshsetup("jobs", "--site", "testbed", long)
    lines = r.stdout.splitlines()
    assert lines[0] == f"chain {long} on jsc-testbed (array of 3 links, 2m each): waiting", r.stdout
    assert re.fullmatch(rf"  link 0: job {long}_0 FAILED \(stopped, ran \S+, lost \d+s since its last checkpoint\)", lines[1]), r.stdout
    assert [ln.split()[4] for ln in lines[2:4]] == ["CANCELLED", "CANCELLED"], r.stdout
    assert not ACCEPTED.search(session.sshd.log_text(after_login))  # all of it over the login's one connection
