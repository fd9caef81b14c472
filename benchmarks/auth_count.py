"""How many authentications a scripted working session costs on a TOTP server (goal: exactly 1).

    sudo python benchmarks/auth_count.py     # needs root: a throwaway user and a test sshd

The session: ``sshsetup login`` (the code typed once on a pty), then 20 commands and tasks
(``sshsetup status``/``wait``/``login`` again, and the ``ssh <alias> ...`` lines VS Code
tasks run), then VS Code's two connections emulated by ``ssh -T <alias>`` twice. The count
comes from sshd's own log (LogLevel VERBOSE) on the server of tests/testbed/totp.py.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.commands.test_login import Session  # noqa: E402
from tests.testbed.agent import SshAgent  # noqa: E402
from tests.testbed.sshd import make_host_key  # noqa: E402
from tests.testbed.totp import CONNECTION, TotpSshd, wait_for_fresh_step  # noqa: E402
from tests.testbed.users import create_user, delete_user, make_testbed_dir, run_as  # noqa: E402
from tests.testbed.uservenv import user_python  # noqa: E402

AUTHENTICATIONS = r"Partial publickey for |Accepted publickey for "  # one per authentication (the code follows a partial)
TASKS = ["true", "hostname", "echo $HOME", "ls -a", "id -un", "uname -r", "pwd", "cat /etc/hostname", "date +%s",
         "test -d ~", "printf ok", "env | wc -l"]


def package(base: Path) -> Path:
    d = base / "login-pkg"
    shutil.copytree(ROOT / "sshsetup", d / "sshsetup", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", d / "sshsetup" / "templates")
    for p in [d, *d.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return d


def session_counts() -> tuple[int, int, int]:
    """(authentications, connections, commands run) after the start-up probe."""
    base = make_testbed_dir("sshsetup-bench-")
    user = create_user()
    agent = SshAgent(user)
    host_key = base / "hostkey"
    make_host_key(host_key)
    sshd = TotpSshd(base / "sshd", host_key=host_key)
    sshd.add_user(user)
    try:
        sshd.start()
        agent.start()
        s = Session(user, sshd, agent, user_python(), package(base))
        start = sshd.log_offset()
        wait_for_fresh_step(15)
        rc, shown = s.login([sshd.code()])
        if rc != 0:
            raise SystemExit(f"login failed:\n{shown}")
        commands = 0
        for args in (["status"], ["wait", "--max-wait", "0", "--probes", "1"], ["status", "--json"], ["login"]):
            for _ in range(2):
                s.sshsetup(*args)
                commands += 1
        for task in TASKS:
            run_as(user, ["ssh", "jsc-testbed", task], env=agent.env)
            commands += 1
        for _ in range(2):  # VS Code's two connections
            run_as(user, ["ssh", "-T", "jsc-testbed"], input="true\n", env=agent.env)
        s.sshsetup("logout")
        return sshd.count(AUTHENTICATIONS, start), sshd.count(CONNECTION, start), commands
    finally:
        sshd.stop()
        agent.stop()
        delete_user(user)
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    auths, connections, commands = session_counts()
    print(f"login + {commands} commands and tasks + 2x ssh -T: {auths} authentication(s) on {connections} connection(s)"
          f" (goal: exactly 1)")
    return 0 if auths == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
