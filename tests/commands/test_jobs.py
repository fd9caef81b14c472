"""``sshsetup jobs`` over a real login: the links' states come from ``sacct`` when the cluster keeps
accounting, and from ``squeue`` alone when it does not.

With accounting (``slurm_accounting``: slurmdbd + MariaDB, ``MinJobAge=10``) a 3-link chain is
submitted with ``jobscript --submit --chain 3``: link 0 trains until Slurm's SIGUSR1, link 1
finishes (DONE) and cancels link 2. ``jobs`` is asked only after squeue has forgotten every
link, so each state it prints was read from ``sacct``. Without accounting (``slurm``: sacct
says "Slurm accounting storage is disabled") a chain done in its first link is still reported.
About 2.5 minutes (link 0 runs until the signal, 60-90 s; squeue forgets within 70 s).
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
from tests.testbed.fixtures import SshdFactory
from tests.testbed.slurm import Slurm
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser

JOB = ("jobscript", "--site", "testbed", "--account", "myproject", "--partition", "develbooster", "--gpus-per-node", "1",
       "--cpus-per-task", "1", "--time", "00:02:00", "--chain", "3", "--checkpoint-every", "5s", "--signal-lead", "1m")
TOY = """\
import json, os, signal, time
ckpt, resume = os.environ["SSHSETUP_CKPT_DIR"], os.environ["SSHSETUP_RESUME_FROM"]
link, every = int(os.environ["SSHSETUP_LINK"]), float(os.environ["SSHSETUP_CKPT_EVERY"])
finish = int(open(os.path.join(ckpt, "..", "finish-in-link")).read())
stop = []
signal.signal(signal.SIGUSR1, lambda *_: stop.append(1))
step = json.load(open(resume))["step"] if resume else 0
first = step

def save():
    with open(os.path.join(ckpt, "c.tmp"), "w") as f:
        json.dump({"step": step}, f)
    os.replace(os.path.join(ckpt, "c.tmp"), os.path.join(ckpt, f"step-{step:06d}.json"))

last = time.monotonic()
while not stop:
    time.sleep(0.1)
    step += 1
    if link == finish and step - first >= 5:
        break
    if time.monotonic() - last >= every:
        save()
        last = time.monotonic()
save()
if not stop:
    open(os.path.join(ckpt, "DONE"), "w").close()
