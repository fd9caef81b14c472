"""Each failure staged for real on loopback; the right check must flag it with the right hint.

The doctor runs *as the throwaway test user* in a forked child (setgid/setuid, clean
environment, HOME = its passwd home), so ssh reads that user's ``~/.ssh`` exactly as it
would for a real user, and ``sshsetup init`` wrote that config (also run as the user).
Nothing leaves loopback: hosts are 127.0.0.1 / ::1, the IP echo URLs point at a closed
local port (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from sshsetup.doctor import checks_auth, checks_config, checks_local, checks_net, checks_remote, checks_vscode
from sshsetup.doctor.model import CheckResult, DoctorContext, Status
from tests.testbed.agent import SshAgent
from tests.testbed.sshd import SshClient, Sshd
from tests.testbed.users import KeyPair, TestUser, make_key

ALL = (*checks_local.CHECKS, *checks_config.CHECKS, *checks_net.CHECKS, *checks_auth.CHECKS,
       *checks_vscode.CHECKS, *checks_remote.CHECKS)


def _preload() -> None:
    """Import lazily imported modules now: after setuid the child cannot read root's Python."""
    import codecs
    import concurrent.futures  # noqa: F401
    import getpass  # noqa: F401
    import http.client  # noqa: F401
    import importlib.resources  # noqa: F401
    import pwd  # noqa: F401
    import ssl  # noqa: F401
    import tempfile  # noqa: F401
    import tomllib  # noqa: F401

    import platformdirs
    import platformdirs.unix  # noqa: F401

    from sshsetup import cli, ipecho, jsonc, keyline_state, sites  # noqa: F401
    from sshsetup.commands import init, init_cli  # noqa: F401
    from sshsetup.doctor import runner  # noqa: F401

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
            os.setuid(user.uid)
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
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as fh:
        raw = fh.read()
    os.waitpid(pid, 0)
    doc = json.loads(raw)
    if "crash" in doc:
        raise AssertionError("child crashed:\n" + doc["crash"])
    return doc["ok"]


def run_doctor(user: TestUser, sites_file: Path, env: Mapping[str, str] | None = None, timeout: float = 2.0) -> dict[str, CheckResult]:
    def child() -> Any:
        import tempfile

        from sshsetup import sites
        from sshsetup.doctor.runner import run_checks
        from sshsetup.paths import Paths

        paths = Paths.from_env()
        chosen = sites.select(sites.load_catalogue(sites_file, None), ["tb"])
        with tempfile.TemporaryDirectory(prefix="sshsetup-") as tmp:
            ctx = DoctorContext.for_sites(paths, chosen, probe_timeout=timeout, check_timeout=3 * timeout + 5,
                                          budget=60, control_dir=Path(tmp))
            try:
                report = run_checks(ALL, ctx)
            finally:
                for undo in reversed(ctx.on_exit):
                    undo()
        return report.to_json()["checks"]

    out = as_user(user, child, env)
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
    from sshsetup import keys

    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=age_minutes)).replace(microsecond=0).isoformat()
    rec = {"site": "tb", "alias": "tb", "fingerprint": keys.fingerprint(key.public_line), "ranges": ranges,
           "generated": when, "line": f'from="{",".join(ranges)}" {key.public_line}'}
    user.write(".local/state/sshsetup/keylines.json", json.dumps({"version": 1, "records": {"tb": rec}}))


class Setup:
    def __init__(self, user: TestUser, sshd: Sshd, host: str = "127.0.0.1") -> None:
        self.user, self.sshd = user, sshd
        self.sites = user.write("sites.toml", f'[sites.tb]\nhostname = "{host}"\nport = {sshd.port}\nalias = "tb"\n', mode=0o644)
        user.write(".ssh/known_hosts", sshd.known_hosts_text(), mode=0o644)

    def key(self, passphrase: str | None = None, authorize_from: str | None = "127.0.0.0/8,::1", name: str = "id_ed25519_jsc") -> KeyPair:
        key = make_key(self.user, name, passphrase=passphrase, comment="alice@laptop")
        if authorize_from is not None:
            self.sshd.authorize(self.user, key.public_line, from_=authorize_from)
        return key


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
    assert res["auth.probe"].status is Status.OK and res["remote.glibc"].status is Status.OK
    assert res["auth.from-range"].summary.startswith("127.0.0.1 (the local source address towards 127.0.0.1)")

