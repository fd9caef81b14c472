"""doctor's ``node.session-job``: the node of a proxyjump session entry, with the pspam emulation of the code tests.

The real test bed: the loopback sshd is the login node, a second loopback sshd the compute node,
whose AuthorizedKeysCommand admits the user only while a job of theirs runs; Slurm is real and keeps
no job accounting (``sacct`` refuses), so the end time of a job Slurm has forgotten is unknown.
On the cluster with accounting (``slurm_accounting``: slurmdbd + MariaDB, ``MinJobAge=10``) the
check is asked after squeue has forgotten the job, so the end time it prints is sacct's, read with
the standard time format although the user's shell sets its own ``SLURM_TIME_FORMAT``. About 30 s,
most of it the wait for slurmctld's once-a-minute purge.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sshsetup.support.doctor.checks_node import parse
from tests.commands.test_code import ENTRY, RESOURCES, Session, pspam_node, pspam_sshd, session  # noqa: F401 - fixtures
from tests.commands.test_login import pkg  # noqa: F401 - a fixture
from tests.test_e2e import py  # noqa: F401 - a fixture
from tests.testbed.agent import SshAgent
from tests.testbed.fixtures import SshdFactory
from tests.testbed.slurm import Slurm
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser, run_as
from tests.timing import scaled

CONNECTION = re.compile(r"Connection from ")
HINT = ("the node admits you only while a job of yours runs there: "
        "sshsetup code --site testbed --transport proxyjump")


def doctor(s: Session) -> dict[str, Any]:
    r = s.sshsetup("doctor", "node.session-job", "--json")
    doc = json.loads(r.stdout)
    (check,) = doc["data"]["checks"] if "data" in doc else doc["checks"]
    return {k: check[k] for k in ("id", "status", "summary", "hint")}


@pytest.mark.sshd
@pytest.mark.slurm
def test_running_then_ended_then_unknown_then_no_login(session: Session, pspam_node: Sshd) -> None:
    s, node = session, pspam_node
    sites = s.user.home / "sites.toml"
    sites.write_text(sites.read_text() + 'compute_node_pattern = "tbnode*i.testbed"\n')
    assert s.sshsetup("init", "--compute-nodes", "--yes", "--from", "127.0.0.1", "--no-vscode").returncode == 0
    node.authorize(s.user, (s.user.ssh_dir / "id_ed25519_jsc.pub").read_text().strip())
    cfg = s.user.ssh_dir / "config"
    cfg.write_text(cfg.read_text() + f"Host tbnode01i.testbed\n    HostName 127.0.0.1\n    Port {node.port}\n")
    s.user.write(".ssh/known_hosts", (s.user.ssh_dir / "known_hosts").read_text() + node.known_hosts_text(), mode=0o644)
    assert doctor(s) == {"id": "node.session-job", "status": "skip", "hint": None,
                         "summary": "no proxyjump session entry in the sshsetup block (sshsetup code --transport proxyjump adds one)"}

    r = s.sshsetup("code", *RESOURCES, "--transport", "proxyjump", "--persist", "--idle", "0", "--no-open")
    assert r.returncode == 0, r.stderr
    job = int(re.search(r"✓ job (\d+) runs on tbnode01", r.stderr).group(1))  # type: ignore[union-attr]
    assert f"# sshsetup code: session profile testbed-develbooster-g1 (proxyjump to node tbnode01)\nHost {ENTRY}\n" in cfg.read_text()
    assert doctor(s) == {"id": "node.session-job", "status": "ok", "hint": None,
                         "summary": f"{ENTRY}: your job {job} runs on node tbnode01"}

    assert s.sshsetup("code", "--stop", "--site", "testbed").returncode == 0
    s.slurm.wait_job_state(job, timeout=30)
    end = s.squeue("-t", "all", "-j", str(job), "-o", "%e").strip()[11:16]  # Slurm keeps it for MinJobAge
    run_as(s.user, ["ssh", "-O", "exit", ENTRY], env=s.agent.env)
    refused = run_as(s.user, ["ssh", "-o", "ControlPath=none", "-o", "BatchMode=yes", "tbnode01i.testbed", "true"], env=s.agent.env)
    assert "Permission denied (publickey)" in refused.stderr  # what the check explains
    assert doctor(s) == {"id": "node.session-job", "status": "warn", "hint": HINT,
                         "summary": f"{ENTRY}: no running job on node tbnode01; your job {job} on that node ended at {end}"}

    text = cfg.read_text()  # a node where no job of the user is known any more: Slurm forgot it, no accounting
    cfg.write_text(text.replace("(proxyjump to node tbnode01)", "(proxyjump to node tbnode09)"))
    assert doctor(s) == {"id": "node.session-job", "status": "warn", "hint": HINT,
                         "summary": f"{ENTRY}: no running job on node tbnode09; when your last job there ended is unknown"
                                    " (the cluster keeps no job accounting)"}

    assert s.sshsetup("logout").returncode == 0
    start = s.sshd.log_offset()
    assert doctor(s) == {"id": "node.session-job", "status": "warn", "hint": "sshsetup login --site testbed, then sshsetup doctor again",
                         "summary": f"{ENTRY}: node tbnode09 not asked: no open login to testbed"}
    assert not CONNECTION.findall(s.sshd.log_text(start))
    assert s.auths() == 1


OUT = "__SSHSETUP_NODE_BEGIN__\nsqueue\n{squeue}sacct\nrc={rc}\n{sacct}__SSHSETUP_NODE_END__\n"


@pytest.mark.parametrize(("squeue", "rc", "sacct", "running", "ended", "accounting"), [
    pytest.param("", 0, "41|COMPLETED|2026-12-03T09:05:00\n42|CANCELLED by 1000|2026-12-03T10:15:59\n", None,
                 ("42", "10:15"), True, id="sacct-answers"),
    pytest.param("", 0, "42|TIMEOUT|2026-12-01T23:59:00\n", None, ("42", "2026-12-01 23:59"), True, id="sacct-other-day"),
    pytest.param("", 0, "", None, None, True, id="sacct-nothing-in-7-days"),
    pytest.param("", 1, "sacct: error: Slurm accounting storage is disabled\n", None, None, False, id="no-accounting"),
    pytest.param("7|RUNNING|2026-12-03T12:00:00\n", 1, "", "7", None, False, id="running"),
    pytest.param("8|CANCELLED|2026-12-03T11:00:00\n", 1, "sacct: error: x\n", None, ("8", "11:00"), False, id="squeue-remembers"),
    pytest.param("\x1b[2J|RUNNING|x\n", 1, "", None, None, False, id="hostile-ignored"),
])
def test_parse(squeue: str, rc: int, sacct: str, running: str | None, ended: tuple[str, str] | None, accounting: bool) -> None:
    answer = parse(OUT.format(squeue=squeue, rc=rc, sacct=sacct), "2026-12-03")
    assert (answer.running, answer.ended, answer.accounting) == (running, ended, accounting)


def test_today_is_the_clusters_date() -> None:
    """A laptop already on the next day (another time zone) shows the cluster's date only when it differs."""
    out = OUT.format(squeue="", rc=0, sacct="42|TIMEOUT|2026-12-03T23:30:00\n")
    assert parse(out, "2026-12-04").ended == ("42", "2026-12-03 23:30")  # the laptop's date: nothing else known
    assert parse(out.replace("\nsqueue\n", "\ntoday=2026-12-03\nsqueue\n"), "2026-12-04").ended == ("42", "23:30")
    assert parse(out.replace("\nsqueue\n", "\ntoday=2026-12-04\nsqueue\n"), "2026-12-03").ended == ("42", "2026-12-03 23:30")
    assert parse(out.replace("\nsqueue\n", "\ntoday=\x1b[2J\nsqueue\n"), "2026-12-03").ended == ("42", "23:30")


