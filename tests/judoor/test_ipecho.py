from __future__ import annotations

import ipaddress
import time

import pytest

from sshsetup.judoor import ipecho
from sshsetup.judoor.cidr import Kind
from tests.testbed.httpd import EchoMode, echo4, echo6, echo_factory  # noqa: F401 - fixtures

ip = ipaddress.ip_address
ENV = ipecho.ENV_URLS


def test_ipv4_over_loopback_is_detected_but_not_public(echo4, monkeypatch):
    monkeypatch.setenv(ENV, echo4.url)
    got = ipecho.detect(4)
    assert got.detected == ip("127.0.0.1")
    assert got.address is None
    assert got.url == echo4.url
    assert got.classification is not None
    assert got.classification.kind is Kind.LOOPBACK
    assert got.error == f"{echo4.url} answered {got.classification.explanation}"
    assert "127.0.0.1 is a loopback address" in got.error
    assert got.reached_a_service
    assert echo4.requests == [("127.0.0.1", "/")]


def test_ipv6_over_loopback_is_detected_but_not_public(echo6, monkeypatch):
    monkeypatch.setenv(ENV, echo6.url)
    got = ipecho.detect(6)
    assert got.family == 6
    assert got.detected == ip("::1")
    assert got.address is None
    assert got.classification is not None and got.classification.kind is Kind.LOOPBACK
    assert echo6.requests == [("::1", "/")]


def test_the_family_is_pinned_per_url(echo4, echo6, monkeypatch):
    monkeypatch.setenv(ENV, f"{echo6.url},{echo4.url}")
    v4, v6 = ipecho.detect_both(timeout=2)
    assert (v4.detected, v6.detected) == (ip("127.0.0.1"), ip("::1"))
    assert v4.attempts[0].url == echo6.url
    assert v4.attempts[0].error is not None and v4.attempts[0].error.startswith("no IPv4 address for ::1")
    assert v6.attempts[1].error is not None and v6.attempts[1].error.startswith("no IPv6 address for 127.0.0.1")
    assert echo4.requests == [("127.0.0.1", "/")]
    assert echo6.requests == [("::1", "/")]


def test_a_public_answer_is_the_address(echo_factory, monkeypatch):
    server = echo_factory("127.0.0.1", EchoMode.FIXED, "93.199.55.163\n")
    monkeypatch.setenv(ENV, server.url)
    got = ipecho.detect(4)
    assert got.address == got.detected == ip("93.199.55.163")
    assert got.error is None
    assert got.classification is not None and got.classification.is_public


def test_a_later_public_answer_wins_over_a_private_one(echo_factory, monkeypatch):
    private = echo_factory("::1", EchoMode.FIXED, "fd00::5")
    public = echo_factory("::1", EchoMode.FIXED, "2003:e1::1")
    monkeypatch.setenv(ENV, f"{private.url},{public.url}")
    got = ipecho.detect(6)
    assert got.address == ip("2003:e1::1")
    assert got.url == public.url
    assert [a.error for a in got.attempts] == [None, None]


@pytest.mark.parametrize(
    ("answer", "kind", "words"),
    [
        pytest.param("192.168.178.20", Kind.PRIVATE, "NAT or a VPN", id="private"),
        pytest.param("100.64.12.1", Kind.CGNAT, "carrier-grade NAT", id="cgnat"),
        pytest.param("169.254.3.3", Kind.LINK_LOCAL, "link-local", id="link-local"),
    ],
)
def test_non_public_answers_are_explained(echo_factory, monkeypatch, answer, kind, words):
    server = echo_factory("127.0.0.1", EchoMode.FIXED, answer)
    monkeypatch.setenv(ENV, server.url)
    got = ipecho.detect(4)
    assert got.address is None
    assert got.detected == ip(answer)
    assert got.classification is not None and got.classification.kind is kind
    assert got.error is not None and words in got.error


def test_garbage_is_reported(echo_factory, monkeypatch):
    server = echo_factory("127.0.0.1", EchoMode.GARBAGE)
    monkeypatch.setenv(ENV, server.url)
    got = ipecho.detect(4)
    assert got.address is None and got.detected is None
    assert got.attempts == (
        ipecho.Attempt(
            server.url,
            "<html><body>Your IP is hidden</body></html>",
            "garbage answer (not an IP address): '<html><body>Your IP is hidden</body></html>'",
        ),
    )
    assert got.error == f"no public IPv4 address found ({server.url}: {got.attempts[0].error})"
    assert got.reached_a_service


