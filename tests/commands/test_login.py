"""``sshsetup login`` / ``status`` / ``logout`` against a real sshd that asks for a real TOTP code.

The server (tests/testbed/totp.py) requires ``publickey,keyboard-interactive``; Debian's
pam_oath checks the code. Codes come from ``oathtool --totp`` and are typed into a real pty
where ssh prompts for them. Every claim about authentications is read from sshd's own log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_e2e import PASSPHRASE, py, setup_user  # noqa: F401 - py is a fixture
from tests.testbed.agent import SshAgent
from tests.testbed.sshd import Sshd
from tests.testbed.totp import ACCEPTED_KBDINT, ANY_AUTH, CONNECTION, Pty, TotpSshd, wait_for_fresh_step
from tests.testbed.users import TestUser, run_as

pytestmark = pytest.mark.sshd
ROOT = Path(__file__).resolve().parents[2]
HINT = "error: run: sshsetup login --site testbed (a TOTP code will be asked)"


@pytest.fixture
def totp_sshd(testbed_dir: Path, testbed_host_key: Path, test_user: TestUser) -> Iterator[TotpSshd]:
    base = testbed_dir / "totp"
    base.mkdir(exist_ok=True)
    base.chmod(0o755)
    sshd = TotpSshd(base / f"{len(list(base.iterdir())):03d}", host_key=testbed_host_key)
    sshd.add_user(test_user)
    with sshd:
        yield sshd


@pytest.fixture
def pkg(testbed_dir: Path) -> Path:
    """This checkout's sshsetup on PYTHONPATH (the shared user venv may hold another checkout's copy)."""
    d = testbed_dir / "login-pkg"
    if not d.exists():
        shutil.copytree(ROOT / "sshsetup", d / "sshsetup", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "templates", d / "sshsetup" / "templates")
        for root, dirs, files in os.walk(d):
            for n in dirs:
                os.chmod(os.path.join(root, n), 0o755)
            for n in files:
                os.chmod(os.path.join(root, n), 0o644)
        d.chmod(0o755)
    return d


class Session:
    """One user's working session: init done, the key uploaded and in the agent."""

    def __init__(self, user: TestUser, sshd: Sshd, agent: SshAgent, py: Path, pkg: Path) -> None:
        self.user, self.sshd, self.agent, self.py = user, sshd, agent, py
        self.env = {**agent.env, "PYTHONPATH": str(pkg), "SSHSETUP_NO_CLIPBOARD": "1"}
        setup_user(user, sshd)
        r = self.sshsetup("init", "--site", "testbed", "--sites-file", f"{user.home}/sites.toml", "--user", user.name,
                          "--passphrase-file", f"{user.home}/pw", "--yes", "--from", "127.0.0.1")
        assert r.returncode == 0, r.stderr
        sshd.authorize(user, r.stdout.strip())
        agent.add(user.ssh_dir / "id_ed25519_jsc", PASSPHRASE)

    def sshsetup(self, *args: str) -> subprocess.CompletedProcess[str]:
        """sshsetup as the user without a terminal (stdin /dev/null): a non-interactive command."""
        return run_as(self.user, [str(self.py), "-m", "sshsetup", *args], env=self.env, timeout=120)

    def login_pty(self, *args: str) -> Pty:
        return Pty.as_user(self.user, [str(self.py), "-m", "sshsetup", "login", *args], env=self.env)

    def login(self, codes: list[str], *args: str) -> tuple[int, str]:
        """``sshsetup login`` on a pty; each code typed when a code prompt shows."""
        with self.login_pty(*args) as pty:
            for n, code in enumerate(codes, 1):
                pty.expect(r"(?:One-time password \(OATH\)[\s\S]*?)" + "{" + str(n) + "}", timeout=30)
                pty.type(code + "\n")
            rc = pty.wait(60)
            return rc, pty.text

    def status_json(self) -> dict[str, object]:
        r = self.sshsetup("status", "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc["sshsetup"] == "status" and doc["version"] == 1
        sites = doc["sites"]
        assert isinstance(sites, list)
        return dict(sites[0])


@pytest.fixture
def session(test_user: TestUser, totp_sshd: TotpSshd, ssh_agent: SshAgent, py: Path, pkg: Path) -> Iterator[Session]:
    s = Session(test_user, totp_sshd, ssh_agent, py, pkg)
    yield s
    run_as(test_user, ["ssh", "-O", "exit", "jsc-testbed"], env=ssh_agent.env)


def test_one_code_per_session_then_no_authentication_at_all(session: Session) -> None:
    sshd = session.sshd
    wait_for_fresh_step(15)
    rc, shown = session.login([sshd.code()])
    assert rc == 0, shown
    assert "✓ testbed (jsc-testbed): opened (login node " in shown and ", expires " in shown
    assert sshd.count(ACCEPTED_KBDINT) == 1
    after_login = sshd.log_offset()

    st = session.sshsetup("status")
    assert st.returncode == 0, st.stderr
    assert "✓ testbed (jsc-testbed): logged in (login node " in st.stderr
    assert "used by: ssh jsc-testbed, VS Code Remote-SSH" in st.stderr
    assert session.status_json()["state"] == "live"
    w = session.sshsetup("wait", "--max-wait", "0", "--probes", "1")
    assert w.returncode == 0, w.stderr
    assert "✓ jsc-testbed: the key works (the login of sshsetup login is live; no new authentication)." in w.stderr
    again = session.login([], "--site", "testbed")
    assert again[0] == 0 and "✓ testbed (jsc-testbed): already open (expires " in again[1]
    for _ in range(10):
        r = run_as(session.user, ["ssh", "jsc-testbed", "true"], env=session.agent.env)
        assert r.returncode == 0, r.stderr
    assert (sshd.count(ANY_AUTH, after_login), sshd.count(CONNECTION, after_login)) == (0, 0), sshd.log_text(after_login)
    from sshsetup.vscode.tasks import ssh_args  # a VS Code task's command line, as tasks.json has it

    argv = ["ssh", *(a.replace("${input:x}", "my job") for a in ssh_args("jsc-testbed", ("printf", "%s", "${input:x}"), False))]
    task = run_as(session.user, argv, env=session.agent.env)
    assert (task.returncode, task.stdout) == (0, "my job"), task.stderr
    doc = session.sshsetup("doctor", "--remote")
    assert "auth.probe (jsc-testbed): login accepted over a live ControlMaster" in doc.stdout, doc.stdout + doc.stderr
    assert sshd.count(ANY_AUTH, after_login) == 0, sshd.log_text(after_login)  # doctor's banner check connects, never authenticates

    out = session.sshsetup("logout")
    assert out.returncode == 0, out.stderr
    assert "✓ testbed (jsc-testbed): closed the login on " in out.stderr
    after_logout = sshd.log_offset()
    refused = session.sshsetup("wait", "--max-wait", "0", "--probes", "1")
    assert (refused.returncode, refused.stderr.strip()) == (1, HINT)
    st = session.sshsetup("status")
    assert "- testbed (jsc-testbed): not logged in\n  run: sshsetup login --site testbed (a TOTP code will be asked)" in st.stderr
    assert sshd.count(CONNECTION, after_logout) == 0
    doc = session.sshsetup("doctor", "auth.probe")
    assert "run: sshsetup login --site testbed (a TOTP code will be asked)" in doc.stdout + doc.stderr, doc.stdout + doc.stderr
    assert sshd.count(CONNECTION, after_logout) == 0, sshd.log_text(after_logout)  # doctor tried no login either


def test_without_a_second_factor_login_needs_no_terminal(test_user: TestUser, sshd: Sshd, ssh_agent: SshAgent, py: Path,
                                                         pkg: Path) -> None:
    s = Session(test_user, sshd, ssh_agent, py, pkg)
    start = sshd.log_offset()
    r = s.sshsetup("login", "--for", "30m")
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("✓ testbed (jsc-testbed): opened (login node ")
    assert run_as(test_user, ["ssh", "jsc-testbed", "true"], env=ssh_agent.env).returncode == 0
    assert len(re.findall(r"Accepted publickey for ", sshd.log_text(start))) == 1
    row = s.status_json()
    assert row["state"] == "live" and row["expires"] - row["opened"] == 1800  # type: ignore[operator]
    assert row["second_factor"] is None
    out = s.sshsetup("logout")
    assert out.returncode == 0 and out.stderr.startswith("✓ testbed (jsc-testbed): closed the login on ")


def test_on_a_terminal_wait_offers_to_log_in(session: Session) -> None:
    """A site the catalogue says asks for a code: no probe; on a terminal, wait offers the login instead."""
    sites = session.user.home / "sites.toml"
    sites.write_text(sites.read_text() + 'two_factor = { value = "required", source = "test", confidence = "high" }\n')
    before = session.sshd.log_offset()
    refused = session.sshsetup("wait", "--max-wait", "0", "--probes", "1")
    assert (refused.returncode, refused.stderr.strip()) == (1, HINT)
    assert session.sshd.count(CONNECTION, before) == 0
    wait_for_fresh_step(15)
    with Pty.as_user(session.user, [str(session.py), "-m", "sshsetup", "wait", "--max-wait", "0", "--probes", "1"],
                     env=session.env) as pty:
        pty.expect(r"testbed asks for a TOTP code and has no live login\. Log in now \(sshsetup login\)\? \[Y/n\]")
        pty.type("y\n")
        pty.expect(r"One-time password \(OATH\)", timeout=30)
        pty.type(session.sshd.code() + "\n")
        assert pty.wait(60) == 0, pty.text
        shown = pty.text
    assert "✓ testbed (jsc-testbed): opened (login node " in shown
    assert "✓ jsc-testbed: the key works (the login of sshsetup login is live; no new authentication)." in shown
    assert (session.sshd.count(ACCEPTED_KBDINT), session.sshd.count(CONNECTION)) == (1, 2)  # 2: sshd's own start-up probe


def test_wrong_code_is_classified(session: Session) -> None:
    wrong = session.sshd.wrong_code()
    rc, shown = session.login([wrong, wrong, wrong])
    assert rc == 1
    assert "✗ testbed (jsc-testbed): the server refused the code (wrong code)" in shown
    assert session.sshd.count(r"Failed keyboard-interactive/pam for ") == 3
    assert session.sshd.count(ACCEPTED_KBDINT) == 0
    assert session.status_json()["state"] == "none"


def test_reused_code_is_classified(session: Session) -> None:
    sshd = session.sshd
    wait_for_fresh_step(25)
    code = sshd.code()
    rc, shown = session.login([code])
    assert rc == 0, shown
    assert session.sshsetup("logout").returncode == 0
    rc, shown = session.login([code, code, code])
    assert rc == 1
    assert "✗ testbed (jsc-testbed): the server refused the code: it is the code already used for the last login" in shown
    assert "wait for the next code (up to 30 s)" in shown
    assert sshd.count(ACCEPTED_KBDINT) == 1


def test_unanswered_prompt_is_classified(session: Session) -> None:
    with session.login_pty("--timeout", "5") as pty:
        pty.expect(r"One-time password \(OATH\)", timeout=30)
        rc = pty.wait(60)
        shown = pty.text
    assert rc == 1
    assert "✗ testbed (jsc-testbed): the code prompt was not answered in time" in shown
    assert session.sshd.count(ACCEPTED_KBDINT) == 0


def test_killed_master_is_stale_and_cleaned_up(session: Session) -> None:
    wait_for_fresh_step(15)
    rc, shown = session.login([session.sshd.code()])
    assert rc == 0, shown
    live = session.status_json()
    pid, path = live["pid"], live["control_path"]
    assert isinstance(pid, int) and isinstance(path, str) and Path(path).exists()
    os.kill(pid, signal.SIGKILL)
    st = session.sshsetup("status")
    assert st.returncode == 0, st.stderr
    assert f"✗ testbed (jsc-testbed): stale socket {path} (its master is gone, e.g. after a sleep or a kill): removed" in st.stderr
    assert not Path(path).exists()
    assert session.status_json()["state"] == "none"


def test_missing_pam_module_or_oathtool_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.testbed import totp

    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(totp, "PAM_OATH", ("/nonexistent/security/pam_oath.so",))
    with pytest.raises(pytest.fail.Exception, match=r"pam_oath.so is not available: .*CI=true"):
        totp.require_totp()
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match=r"(unshare|mount|oathtool) is not available"):
        totp.require_totp()


def test_remove_closes_the_login_before_its_block_goes(test_user: TestUser, sshd: Sshd, ssh_agent: SshAgent, py: Path,
                                                       pkg: Path) -> None:
    """``remove`` closes a live master while the config still names its socket; nothing of it is left."""
    s = Session(test_user, sshd, ssh_agent, py, pkg)
    assert s.sshsetup("login", "--for", "30m").returncode == 0
    assert s.status_json()["state"] == "live"
    sockets = [p for p in (test_user.home / ".ssh").rglob("*") if p.is_socket()]
    assert sockets
    out = s.sshsetup("remove", "--yes")
    assert out.returncode == 0, out.stderr
    assert "✓ testbed (jsc-testbed): closed the login on " in out.stderr
    assert not any(p.exists() for p in sockets)
