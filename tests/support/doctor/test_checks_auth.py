"""The from= range verdict in-process: public host (local echo server), ProxyJump, loopback, no record.

Never contacts anything but loopback: the public "host" is an address literal that only
``ssh -G`` parses, and its egress address comes from an echo server on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from sshsetup.paths import Paths
from sshsetup.support.doctor import checks_auth
from sshsetup.support.doctor.model import Status as S
from sshsetup.support.doctor.model import Target
from tests.support.doctor.test_checks_local import ctx
from tests.testbed.httpd import EchoMode, echo_factory  # noqa: F401 - fixture
from tests.testbed.require import require_exe

PUB = Target("pub", "93.199.55.163", 22, site_id="pub")


@pytest.fixture(autouse=True)
def _real_ssh() -> None:
    """ssh -G is real here: missing, the tests skip locally and fail under CI=true."""
    require_exe("ssh")


def setup(home: Path, ranges: list[str], config: str, age_minutes: float = 60, site: str = "pub") -> None:
    cfg = home / ".ssh" / "config"
    cfg.parent.mkdir(mode=0o700, exist_ok=True)
    cfg.write_text(config)
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=age_minutes)).isoformat()
    rec = {"site": site, "alias": site, "fingerprint": "SHA256:x", "ranges": ranges, "generated": when, "line": "x"}
    state = Paths.from_env().keylines
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"version": 1, "records": {site: rec}}))


@pytest.mark.parametrize(("ranges", "status", "summary"), [
    (["93.199.0.0/16", "10.0.0.0/8"], S.OK, "93.199.55.163 (your public IPv4 address (from http://127.0.0.1:"),
    (["134.94.0.0/16"], S.FAIL, "the server sees 93.199.55.163 (your public IPv4 address"),
])
def test_public_host_uses_the_echo_address(fake_home: Path, echo_factory: Any, monkeypatch: pytest.MonkeyPatch,
                                           ranges: list[str], status: S, summary: str) -> None:
    echo = echo_factory("127.0.0.1", EchoMode.FIXED, answer="93.199.55.163")
    monkeypatch.setenv("SSHSETUP_IP_ECHO_URLS", echo.url)
    setup(fake_home, ranges, "Host pub\n    HostName 93.199.55.163\n    AddressFamily inet\n")
    r = checks_auth.check_from_range(ctx(PUB), PUB)
    assert r.status is status and summary in r.summary
    if status is S.FAIL:
        assert r.hint == "your address changed (new network, VPN?): make a new key line with sshsetup key-line and update it in JuDoor"
    assert len(echo.requests) == 1


def test_public_host_without_echo_is_unknown(fake_home: Path) -> None:
    setup(fake_home, ["93.199.0.0/16"], "Host pub\n    HostName 93.199.55.163\n")
    r = checks_auth.check_from_range(ctx(PUB), PUB)
    assert r.status is S.WARN and r.summary.startswith("cannot tell which address the server sees: no public IPv4 address found")


@pytest.mark.parametrize(("ranges", "status"), [(["93.199.0.0/16"], S.FAIL), (["93.199.0.0/16", "10.0.0.0/8"], S.OK)])
def test_proxyjump_is_judged_by_the_internal_network(fake_home: Path, ranges: list[str], status: S) -> None:
    setup(fake_home, ranges, "Host pub\n    HostName jrc0001i\n    ProxyJump login.example.org\n")
    r = checks_auth.check_from_range(ctx(PUB), PUB)
    assert r.status is status
    if status is S.FAIL:
        assert r.summary == "hops from a login node come from 10.0.0.0/8, which the from= ranges (93.199.0.0/16) exclude"
        assert r.hint == "add 10.0.0.0/8 to the key line: sshsetup key-line --internal, then update it in JuDoor"


def test_loopback_fresh_line_and_no_record(fake_home: Path) -> None:
    t = Target("tb", "127.0.0.1", 2222, site_id="tb")
    setup(fake_home, ["127.0.0.0/8"], "Host tb\n    HostName 127.0.0.1\n    Port 2222\n    BindAddress 127.0.0.5\n", age_minutes=4, site="tb")
    r = checks_auth.check_from_range(ctx(t), t)
    assert r.status is S.WARN and r.summary == "127.0.0.5 is inside 127.0.0.0/8; the line was generated 4 min ago"
    assert r.hint is not None and r.hint.startswith("propagation takes minutes (up to ~15)")
    other = Target("x", "127.0.0.1", 22, site_id="x")
    assert checks_auth.check_from_range(ctx(other), other).status is S.SKIP


def test_source_address_sends_nothing() -> None:
    import socket

    assert checks_auth.source_address("127.0.0.1", 9, socket.AF_INET, "127.0.0.7") == "127.0.0.7"
    assert checks_auth.source_address("::1", 9, socket.AF_INET6, None) == "::1"