def test_wrong_family_answer_is_reported(echo_factory, monkeypatch):
    server = echo_factory("::1", EchoMode.FIXED, "93.199.55.163")
    monkeypatch.setenv(ENV, server.url)
    got = ipecho.detect(6)
    assert got.address is None
    assert got.attempts[0].error == "answered an IPv4 address over IPv6"


@pytest.mark.parametrize("host", [pytest.param("127.0.0.1", id="v4"), pytest.param("::1", id="v6")])
def test_a_hanging_server_times_out_within_the_budget(echo_factory, monkeypatch, host):
    hang = echo_factory(host, EchoMode.HANG)
    never = echo_factory(host)  # would answer, but the budget is used up by then
    monkeypatch.setenv(ENV, f"{hang.url},{never.url}")
    family = 6 if ":" in host else 4
    start = time.monotonic()
    got = ipecho.detect(family, timeout=1.0)
    elapsed = time.monotonic() - start
    assert elapsed < 1.0 + 0.5
    assert got.address is None and got.detected is None
    assert [a.error for a in got.attempts] == ["timed out (budget 1 s)", "skipped: time budget used up"]
    assert never.requests == []
    assert not got.reached_a_service


def test_both_families_run_in_parallel_within_one_budget(echo_factory, monkeypatch):
    hang4 = echo_factory("127.0.0.1", EchoMode.HANG)
    hang6 = echo_factory("::1", EchoMode.HANG)
    monkeypatch.setenv(ENV, f"{hang4.url},{hang6.url}")
    start = time.monotonic()
    v4, v6 = ipecho.detect_both(timeout=1.0)
    assert time.monotonic() - start < 1.0 + 0.5
    assert v4.attempts[0].error == v6.attempts[1].error == "timed out (budget 1 s)"


def test_no_network_closed_port(monkeypatch):
    # conftest points the URLs at the closed port 127.0.0.1:9
    got = ipecho.detect(4, timeout=1)
    assert got.address is None
    assert got.error == "no public IPv4 address found (http://127.0.0.1:9/: connection refused)"
    assert not got.reached_a_service
    assert "--from" in ipecho.NO_NETWORK_HINT


def test_bad_url_in_the_environment(monkeypatch):
    monkeypatch.setenv(ENV, "ftp://127.0.0.1/, ,notaurl")
    got = ipecho.detect(4, timeout=1)
    assert [(a.url, a.error) for a in got.attempts] == [
        ("ftp://127.0.0.1/", "not an http(s) URL"),
        ("notaurl", "not an http(s) URL"),
    ]


def test_configured_urls(monkeypatch):
    assert ipecho.configured_urls(4, {}) == ipecho.DEFAULT_URLS[4]
    assert ipecho.configured_urls(6, {ENV: "  "}) == ipecho.DEFAULT_URLS[6]
    assert ipecho.configured_urls(6, {ENV: "http://[::1]:1/a, http://127.0.0.1:2/"}) == (
        "http://[::1]:1/a",
        "http://127.0.0.1:2/",
    )
    assert all(u.startswith("https://") for fam in (4, 6) for u in ipecho.DEFAULT_URLS[fam])


def test_explicit_urls_and_bad_family(echo4):
    assert ipecho.detect(4, urls=[echo4.url]).detected == ip("127.0.0.1")
    assert ipecho.detect(4, urls=[]).error == "no public IPv4 address found (no echo URLs configured)"
    with pytest.raises(ValueError, match="family must be 4 or 6"):
        ipecho.detect(5)


def test_http_error_status_is_reported(echo_factory, monkeypatch):
    server = echo_factory("127.0.0.1", EchoMode.FIXED, "slow down", status=429)
    monkeypatch.setenv(ENV, server.url)
    got = ipecho.detect(4)
    assert got.attempts == (ipecho.Attempt(server.url, "slow down", "HTTP 429 Too Many Requests"),)


def test_https_to_a_plain_http_server_is_a_tls_error(echo4, monkeypatch):
    url = echo4.url.replace("http://", "https://")
    monkeypatch.setenv(ENV, url)
    got = ipecho.detect(4, timeout=2)
    assert got.address is None
    assert got.attempts[0].error is not None and got.attempts[0].error.startswith("TLS error: ")


def test_a_slow_dns_lookup_is_bounded(monkeypatch):
    import socket

    def slow_getaddrinfo(*args, **kwargs):  # the OS resolver boundary, not our code
        time.sleep(1.5)
        raise socket.gaierror("too late")

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    start = time.monotonic()
    got = ipecho.detect(4, urls=["http://echo.invalid/"], timeout=0.5)
    assert time.monotonic() - start < 0.5 + 0.5
    assert got.attempts == (ipecho.Attempt("http://echo.invalid/", None, "timed out (budget 0.5 s)"),)


