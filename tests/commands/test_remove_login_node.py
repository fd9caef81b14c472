"""``remove`` deletes what ``code`` put in ``~/.sshsetup`` on the login node: over the open login only.

The real test bed: the loopback sshd is the login node, so its ``~`` is the test user's home.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.commands.test_code import Session, session  # noqa: F401 - a fixture
from tests.commands.test_login import pkg  # noqa: F401 - a fixture
from tests.test_e2e import py  # noqa: F401 - a fixture
from tests.testbed.users import run_as

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]
JOB = ("--site", "testbed", "--account", "myproject", "--partition", "develbooster", "--gpus", "1", "--time", "00:05:00",
       "--persist", "--idle", "0", "--no-open")
CONNECTION = re.compile(r"Connection from ")


def with_helper(s: Session) -> None:
    r = s.sshsetup("code", *JOB)
    assert r.returncode == 0, r.stderr
    assert s.sshsetup("code", "--stop", "--site", "testbed").returncode == 0
    helpers = sorted(p.name for p in (s.user.home / ".sshsetup").iterdir())
    assert len(helpers) == 1 and re.fullmatch(r"code-helper-[0-9a-f]{12}\.py", helpers[0]), helpers


def test_remove_deletes_the_helper_over_the_open_login(session: Session) -> None:
    s = session
    with_helper(s)
    s.user.write(".sshsetup/serve/12345/relay.log", "")  # what serve leaves after a job whose relay has ended
    r = s.sshsetup("remove", "--yes")
    assert r.returncode == 0, r.stderr
    assert "✓ testbed (jsc-testbed): deleted ~/.sshsetup on the login node (sshsetup's helper files), over the open login\n" in r.stdout + r.stderr
    assert not (s.user.home / ".sshsetup").exists()
    assert not (s.user.ssh_dir / "config").exists()  # the local side as before: init created the config
    assert s.auths() == 1  # the login code opened, nothing more


def test_remove_keeps_what_sshsetup_did_not_put_there(session: Session) -> None:
    s = session
    with_helper(s)
    s.user.write(".sshsetup/notes.txt", "mine\n")
    r = s.sshsetup("remove", "--yes")
    assert r.returncode == 0, r.stderr
    assert ("- testbed (jsc-testbed): deleted sshsetup's helper files; kept ~/.sshsetup on the login node, which still holds:"
            " notes.txt\n") in r.stdout + r.stderr
    assert sorted(p.name for p in (s.user.home / ".sshsetup").iterdir()) == ["notes.txt"]


def test_without_a_login_remove_contacts_nothing_and_names_the_command(session: Session) -> None:
    s = session
    with_helper(s)
    assert s.sshsetup("logout").returncode == 0
    start = s.sshd.log_offset()
    r = s.sshsetup("remove", "--yes")
    assert r.returncode == 0, r.stderr
    key = s.user.ssh_dir / "id_ed25519_jsc"
    command = (f"ssh -p {s.sshd.port} -i {key} {s.user.name}@127.0.0.1 "
               "'rm -f ~/.sshsetup/code-helper-*.py; rm -rf ~/.sshsetup/serve; rmdir ~/.sshsetup'")
    assert ("- testbed (jsc-testbed): no open login, so nothing was contacted; sshsetup's helper files stay in ~/.sshsetup"
            f" on the login node: delete them with: {command}\n") in r.stdout + r.stderr
    assert not CONNECTION.findall(s.sshd.log_text(start)), s.sshd.log_text(start)
    assert (s.user.home / ".sshsetup").is_dir()
    done = run_as(s.user, shlex.split(command), env=s.agent.env)  # the command as printed works
    assert done.returncode == 0, done.stderr
    assert not (s.user.home / ".sshsetup").exists()


def test_dry_run_says_what_it_would_delete_and_deletes_nothing(session: Session) -> None:
    s = session
    with_helper(s)
    before = (s.user.ssh_dir / "config").read_bytes()
    r = s.sshsetup("remove", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert ("- testbed (jsc-testbed): would delete sshsetup's helper files in ~/.sshsetup on the login node,"
            " over the open login\n") in r.stdout + r.stderr
    assert (s.user.home / ".sshsetup").is_dir() and (s.user.ssh_dir / "config").read_bytes() == before


def test_on_a_terminal_remove_offers_it_before_the_question(session: Session) -> None:
    from tests.commands.test_init_interactive import Terminal
    from tests.testbed.users import exe

    s = session
    with_helper(s)
    full = s.user.env({**s.env, "TERM": "dumb"})
    argv = [exe("runuser"), "-u", s.user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in full.items()),
            str(s.py), "-m", "sshsetup", "remove"]
    offer = "On the login node of testbed (jsc-testbed): sshsetup's helper files in ~/.sshsetup (deleted over the open login only)"
    no = Terminal(argv, {}, cwd=s.user.home)
    no.expect(offer)
    no.expect("Remove these? [Y/n]:")
    no.send("n")
    assert no.finish() != 0
    assert (s.user.home / ".sshsetup").is_dir()  # declined: nothing contacted, nothing deleted
    yes = Terminal(argv, {}, cwd=s.user.home)
    yes.expect(offer)
    yes.expect("Remove these? [Y/n]:")
    yes.send("y")
    yes.expect("✓ testbed (jsc-testbed): deleted ~/.sshsetup on the login node (sshsetup's helper files), over the open login")
    assert yes.finish() == 0
    assert not (s.user.home / ".sshsetup").exists()
