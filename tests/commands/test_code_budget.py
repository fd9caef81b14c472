"""The session job's account: ``--account``, else the project ``init --account`` remembered, at a ``jutil``
site turned into its budget by ``jutil env activate -p PROJECT`` (``$BUDGET_ACCOUNTS``) over the login.

The real test bed (loopback sshd as the login node, the single-node Slurm). ``jutil`` is JSC's program,
so a stand-in takes its place on the test user's PATH on the login node. It has to change the calling
shell's environment, which a program alone cannot: how JSC's profile wires it in is not documented, so
the stand-in's login profile defines ``jutil`` as a shell function that evaluates the program's
``export`` line. The program records its arguments and exports what ``~/budgets`` holds.
"""

from __future__ import annotations

import re

import pytest

from tests.commands.test_code import Session, session  # noqa: F401 - a fixture
from tests.commands.test_login import pkg  # noqa: F401 - a fixture
from tests.test_e2e import py  # noqa: F401 - a fixture

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]
JOB = ("--site", "testbed", "--partition", "develbooster", "--gpus", "1", "--time", "00:05:00",
       "--persist", "--idle", "0", "--no-open")
STANDIN = """\
#!/bin/sh
# stand-in for JSC's jutil: record the arguments, export the budgets of ~/budgets
printf '%s\\n' "$*" >> "$HOME/jutil-args"
[ "$1 $2 $3" = "env activate -p" ] || exit 2
printf "export BUDGET_ACCOUNTS='%s'\\n" "$(cat "$HOME/budgets")"
"""
PROFILE = 'PATH="$HOME/jutilbin:$PATH"\njutil() { eval "$(command jutil "$@")"; }\necho "welcome to the login node"\n'


@pytest.fixture
def jutil_site(session: Session) -> Session:
    s = session
    s.user.write("jutilbin/jutil", STANDIN, mode=0o755)
    s.user.write(".bash_profile", PROFILE, mode=0o644)
    sites = s.user.home / "sites.toml"
    sites.write_text(sites.read_text() + "jutil = true\n")
    r = s.sshsetup("init", "--account", "proj1", "--yes", "--no-vscode")  # init remembers the project
    assert r.returncode == 0, r.stderr
    return s


def jutil_args(s: Session) -> list[str]:
    p = s.user.home / "jutil-args"
    return p.read_text().splitlines() if p.exists() else []


def test_the_budget_comes_from_jutil(jutil_site: Session) -> None:
    s = jutil_site
    s.user.write("budgets", "myproject")
    try:
        r = s.sshsetup("code", *JOB)
        assert r.returncode == 0, r.stderr
        assert "Budget myproject (from jutil env activate -p proj1 on jsc-testbed).\n" in r.stderr
        job = int(re.search(r"✓ job (\d+) runs on", r.stderr).group(1))  # type: ignore[union-attr]
        assert s.squeue("-j", str(job), "-o", "%a").strip() == "myproject"
    finally:
        s.sshsetup("code", "--stop", "--site", "testbed")
    assert jutil_args(s) == ["env activate -p proj1"]
    assert s.auths() == 1


def test_account_given_wins_and_jutil_is_not_run(jutil_site: Session) -> None:
    s = jutil_site
    try:
        r = s.sshsetup("code", *JOB, "--account", "training2500")
        assert r.returncode == 0, r.stderr
        job = int(re.search(r"✓ job (\d+) runs on", r.stderr).group(1))  # type: ignore[union-attr]
        assert s.squeue("-j", str(job), "-o", "%a").strip() == "training2500"
    finally:
        s.sshsetup("code", "--stop", "--site", "testbed")
    assert jutil_args(s) == []


@pytest.mark.parametrize(("budgets", "rc", "error", "hint"), [
    pytest.param("myproject, training2500", 2, "project proj1 has 2 budgets on jsc-testbed: myproject, training2500",
                 "say which one pays: --account myproject", id="several"),
    pytest.param("", 2, "no budget for the session job",
                 "jutil env activate -p proj1 set no $BUDGET_ACCOUNTS on jsc-testbed: give --account NAME", id="none"),
    pytest.param("ok \x1b]52;c;evil\x07", 1, "jutil on jsc-testbed gave a budget that is not a Slurm account: '\\x1b]52;c;evil\\x07'",
                 "pass the budget yourself: --account NAME", id="hostile"),
])
def test_no_single_budget_is_refused_and_submits_nothing(jutil_site: Session, budgets: str, rc: int, error: str, hint: str) -> None:
    s = jutil_site
    s.user.write("budgets", budgets)
    assert s.sshsetup("login", "--site", "testbed").returncode == 0  # open already: the refusal is all code prints
    before = s.squeue("-t", "all", "-o", "%i").split()
    r = s.sshsetup("code", *JOB)
    assert (r.returncode, r.stderr) == (rc, f"error: {error}\nhint: {hint}\n")
    assert s.squeue("-t", "all", "-o", "%i").split() == before
    assert jutil_args(s) == ["env activate -p proj1"]


def test_without_jutil_the_remembered_project_is_the_account(session: Session) -> None:
    s = session
    r = s.sshsetup("init", "--account", "training2500", "--yes", "--no-vscode")
    assert r.returncode == 0, r.stderr
    try:
        r = s.sshsetup("code", *JOB)
        assert r.returncode == 0, r.stderr
        job = int(re.search(r"✓ job (\d+) runs on", r.stderr).group(1))  # type: ignore[union-attr]
        assert s.squeue("-j", str(job), "-o", "%a").strip() == "training2500"
    finally:
        s.sshsetup("code", "--stop", "--site", "testbed")
