"""Each failure staged for real on loopback; the right check must flag it with the right hint.

The doctor is the real command (``commands.doctor.run`` with ``--remote --json``: its own
check registration, site selection, ``ssh -G`` targets and clean-up), run *as the throwaway
test user* in a forked child (setgid/setuid, clean
environment, HOME = its passwd home), so ssh reads that user's ``~/.ssh`` exactly as it
would for a real user, and ``sshsetup init`` wrote that config (also run as the user).
Nothing leaves loopback: hosts are 127.0.0.1 / ::1, the IP echo URLs point at a closed
local port (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from sshsetup.support.doctor import CHECKS, REMOTE_CHECKS
from sshsetup.support.doctor.model import CheckResult, Status
from tests.testbed.agent import SshAgent
from tests.testbed.sshd import Sshd
from tests.testbed.users import KeyPair, TestUser, make_key


def _preload() -> None:
    """Import lazily imported modules now: after setuid the child cannot read root's Python."""
    import codecs
    import concurrent.futures  # noqa: F401
    import getpass  # noqa: F401
    import http.client  # noqa: F401
    import importlib.resources  # noqa: F401
    import pwd  # noqa: F401
    import ssl  # noqa: F401
    import sys
    import tempfile  # noqa: F401

    if sys.version_info >= (3, 11):
        import tomllib  # noqa: F401

    import importlib
    import pkgutil

    import platformdirs
    import platformdirs.unix  # noqa: F401

    import sshsetup
    from sshsetup import catalogue as sites

    # every sshsetup module and the catalogue: the checkout may sit in a directory the user cannot read
    for mod in pkgutil.walk_packages(sshsetup.__path__, "sshsetup."):
        if mod.name != "sshsetup.__main__":
            importlib.import_module(mod.name)
    sites.packaged_text()

    platformdirs.user_state_dir("x")
    for enc in ("utf-16", "utf-8-sig", "idna", "ascii", "latin-1"):
        codecs.lookup(enc)


def as_user(user: TestUser, fn: Callable[[], Any], env: Mapping[str, str] | None = None) -> Any:
    """``fn()`` in a forked child running as ``user`` (its JSON-able result, or raise)."""
    _preload()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(user.gid)
            # Real and effective uid are the user's (exec'd ssh gets the user's saved uid too);
            # the saved uid stays root only so that coverage can write this child's data at exit.
            os.setresuid(user.uid, user.uid, 0)
            os.environ.clear()
            os.environ.update(user.env(env))
            os.environ["SSHSETUP_IP_ECHO_URLS"] = "http://127.0.0.1:9/"
            os.environ["SSHSETUP_NO_CLIPBOARD"] = "1"
            os.chdir(user.home)
            data = json.dumps({"ok": fn()})
        except BaseException:  # noqa: BLE001
            data = json.dumps({"crash": traceback.format_exc()})
        with os.fdopen(w, "w") as fh:
            fh.write(data)
        os.setresuid(0, 0, 0)  # coverage's data file is in root's checkout
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as fh:
        raw = fh.read()
    os.waitpid(pid, 0)
    doc = json.loads(raw)
    if "crash" in doc:
        raise AssertionError("child crashed:\n" + doc["crash"])
    return doc["ok"]