# ---------------------------------------------------------------- issue 12 item 9: one deadline per request


class Dripper:
    """A real HTTP server on loopback that answers one byte every ``interval`` seconds (a tarpit for clients
    whose timeout applies to each read). ``part``: drip the "headers" or, after prompt headers, the "body"."""

    def __init__(self, host: str, part: str, interval: float = 0.1, answer: bytes = b"93.199.55.163\n") -> None:
        import socket
        import threading

        self.part, self.interval, self.answer = part, interval, answer
        self.stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        port = self.sock.getsockname()[1]
        self.url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
        self.sent: list[int] = []  # bytes dripped per connection
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        import threading

        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, conn) -> None:
        pad = b"X-Padding: " + b"." * 400 + b"\r\n"
        head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n" + pad + b"Content-Length: %d\r\n\r\n"
        body = self.answer + b" " * 400  # long enough to take 40 s at 0.1 s a byte
        head = head % len(body)
        index = len(self.sent)
        self.sent.append(0)
        with conn:
            conn.settimeout(5)
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                prompt, dripped = (b"", head + body) if self.part == "headers" else (head, body)
                conn.sendall(prompt)
                for byte in dripped:
                    if self.stop.wait(self.interval):
                        return
                    conn.sendall(bytes([byte]))
                    self.sent[index] += 1
            except OSError:  # the client gave up: what we want
                return

    def close(self) -> None:
        self.stop.set()
        self.acceptor.join(5)
        self.sock.close()
        for t in self.threads:
            t.join(5)
        assert not self.acceptor.is_alive() and not any(t.is_alive() for t in self.threads)


@pytest.fixture
def dripper():
    started: list[Dripper] = []

    def make(host: str = "127.0.0.1", part: str = "headers", interval: float = 0.1) -> Dripper:
        started.append(Dripper(host, part, interval))
        return started[-1]

    try:
        yield make
    finally:
        for d in started:
            d.close()


@pytest.mark.parametrize("part", ["headers", "body"])
@pytest.mark.parametrize("host", [pytest.param("127.0.0.1", id="v4"), pytest.param("::1", id="v6")])
def test_a_dripping_server_is_cut_off_at_the_deadline(dripper, monkeypatch, host, part):
    drip = dripper(host, part)
    monkeypatch.setenv(ENV, drip.url)
    family = 6 if ":" in host else 4
    start = time.monotonic()
    got = ipecho.detect(family, timeout=1.0)
    elapsed = time.monotonic() - start
    assert elapsed < 1.0 + 0.5, f"held open for {elapsed:.1f} s"
    assert got.attempts == (ipecho.Attempt(drip.url, None, "timed out (budget 1 s)"),)
    assert got.address is None and not got.reached_a_service
    assert 3 <= drip.sent[0] <= 15  # it really was dripping (about 10 bytes in 1 s), and was cut off


def test_http_get_deadline_covers_the_whole_request(dripper):
    drip = dripper("127.0.0.1", "body", interval=0.05)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        ipecho.http_get(drip.url, deadline=time.monotonic() + 0.5, max_bytes=1000)
    assert time.monotonic() - start < 0.5 + 0.4
    with pytest.raises(TimeoutError):
        ipecho.http_get(drip.url, deadline=time.monotonic(), max_bytes=1000)  # no time left: no request at all
    assert len(drip.sent) == 1


def test_http_get_any_family_and_a_quick_answer(echo_factory):
    server = echo_factory("::1", EchoMode.FIXED, "hello")
    resp = ipecho.http_get(server.url + "path?q=1", deadline=time.monotonic() + 2, max_bytes=3)
    assert (resp.status, resp.reason, resp.body) == (200, "OK", b"hel")
    assert server.requests == [("::1", "/path?q=1")]


def test_key_line_is_not_held_open_by_dripping_echo_servers(dripper, key, fake_home):
    """The whole way: `sshsetup key-line` against tarpits on both families ends after its 3 s budget."""
    import os
    import subprocess
    import sys

    v4, v6 = dripper("127.0.0.1", "headers"), dripper("::1", "body")
    env = {**os.environ, ENV: f"{v4.url},{v6.url}"}
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "sshsetup", "key-line", "--key", str(key)], env=env,
                       capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert elapsed < ipecho.DEFAULT_TIMEOUT + 3.0, f"held open for {elapsed:.1f} s"
    assert r.returncode == 1, r.stderr
    assert r.stderr.splitlines() == ["error: cannot determine your public address (no network)", f"hint: {ipecho.NO_NETWORK_HINT}"]
    assert v4.sent[0] >= 3 and v6.sent[0] >= 3  # both were really dripping