# ------------------------------------------------------------------ with job accounting: the end time from sacct


@pytest.fixture
def acct_pspam_node(sshd_factory: SshdFactory, slurm_accounting: Slurm, test_user: TestUser) -> Iterator[Sshd]:
    """test_code's pspam node, asking the accounting cluster whether the user has a running job."""
    with pspam_sshd(sshd_factory, slurm_accounting) as node:
        yield node


@pytest.fixture
def acct_session(test_user: TestUser, slurm_accounting: Slurm, sshd_factory: SshdFactory, ssh_agent: SshAgent,
                 py: Path, pkg: Path) -> Iterator[Session]:  # noqa: F811
    """test_code's Session, its login sshd on the cluster with slurmdbd (the user has a budget there, as at JSC)."""
    assert slurm_accounting.accounting is not None
    slurm_accounting.accounting.add_user(slurm_accounting.conf_path, test_user.name, "myproject")
    sshd = sshd_factory(setenv={"SLURM_CONF": str(slurm_accounting.conf_path)})
    s = Session(test_user, sshd, slurm_accounting, ssh_agent, py, pkg)
    yield s
    run_as(test_user, ["ssh", "-O", "exit", ENTRY], env=ssh_agent.env)
    run_as(test_user, ["ssh", "-O", "exit", "jsc-testbed"], env=ssh_agent.env)
    slurm_accounting.run(["scancel", "-u", test_user.name])  # after a failure: the next test on this cluster gets a free node
    deadline = time.monotonic() + scaled(10)
    while time.monotonic() < deadline and s.squeue("-o", "%i").strip():
        time.sleep(0.2)