def doctor_as(user: TestUser, options: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``commands.doctor.run(options)`` as ``user``: its exit code, stdout and stderr."""

    def child() -> Any:
        import contextlib
        import io

        from sshsetup.commands.doctor import run
        from sshsetup.paths import Paths
        from sshsetup.render import show

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = show(run(Paths.from_env(), options, confirm=None), as_json=options.prints_json)
        return {"rc": rc, "out": out.getvalue(), "err": err.getvalue()}

    res: dict[str, Any] = as_user(user, child, env)
    return res


def run_doctor(user: TestUser, sites_file: Path, env: Mapping[str, str] | None = None, timeout: float = 2.0) -> dict[str, CheckResult]:
    """Every check, the remote ones included, by id (one host: ``tb``)."""
    from sshsetup.commands.doctor import DoctorOptions

    opts = DoctorOptions(sites=("tb",), sites_file=sites_file, probe_timeout=timeout, remote=True, json_out=True)
    res = doctor_as(user, opts, env)
    doc = json.loads(res["out"])
    assert doc["sshsetup"] == "doctor" and res["rc"] == (1 if doc["status"] == "fail" else 0), res
    out = doc["checks"]
    return {c["id"]: CheckResult(c["id"], Status(c["status"]), c["summary"], c["hint"], tuple(c["details"]), c["subject"]) for c in out}


def init_as(user: TestUser, sites_file: Path, key: Path, extra: str = "") -> None:
    def child() -> int:
        from sshsetup.cli import main

        return main(["init", "--site", "tb", "--sites-file", str(sites_file), "--user", user.name, "--key", str(key), "--yes"])

    assert as_user(user, child) == 0
    if extra:
        cfg = user.ssh_dir / "config"
        user.write(".ssh/config", cfg.read_text() + extra)


def record_keyline(user: TestUser, key: KeyPair, ranges: list[str], age_minutes: float = 60) -> None:
    from sshsetup.ssh import keys

    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=age_minutes)).replace(microsecond=0).isoformat()
    rec = {"site": "tb", "alias": "tb", "fingerprint": keys.fingerprint(key.public_line), "ranges": ranges,
           "generated": when, "line": f'from="{",".join(ranges)}" {key.public_line}'}
    user.write(".local/state/sshsetup/keylines.json", json.dumps({"version": 1, "records": {"tb": rec}}))


class Setup:
    """A user whose ~/.ssh was written by ``sshsetup init`` for site ``tb`` at host:port."""

    def __init__(self, user: TestUser, sshd: Sshd | None, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.user, self.sshd = user, sshd
        port = port if port is not None else (sshd.port if sshd else 22)
        self.sites = user.write("sites.toml", f'[sites.tb]\nhostname = "{host}"\nport = {port}\nalias = "tb"\n', mode=0o644)
        if sshd is not None:
            user.write(".ssh/known_hosts", sshd.known_hosts_text(), mode=0o644)

    def key(self, passphrase: str | None = None, authorize_from: str | None = "127.0.0.0/8,::1", name: str = "id_ed25519_jsc") -> KeyPair:
        key = make_key(self.user, name, passphrase=passphrase, comment="alice@laptop")
        if authorize_from is not None and self.sshd is not None:
            self.sshd.authorize(self.user, key.public_line, from_=authorize_from)
        return key

    def init(self, key: KeyPair, ranges: list[str] | None = None, age_minutes: float = 60, extra: str = "") -> None:
        init_as(self.user, self.sites, key.private, extra)
        if ranges is not None:
            record_keyline(self.user, key, ranges, age_minutes)


def flagged(res: dict[str, CheckResult], cid: str, status: Status, *, summary: str = "", hint: str = "") -> CheckResult:
    r = res[cid]
    assert r.status is status, f"{cid}: {r}\n" + "\n".join(f"{k}: {v.status.value} {v.summary}" for k, v in res.items())
    assert summary in r.summary, r
    assert hint in (r.hint or ""), r
    return r


@pytest.mark.sshd
def test_healthy_loopback_is_all_ok(test_user: TestUser, sshd: Sshd, ssh_agent: SshAgent) -> None:
    s = Setup(test_user, sshd)
    key = s.key(passphrase="correct horse battery")
    ssh_agent.add(key.private, key.passphrase)
    init_as(test_user, s.sites, key.private)
    record_keyline(test_user, key, ["127.0.0.0/8", "::1/128"])
    res = run_doctor(test_user, s.sites, env=ssh_agent.env)
    bad = {k: (r.status.value, r.summary) for k, r in res.items() if r.status not in (Status.OK, Status.SKIP)}
    assert bad == {}
    assert list(res) == [c.id for c in (*CHECKS, *REMOTE_CHECKS)]  # the real registration, every check once (one host)
    ps = subprocess.run(["ps", "-o", "stat=,comm=", "-u", str(test_user.uid)], capture_output=True, text=True).stdout
    assert [ln for ln in ps.splitlines() if ln.split()[-1] == "ssh" and not ln.startswith("Z")] == []  # ssh -O exit stopped the master
    assert res["auth.probe"].status is Status.OK and res["remote.glibc"].status is Status.OK
    assert res["auth.from-range"].summary.startswith("127.0.0.1 (the local source address towards 127.0.0.1)")



@pytest.mark.sshd
def test_key_mode_0644(test_user: TestUser, sshd: Sshd) -> None:
    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8"])
    key.private.chmod(0o644)
    res = run_doctor(test_user, s.sites)
    flagged(res, "key.permissions", Status.FAIL, summary="is mode 0644", hint=f"chmod 600 {key.private}")
    flagged(res, "auth.probe", Status.FAIL, summary="UNPROTECTED PRIVATE KEY FILE", hint="chmod 600")


@pytest.mark.sshd
def test_missing_key(test_user: TestUser, sshd: Sshd) -> None:
    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8"])
    key.private.unlink()
    res = run_doctor(test_user, s.sites)
    flagged(res, "key.exists", Status.FAIL, summary=f"the key {key.private} (remembered in the managed block) does not exist",
            hint="sshsetup init")
    assert res["key.permissions"].status is Status.SKIP
    flagged(res, "auth.probe", Status.FAIL, summary=f"the private key {key.private} does not exist", hint="sshsetup init")


@pytest.mark.sshd
@pytest.mark.parametrize(("age", "summary", "hint"), [
    pytest.param(60, "inside its from= ranges: most likely the key is not uploaded for this system", "upload the key line for this system in JuDoor",
                 id="old-line"),
    pytest.param(3, "min old: probably not yet propagated", "wait up to 15 minutes", id="fresh-line"),
])
def test_key_not_in_authorized_keys(test_user: TestUser, sshd: Sshd, age: float, summary: str, hint: str) -> None:
    s = Setup(test_user, sshd)
    key = s.key(authorize_from=None)
    s.init(key, ["127.0.0.0/8", "::1/128"], age_minutes=age)
    res = run_doctor(test_user, s.sites)
    flagged(res, "auth.probe", Status.FAIL, summary=summary, hint=hint)
    assert res["auth.from-range"].status is (Status.OK if age > 15 else Status.WARN)


@pytest.mark.sshd
@pytest.mark.parametrize("bind", ["127.0.0.3", "127.0.0.2"])
def test_from_range_by_bind_address(test_user: TestUser, sshd: Sshd, bind: str) -> None:
    s = Setup(test_user, sshd)
    key = s.key(authorize_from="127.0.0.2/32")
    s.init(key, ["127.0.0.2/32"], extra=f"\nHost tb\n    BindAddress {bind}\n")
    res = run_doctor(test_user, s.sites)
    if bind == "127.0.0.2":
        flagged(res, "auth.from-range", Status.OK, summary="127.0.0.2 (the local source address towards 127.0.0.1 (BindAddress 127.0.0.2))")
        flagged(res, "auth.probe", Status.OK)
        return
    flagged(res, "auth.from-range", Status.FAIL, summary="the server sees 127.0.0.3", hint="sshsetup key-line")
    flagged(res, "auth.probe", Status.FAIL, summary="your address 127.0.0.3 is outside the key's from= ranges 127.0.0.2/32",
            hint="sshsetup key-line")


@pytest.mark.sshd
def test_ipv4_only_range_over_ipv6(test_user: TestUser, sshd: Sshd) -> None:
    s = Setup(test_user, sshd, host="::1")
    key = s.key(authorize_from="127.0.0.0/8")
    s.init(key, ["127.0.0.0/8"])  # init writes AddressFamily inet for an IPv4-only line: undo it, as a dual-stack user might
    cfg = test_user.ssh_dir / "config"
    test_user.write(".ssh/config", "Host tb\n    AddressFamily any\n\n" + cfg.read_text())
    res = run_doctor(test_user, s.sites)
    flagged(res, "auth.from-range", Status.FAIL, summary="ssh connects over IPv6 (::1) but the from= ranges are IPv4 only",
            hint="set AddressFamily inet for tb")
    flagged(res, "auth.probe", Status.FAIL, summary="your address ::1 is outside")


@pytest.mark.sshd
def test_refused_port(test_user: TestUser, refused_port: int) -> None:
    s = Setup(test_user, None, port=refused_port)
    key = s.key()
    s.init(key, ["127.0.0.0/8"])
    res = run_doctor(test_user, s.sites)
    flagged(res, "net.tcp", Status.FAIL, summary="refused the connection", hint="check HostName and Port")
    assert res["auth.probe"].status is Status.SKIP  # no login attempt against a dead port


@pytest.mark.sshd
def test_tarpit_never_sends_a_banner(test_user: TestUser, tarpit: Any) -> None:
    s = Setup(test_user, None, port=tarpit.port)
    key = s.key()
    s.init(key, ["127.0.0.0/8"])
    res = run_doctor(test_user, s.sites, timeout=1.0)
    flagged(res, "net.banner", Status.FAIL, summary="accepted the connection but sent no SSH banner", hint="do not retry quickly")
    assert res["auth.probe"].status is Status.SKIP
    assert tarpit.connections == 1  # one connection for net.tcp + net.banner, none for auth


@pytest.mark.sshd
def test_changed_host_key(test_user: TestUser, sshd: Sshd, tmp_path: Path) -> None:
    from tests.testbed.sshd import make_host_key

    s = Setup(test_user, sshd)
    other = make_host_key(tmp_path / "other")
    test_user.write(".ssh/known_hosts", f"[127.0.0.1]:{sshd.port} {other}\n", mode=0o644)
    key = s.key()
    s.init(key, ["127.0.0.0/8"])
    res = run_doctor(test_user, s.sites)
    flagged(res, "auth.probe", Status.FAIL, summary="host key differs", hint="ssh-keygen -R")


@pytest.mark.sshd
def test_too_many_authentication_failures(test_user: TestUser, sshd_factory: Callable[..., Sshd], ssh_agent: SshAgent) -> None:
    sshd = sshd_factory(extra_config=["MaxAuthTries 2"])
    s = Setup(test_user, sshd)
    key = s.key()
    for i in range(4):
        other = make_key(test_user, f"other{i}")
        ssh_agent.add(other.private)
    s.init(key, ["127.0.0.0/8"])
    cfg = test_user.ssh_dir / "config"
    test_user.write(".ssh/config", "Host *\n    IdentitiesOnly no\n\n" + cfg.read_text())
    res = run_doctor(test_user, s.sites, env=ssh_agent.env)
    flagged(res, "auth.probe", Status.FAIL, summary="Too many authentication failures", hint="add IdentitiesOnly yes")
    flagged(res, "config.resolves", Status.FAIL, summary=f"set at {cfg}:2 (Host *)", hint="ssh takes the first value")


@pytest.mark.sshd
def test_two_factor_partial_success(test_user: TestUser, sshd_factory: Callable[..., Sshd]) -> None:
    sshd = sshd_factory(extra_config=["UsePAM yes", "KbdInteractiveAuthentication yes",
                                      "AuthenticationMethods publickey,keyboard-interactive"])
    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8"])
    res = run_doctor(test_user, s.sites)
    flagged(res, "auth.probe", Status.WARN, summary="second factor", hint='"remote.SSH.showLoginTerminal": true')
    assert res["remote.glibc"].status is Status.SKIP  # no master: nothing runs remotely
    learned = json.loads((test_user.home / ".local/state/sshsetup/logins.json").read_text())["second_factor"]
    assert list(learned) == ["tb"]  # as wait learns it: from now on, sshsetup login first


@pytest.mark.sshd
def test_passphrase_and_no_agent(test_user: TestUser, sshd: Sshd) -> None:
    s = Setup(test_user, sshd)
    key = s.key(passphrase="correct horse battery")
    s.init(key, ["127.0.0.0/8"])
    res = run_doctor(test_user, s.sites)
    flagged(res, "auth.probe", Status.WARN, summary="the server accepts the key; it has a passphrase and no agent holds it, "
            "so ssh asks for it in a terminal and VS Code cannot log in", hint=f"add it to your agent once: ssh-add {key.private}")
    flagged(res, "local.agent", Status.WARN, summary="no ssh-agent")
    flagged(res, "auth.from-range", Status.OK, summary="and the server accepted the key")


@pytest.mark.sshd
def test_a_fresh_line_that_works_is_ok(test_user: TestUser, sshd: Sshd) -> None:
    """Issue 18: no "propagation takes minutes" warning directly above "login accepted"."""
    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8", "::1/128"], age_minutes=2)
    res = run_doctor(test_user, s.sites)
    flagged(res, "auth.probe", Status.OK, summary='login accepted using "publickey"')
    r = flagged(res, "auth.from-range", Status.OK)
    assert r.summary == ("127.0.0.1 (the local source address towards 127.0.0.1) is inside the from= ranges 127.0.0.0/8, ::1/128, "
                         "and the server accepted the key") and r.hint is None


@pytest.mark.sshd
def test_worked_before_refused_now(test_user: TestUser, sshd: Sshd) -> None:
    """A refusal after an accepted login names the time, and does not blame propagation."""
    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8", "::1/128"], age_minutes=2)
    flagged(run_doctor(test_user, s.sites), "auth.probe", Status.OK)
    recorded = json.loads((test_user.home / ".local/state/sshsetup/logins.json").read_text())
    when = time.strftime("%H:%M", time.localtime(recorded["keys_accepted"]["tb"]))
    sshd.unauthorize(test_user)  # removed in JuDoor
    res = run_doctor(test_user, s.sites)
    flagged(res, "auth.probe", Status.FAIL,
            summary=f"the server refused the key; it accepted the key at {when}, and your address 127.0.0.1 is still inside "
                    "its from= ranges: the key was probably removed or replaced in JuDoor",
            hint="check the key in JuDoor (keys are per system)")
    flagged(res, "auth.from-range", Status.WARN, summary="the line was generated 2 min ago")


@pytest.mark.sshd
def test_remote_bashrc_prints(test_user: TestUser, sshd: Sshd) -> None:
    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8"])
    test_user.write(".bashrc", 'echo "Welcome to the cluster"\n', mode=0o644)
    res = run_doctor(test_user, s.sites)
    flagged(res, "auth.probe", Status.OK)
    flagged(res, "remote.shell-output", Status.FAIL, summary="'Welcome to the cluster'", hint="if [[ $- == *i* ]]")
    flagged(res, "remote.glibc", Status.OK)  # the markers keep the parsing right despite the noise


def _auths(sshd: Sshd, since: int) -> int:
    return sshd.log_text(since).count("Accepted publickey for ")


@pytest.mark.sshd
def test_a_live_login_is_used_and_no_new_authentication_made(test_user: TestUser, sshd: Sshd) -> None:
    """Issue 13: doctor's probe and remote checks go over the live master; sshd sees no second authentication."""
    from tests.testbed.users import run_as

    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8", "::1/128"])
    opened = run_as(test_user, ["ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o", "ControlPersist=60", "tb", "true"])
    assert opened.returncode == 0, opened.stderr
    since = sshd.log_offset()
    try:
        res = run_doctor(test_user, s.sites)
    finally:
        run_as(test_user, ["ssh", "-O", "exit", "tb"])
    flagged(res, "auth.probe", Status.OK, summary="login accepted over a live ControlMaster (no new authentication; the key was not tried again)")
    flagged(res, "remote.glibc", Status.OK)
    assert _auths(sshd, since) == 0


@pytest.mark.sshd
def test_a_second_factor_site_without_a_login_is_refused_without_a_connection(test_user: TestUser, sshd: Sshd) -> None:
    """Issue 13: non-interactive doctor refuses with the login hint and connects to nothing."""
    s = Setup(test_user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8", "::1/128"])
    test_user.write("sites.toml", s.sites.read_text() + 'two_factor = "required"\n', mode=0o644)
    since = sshd.log_offset()

    def child() -> Any:
        import contextlib
        import io

        from sshsetup.cli import main

        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["doctor", "--site", "tb", "--sites-file", str(s.sites)])
        return {"rc": rc, "err": err.getvalue()}

    res = as_user(test_user, child)
    assert res == {"rc": 1, "err": "error: run: sshsetup login --site tb (a TOTP code will be asked)\n"}
    assert "Connection from" not in sshd.log_text(since)
