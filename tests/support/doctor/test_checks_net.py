"""The network checks against real loopback servers: sshd, refused port, tarpit, closer, ::1."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from sshsetup.support.doctor import checks_net
from sshsetup.support.doctor.model import Status, Target
from sshsetup.support.doctor.runner import run_checks
from tests.support.doctor.conftest import make_ctx
from tests.support.doctor.servers import RealSshd, Server, free_port


def by_id(report):  # type: ignore[no-untyped-def]
    return {(r.id, r.subject): r for r in report.results}


def run(target: Target, **kw):  # type: ignore[no-untyped-def]
    ctx = make_ctx(target, **kw)
    return by_id(run_checks(checks_net.CHECKS, ctx)), ctx


@pytest.mark.sshd
def test_healthy_sshd_dual_stack_all_ok(real_sshd: RealSshd, tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{real_sshd.port} {real_sshd.key_line()}\n")
    res, _ = run(Target("tb", "127.0.0.1", real_sshd.port), known_hosts=(kh,))
    assert {k: r.status for k, r in res.items()} == {(c.id, "tb"): Status.OK for c in checks_net.CHECKS}
    assert res[("net.dns", "tb")].summary == "127.0.0.1: IPv4 127.0.0.1; IPv6 none"
    assert res[("net.family", "tb")].summary == "ssh will connect over IPv4 (127.0.0.1) [AddressFamily any]"
    assert res[("net.tcp", "tb")].summary == f"IPv4 127.0.0.1:{real_sshd.port} open"
    assert res[("net.tcp", "tb")].details == ("timeout 1 s per connection",)  # was one character per line
    assert all(len(d) > 1 for r in res.values() for d in r.details)
    assert res[("net.banner", "tb")].summary.startswith("IPv4: SSH-2.0-OpenSSH_")
    assert res[("net.hostkey", "tb")].summary == f"[127.0.0.1]:{real_sshd.port} is in known_hosts: ssh-ed25519 in {kh}"


@pytest.mark.sshd
def test_ipv6_loopback(real_sshd: RealSshd) -> None:
    res, _ = run(Target("v6", "::1", real_sshd.port))
    assert res[("net.dns", "v6")].summary == "::1: IPv4 none; IPv6 ::1"
    assert res[("net.family", "v6")].summary == "ssh will connect over IPv6 (::1) [AddressFamily any]"
    assert res[("net.family", "v6")].hint is not None and "from= list with only IPv4 ranges" in res[("net.family", "v6")].hint
    assert res[("net.tcp", "v6")].summary == f"IPv6 [::1]:{real_sshd.port} open"
    assert res[("net.banner", "v6")].status is Status.OK


def test_address_family_inet_forbids_an_ipv6_only_host() -> None:
    res, _ = run(Target("v6", "::1", free_port("::1"), address_family="inet"))
    r = res[("net.dns", "v6")]
    assert (r.status, r.summary) == (Status.FAIL, "::1 has no IPv4 address (IPv4 none; IPv6 ::1)")
    assert res[("net.tcp", "v6")].summary == "skipped: needs net.dns, which did not pass"


@pytest.mark.sshd
def test_hashed_known_hosts_is_found(real_sshd: RealSshd, tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{real_sshd.port} {real_sshd.key_line()}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(kh)], check=True, capture_output=True)
    assert kh.read_text().startswith("|1|")
    res, _ = run(Target("tb", "127.0.0.1", real_sshd.port), known_hosts=(kh,))
    assert res[("net.hostkey", "tb")].summary == f"[127.0.0.1]:{real_sshd.port} is in known_hosts: ssh-ed25519 in {kh} (hashed)"


def test_unknown_host_key_warns(tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text("[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
    res, _ = run(Target("tb", "127.0.0.1", 2222), known_hosts=(kh,))
    r = res[("net.hostkey", "tb")]
    assert (r.status, r.summary) == (Status.WARN, "[127.0.0.1]:2222 is not in known_hosts: the first connection asks you to confirm its key")
    assert r.hint == "connect once in a terminal (ssh tb) and compare the fingerprint with the one the site publishes"


def test_refused_port() -> None:
    port = free_port()
    res, _ = run(Target("dead", "127.0.0.1", port))
    r = res[("net.tcp", "dead")]
    assert (r.status, r.summary) == (Status.FAIL, f"IPv4 127.0.0.1:{port} refused the connection")
    assert r.hint == "wrong host or port, the server is down, or a firewall rejects you; check HostName and Port"
    assert res[("net.banner", "dead")].status is Status.SKIP


def test_tarpit_is_accepted_but_silent(servers: list[Server]) -> None:
    s = Server(mode="tarpit")
    servers.append(s)
    res, _ = run(Target("pit", "127.0.0.1", s.port), timeout=0.5)
    assert res[("net.tcp", "pit")].status is Status.OK
    r = res[("net.banner", "pit")]
    assert (r.status, r.summary) == (Status.FAIL, "IPv4: accepted the connection but sent no SSH banner within 0.5 s")
    assert r.hint is not None and "do not retry quickly" in r.hint and "firewall" in r.hint
    assert s.connections == 1  # one connection serves net.tcp and net.banner


@pytest.mark.parametrize("mode, word", [("close", "closed"), ("reset", "reset")])
def test_closed_before_banner(servers: list[Server], mode: str, word: str) -> None:
    s = Server(mode=mode)
    servers.append(s)
    res, _ = run(Target("c", "127.0.0.1", s.port))
    r = res[("net.banner", "c")]
    assert (r.status, r.summary) == (Status.FAIL, f"IPv4: {word} the connection before sending an SSH banner")
    assert r.hint is not None and "do not retry quickly" in r.hint


def test_not_an_ssh_server(servers: list[Server]) -> None:
    s = Server(mode="close", greeting=b"HTTP/1.1 400 Bad Request\r\n\r\n")
    servers.append(s)
    res, _ = run(Target("web", "127.0.0.1", s.port))
    r = res[("net.banner", "web")]
    assert (r.status, r.summary, r.hint) == (Status.FAIL, "IPv4: answered, but not as an SSH server: 'HTTP/1.1 400 Bad Request'", "the port is wrong: check Port for this host")


def test_banner_after_other_lines(servers: list[Server]) -> None:
    s = Server(mode="tarpit", greeting=b"welcome\r\nSSH-2.0-Test_1.0\r\n")
    servers.append(s)
    res, _ = run(Target("t", "127.0.0.1", s.port))
    assert res[("net.banner", "t")].summary == "IPv4: SSH-2.0-Test_1.0"


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def no(*a: object, **k: object) -> object:  # the OS boundary: no resolver is asked
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no)
    res, _ = run(Target("x", "login.nohost.invalid", 22))
    r = res[("net.dns", "x")]
    assert (r.status, r.summary, r.hint) == (Status.FAIL, "login.nohost.invalid does not resolve", "check the host name and your network or VPN; try: nslookup login.nohost.invalid")
    assert {res[(c, "x")].status for c in ("net.family", "net.tcp", "net.banner")} == {Status.SKIP}


def test_one_family_fails_warns(monkeypatch: pytest.MonkeyPatch, servers: list[Server]) -> None:
    """A dual-stack name whose IPv6 port is closed: ssh falls back, we warn."""
    s = Server("127.0.0.1", mode="tarpit", greeting=b"SSH-2.0-Test\r\n")
    servers.append(s)
    real = socket.getaddrinfo
    v6 = (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", s.port, 0, 0))
    v4 = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", s.port))

    def fake(host: str, port: object, family: int = 0, *a: object, **k: object) -> object:
        if host != "dual.test":
            return real(host, port, family, *a, **k)  # type: ignore[arg-type]
        return {socket.AF_INET: [v4], socket.AF_INET6: [v6]}.get(family, [v6, v4])

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    res, _ = run(Target("d", "dual.test", s.port))
    assert res[("net.family", "d")].summary == "ssh will connect over IPv6 (::1), then IPv4 [AddressFamily any]"
    r = res[("net.tcp", "d")]
    assert (r.status, r.summary) == (Status.WARN, f"IPv6 [::1]:{s.port} refused the connection; IPv4 127.0.0.1:{s.port} open")
    assert r.hint == "IPv6 does not work here; ssh falls back to the other family after ConnectTimeout; set AddressFamily inet for d to skip the wait"


def test_connect_timeout_on_a_full_backlog() -> None:
    """A listener whose backlog is full drops further SYNs, like a firewall DROP."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    try:
        res, _ = run(Target("drop", "127.0.0.1", port), timeout=0.5)
    finally:
        for c in (*fillers, lsock):
            c.close()
    r = res[("net.tcp", "drop")]
    assert (r.status, r.summary) == (Status.FAIL, f"IPv4 127.0.0.1:{port} connection timed out")
    assert r.hint is not None and r.hint.endswith("do not retry quickly: JSC's firewall blocks addresses that connect too often")