def until(what: str, cond: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + scaled(timeout)
    while not cond():
        assert time.monotonic() < deadline, f"{what}: not within {scaled(timeout):.0f} s"
        time.sleep(0.5)


def sacct_end(slurm: Slurm, job: int) -> str:
    """The job's End as sacct recorded it (YYYY-MM-DDTHH:MM:SS), "" while it has none."""
    r = slurm.run(["sacct", "-X", "-n", "-P", "-j", str(job), "-o", "State,End"])
    assert r.returncode == 0, r.stderr
    state, _, end = r.stdout.strip().partition("|")
    return end if state.startswith("CANCELLED") and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", end) else ""


@pytest.mark.sshd
@pytest.mark.slurm
def test_ended_at_from_sacct_after_squeue_forgot(acct_session: Session, acct_pspam_node: Sshd, slurm_accounting: Slurm) -> None:
    s, node, slurm = acct_session, acct_pspam_node, slurm_accounting
    sites = s.user.home / "sites.toml"
    sites.write_text(sites.read_text() + 'compute_node_pattern = "tbnode*i.testbed"\n')
    assert s.sshsetup("init", "--compute-nodes", "--yes", "--from", "127.0.0.1", "--no-vscode").returncode == 0
    node.authorize(s.user, (s.user.ssh_dir / "id_ed25519_jsc.pub").read_text().strip())
    cfg = s.user.ssh_dir / "config"
    cfg.write_text(cfg.read_text() + f"Host tbnode01i.testbed\n    HostName 127.0.0.1\n    Port {node.port}\n")
    s.user.write(".ssh/known_hosts", (s.user.ssh_dir / "known_hosts").read_text() + node.known_hosts_text(), mode=0o644)
    r = s.sshsetup("code", *RESOURCES, "--transport", "proxyjump", "--persist", "--idle", "0", "--no-open")
    assert r.returncode == 0, r.stderr
    job = int(re.search(r"✓ job (\d+) runs on tbnode01", r.stderr).group(1))  # type: ignore[union-attr]
    assert doctor(s)["summary"] == f"{ENTRY}: your job {job} runs on node tbnode01"

    assert s.sshsetup("code", "--stop", "--site", "testbed").returncode == 0
    # a user's own time format (squeue and sacct honour it), read by bash for the check's command on the login node
    s.user.write(".bashrc", "export SLURM_TIME_FORMAT='%d.%m. %H:%M'\n", mode=0o644)
    ended = ""

    def recorded() -> bool:
        nonlocal ended
        ended = sacct_end(slurm, job)
        return bool(ended)

    until("sacct to record the job's end", recorded, 30)
    until("squeue to forget the job (MinJobAge=10, purged once a minute)",
          lambda: not s.squeue("-t", "all", "-j", str(job)).strip(), 90)
    run_as(s.user, ["ssh", "-O", "exit", ENTRY], env=s.agent.env)
    refused = run_as(s.user, ["ssh", "-o", "ControlPath=none", "-o", "BatchMode=yes", "tbnode01i.testbed", "true"], env=s.agent.env)
    assert "Permission denied (publickey)" in refused.stderr  # what the check explains
    day, hhmm = ended[:10], ended[11:16]
    when = hhmm if day == time.strftime("%Y-%m-%d") else f"{day} {hhmm}"
    summary = f"{ENTRY}: no running job on node tbnode01; your job {job} on that node ended at {when}"

    text = s.sshsetup("doctor", "node.session-job")
    assert (text.stdout, text.returncode) == (f"! node.session-job: {summary}\n    hint: {HINT}\n"
                                              "0 failed, 1 warnings, 0 ok, 0 skipped\n", 0), text.stderr
    assert doctor(s) == {"id": "node.session-job", "status": "warn", "hint": HINT, "summary": summary}
    assert s.auths() == 1