"""
SUBMITTED = re.compile(r"^Submitted job (\d+) on jsc-testbed; its output: (\S+); watch it: sshsetup jobs --site testbed (\d+)$",
                       re.M)
FINISHED = re.compile(r"  last checkpoint: \S+ ago; finished \d{4}-\d\d-\d\d \d\d:\d\d")


def _session(user: TestUser, sshd: Sshd, agent: SshAgent, py: Path, pkg: Path) -> Session:  # noqa: F811
    s = Session(user, sshd, agent, py, pkg)
    user.write(".bashrc", 'export PATH="$HOME/bin:$PATH"\n', mode=0o644)
    user.home.joinpath("bin").mkdir(exist_ok=True)
    user.home.joinpath("bin", "python").symlink_to("/usr/bin/python3")
    user.write("train.py", TOY, mode=0o644)
    return s


def _cancel(slurm: Slurm, user: TestUser) -> None:
    slurm.run(["scancel", "-u", user.name])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and slurm.run(["squeue", "-h", "-u", user.name, "-o", "%i"]).stdout.strip():
        time.sleep(0.1)


@pytest.fixture
def acct_session(test_user: TestUser, slurm_accounting: Slurm, sshd_factory: SshdFactory, ssh_agent: SshAgent,
                 py: Path, pkg: Path) -> Iterator[Session]:  # noqa: F811
    assert slurm_accounting.accounting is not None
    slurm_accounting.accounting.add_user(slurm_accounting.conf_path, test_user.name, "myproject")  # as at JSC: a budget
    sshd = sshd_factory(setenv={"SLURM_CONF": str(slurm_accounting.conf_path)})
    s = _session(test_user, sshd, ssh_agent, py, pkg)
    yield s
    s.sshsetup("logout")
    _cancel(slurm_accounting, test_user)


@pytest.fixture
def plain_session(test_user: TestUser, slurm: Slurm, slurm_sshd: Sshd, ssh_agent: SshAgent, py: Path,  # noqa: F811
                  pkg: Path) -> Iterator[Session]:  # noqa: F811
    s = _session(test_user, slurm_sshd, ssh_agent, py, pkg)
    yield s
    s.sshsetup("logout")


def _submit(session: Session, name: str, finish_in_link: int) -> str:
    session.user.write(f"{name}/finish-in-link", f"{finish_in_link}\n", mode=0o644)
    r = session.sshsetup(*JOB, "--checkpoint-dir", f"$HOME/{name}/ckpt", "--submit")
    assert r.returncode == 0, r.stderr
    m = SUBMITTED.search(r.stderr)
    assert m and m.group(1) == m.group(3) and m.group(2) == f"{session.user.home}/python-job-{m.group(1)}.out", r.stderr
    return m.group(1)


def sacct(slurm: Slurm, job: str) -> list[tuple[str, ...]]:
    r = slurm.run(["sacct", "-n", "-P", "-X", "-j", job, "-o", "JobID,State,ExitCode"])
    assert r.returncode == 0, r.stderr
    return [tuple(line.split("|")) for line in r.stdout.splitlines() if line]


def _until(what: str, cond: object, timeout: float) -> None:
    assert callable(cond)
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_jobs_reads_the_states_from_sacct_after_squeue_forgot(acct_session: Session, slurm_accounting: Slurm) -> None:
    slurm = slurm_accounting
    assert acct_session.sshsetup("login").returncode == 0
    chain = _submit(acct_session, "acct", finish_in_link=1)
    _until("the chain to end", lambda: [row[1] for row in sacct(slurm, chain)][1:2] == ["COMPLETED"]
           and all(row[1] not in ("PENDING", "RUNNING") for row in sacct(slurm, chain)), 200)
    uid = acct_session.user.uid
    # what Slurm's accounting recorded: the signalled link exited 75, the next one finished, the third never ran;
    # the pending tasks' record keeps the range it had when link 1 cancelled it (task 1 has its own record)
    assert sacct(slurm, chain) == [(f"{chain}_0", "FAILED", "75:0"), (f"{chain}_1", "COMPLETED", "0:0"),
                                   (f"{chain}_[1-2%1]", f"CANCELLED by {uid}", "0:0")]
    _until("squeue to forget the links", lambda: not slurm.run(["squeue", "-h", "-t", "all", "-r", "-j", chain]).stdout.strip(),
           90)
    r = acct_session.sshsetup("jobs", "--site", "testbed", chain)
    assert r.returncode == 0, r.stderr
    print(r.stdout)  # the text docs/training.md shows
    lines = r.stdout.splitlines()
    assert len(lines) == 5, r.stdout
    assert lines[0] == f"chain {chain} on jsc-testbed (array of 3 links, 2m each): finished (DONE)", r.stdout
    assert re.fullmatch(rf"  link 0: job {chain}_0 FAILED \(stopped, ran \S+, lost [0-4]s since its last checkpoint\)",
                        lines[1]), r.stdout
    assert re.fullmatch(rf"  link 1: job {chain}_1 COMPLETED \(done, ran \d+s\)", lines[2]), r.stdout
    assert lines[3] == f"  link 2: job {chain}_2 CANCELLED (not started)", r.stdout
    assert FINISHED.fullmatch(lines[4]), r.stdout


def test_jobs_without_accounting_reads_squeue(plain_session: Session, slurm: Slurm) -> None:
    assert slurm.run(["sacct", "-n", "-X"]).stderr.strip() == "Slurm accounting storage is disabled"
    assert plain_session.sshsetup("login").returncode == 0
    chain = _submit(plain_session, "plain", finish_in_link=0)
    _until("link 0 to end", lambda: slurm.job_state(f"{chain}_0") == "COMPLETED", 60)
    r = plain_session.sshsetup("jobs", "--site", "testbed", chain)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 5, r.stdout
    assert lines[0] == f"chain {chain} on jsc-testbed (array of 3 links, 2m each): finished (DONE)", r.stdout
    assert re.fullmatch(rf"  link 0: job {chain}_0 COMPLETED \(done, ran \d+s\)", lines[1]), r.stdout
    assert lines[2:4] == [f"  link 1: job {chain}_1 CANCELLED (not started)", f"  link 2: job {chain}_2 CANCELLED (not started)"]
    assert FINISHED.fullmatch(lines[4]), r.stdout


def test_a_task_record_wins_over_the_range_sacct_kept_and_squeue_over_sacct() -> None:
    from sshsetup.commands.jobs import MARK, _states

    # squeue forgot the chain; sacct as recorded above
    assert _states(f"{MARK}\n7_0|FAILED\n7_1|COMPLETED\n7_[1-2%1]|CANCELLED by 1004\n") == {
        "7_0": "FAILED", "7_1": "COMPLETED", "7_2": "CANCELLED"}
    # link 1 running: squeue's live answer first, sacct's older one after it
    assert _states(f"7_1|RUNNING\n7_[2%1]|PENDING\n{MARK}\n7_0|FAILED\n7_1|PENDING\n7_[1-2%1]|PENDING\n") == {
        "7_0": "FAILED", "7_1": "RUNNING", "7_2": "PENDING"}
