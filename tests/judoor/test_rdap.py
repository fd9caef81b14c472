from __future__ import annotations

import ipaddress
import json
import time

import pytest

from sshsetup.errors import SshSetupError
from sshsetup.judoor import cidr, rdap
from tests.testbed.httpd import RDAP_DIR, EchoMode, echo_factory, rdap_server  # noqa: F401 - fixtures

net = ipaddress.ip_network
ip = ipaddress.ip_address


def _doc(name):
    return json.loads((RDAP_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture
def rdap_env(rdap_server, monkeypatch):
    monkeypatch.setenv(rdap.ENV_URL, rdap_server.url)
    return rdap_server


def test_ipv4_with_cidr0(rdap_env):
    got = rdap.lookup("93.199.55.163")
    assert got == rdap.ProviderBlock(
        ip("93.199.55.163"), (net("93.192.0.0/10"),), "DTAG-DIAL25", "93.192.0.0 - 93.255.255.255",
        rdap_env.url + "ip/93.199.55.163",
    )
    assert cidr.provider_ranges(got.address, got.networks) == cidr.Ranges((net("93.192.0.0/10"),))
    assert rdap_env.requests == [("127.0.0.1", "/ip/93.199.55.163")]


def test_ipv6_with_cidr0_is_narrowed_to_32(rdap_env):
    got = rdap.lookup(ip("2003:e1:1234::1"))
    assert got.networks == (net("2003::/19"),)
    assert got.name == "DE-TELEKOM-20050113"
    assert cidr.provider_ranges(got.address, got.networks) == cidr.Ranges(
        (net("2003:e1::/32"),), ("provider block 2003::/19 is wider than /32; narrowed to 2003:e1::/32",)
    )


def test_start_and_end_only_needs_several_cidrs(rdap_env):
    got = rdap.lookup("200.10.2.7")
    assert got.networks == (net("200.10.0.0/23"), net("200.10.2.0/24"))
    assert "cidr0_cidrs" not in _doc("lacnic-ipv4-range.json")
    assert cidr.provider_ranges(got.address, got.networks).networks == got.networks


def test_the_whole_address_space_is_refused(rdap_env):
    got = rdap.lookup("5.6.7.8")  # only RIPE's IANA-BLK placeholder holds it
    assert got.networks == (net("0.0.0.0/0"),)
    with pytest.raises(SshSetupError, match="not a provider block"):
        cidr.provider_ranges(got.address, got.networks)


def test_no_record_is_a_clear_error(rdap_env):
    with pytest.raises(SshSetupError) as exc:
        rdap.lookup("2a00::1")
    assert exc.value.message == f"RDAP has no record at {rdap_env.url}ip/2a00::1 (404)"
    assert exc.value.hint == rdap._HINT


@pytest.mark.parametrize(
    ("address", "words"),
    [
        pytest.param("10.1.2.3", "no provider block for 10.1.2.3: 10.1.2.3 is a private", id="private"),
        pytest.param("::1", "no provider block for ::1: ::1 is a loopback", id="loopback"),
        pytest.param("example.org", "'example.org' is not an IP address", id="hostname"),
    ],
)
def test_non_public_addresses_are_not_looked_up(rdap_env, address, words):
    with pytest.raises(SshSetupError, match=words):
        rdap.lookup(address)
    assert rdap_env.requests == []


def test_closed_port_is_a_clear_error():
    # conftest points SSHSETUP_RDAP_URL at the closed port 127.0.0.1:9
    with pytest.raises(SshSetupError, match=r"^RDAP query http://127.0.0.1:9/ip/93.199.55.163 failed: .*refused"):
        rdap.lookup("93.199.55.163", timeout=1)


def test_a_hanging_server_times_out(echo_factory, monkeypatch):
    hang = echo_factory("127.0.0.1", EchoMode.HANG)
    monkeypatch.setenv(rdap.ENV_URL, hang.url)
    start = time.monotonic()
    with pytest.raises(SshSetupError, match="failed: timed out"):
        rdap.lookup("93.199.55.163", timeout=1)
    assert time.monotonic() - start < 1.5


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        pytest.param("<html>rate limited</html>", "is not JSON", id="not-json"),
        pytest.param('{"errorCode": 500}', "is not an IP network object", id="not-ip-network"),
        pytest.param(
            json.dumps({"objectClassName": "ip network", "startAddress": "1.0.0.0", "endAddress": "0.0.0.1"}),
            "has no usable range: bad address range", id="reversed-range",
        ),
        pytest.param(
            json.dumps({"objectClassName": "ip network", "cidr0_cidrs": [{"v4prefix": "1.0.0.0"}]}),
            "has no usable range: malformed cidr0_cidrs entry", id="bad-cidr0",
        ),
        pytest.param(
            json.dumps({"objectClassName": "ip network", "startAddress": "1.0.0.0", "endAddress": "1.0.0.255"}),
            "does not contain 93.199.55.163", id="wrong-network",
        ),
    ],
)
def test_bad_answers_are_clear_errors(echo_factory, monkeypatch, answer, words):
    server = echo_factory("127.0.0.1", EchoMode.FIXED, answer)
    monkeypatch.setenv(rdap.ENV_URL, server.url)
    with pytest.raises(SshSetupError, match=words):
        rdap.lookup("93.199.55.163", timeout=2)


def test_bootstrap_then_query_and_cache(rdap_server, monkeypatch, tmp_path):
    monkeypatch.delenv(rdap.ENV_URL)
    boot = {4: rdap_server.url + "bootstrap/ipv4.json", 6: rdap_server.url + "bootstrap/ipv6.json"}
    got = rdap.lookup("93.199.55.163", cache_dir=tmp_path / "cache", bootstrap_urls=boot)
    assert got.url == rdap_server.url + "rdap/ip/93.199.55.163"
    assert got.networks == (net("93.192.0.0/10"),)
    again = rdap.lookup("200.10.0.9", cache_dir=tmp_path / "cache", bootstrap_urls=boot)
    assert again.networks == (net("200.10.0.0/23"), net("200.10.2.0/24"))
    assert [p for _, p in rdap_server.requests] == [
        "/bootstrap/ipv4.json", "/rdap/ip/93.199.55.163", "/rdap/ip/200.10.0.9",  # the second used the cache
    ]
    assert (tmp_path / "cache" / "rdap-bootstrap-ipv4.json").is_file()
    v6 = rdap.lookup("2003:e1::1", bootstrap_urls=boot)  # no cache dir: fetched every time
    assert v6.networks == (net("2003::/19"),)


def test_bootstrap_without_a_registry(echo_factory, monkeypatch):
    monkeypatch.delenv(rdap.ENV_URL)
    server = echo_factory("127.0.0.1", EchoMode.FIXED, json.dumps({"services": [[["2003::/16"], ["https://x/"]]]}))
    with pytest.raises(SshSetupError, match="lists no registry for 93.199.55.163"):
        rdap.lookup("93.199.55.163", bootstrap_urls={4: server.url, 6: server.url}, timeout=2)


def test_rdap_url_must_be_http(monkeypatch):
    monkeypatch.setenv(rdap.ENV_URL, "file:///etc/passwd")
    with pytest.raises(SshSetupError, match="is not http"):
        rdap.lookup("93.199.55.163")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("ripe-ipv4-cidr0.json", ["93.192.0.0/10"], id="v4-cidr0"),
        pytest.param("ripe-ipv6-cidr0.json", ["2003::/19"], id="v6-cidr0"),
        pytest.param("lacnic-ipv4-range.json", ["200.10.0.0/23", "200.10.2.0/24"], id="v4-range"),
        pytest.param("ripe-iana-blk.json", ["0.0.0.0/0"], id="iana-blk"),
    ],
)
def test_networks_from_recorded_documents(name, expected):
    assert rdap.networks_from(_doc(name)) == tuple(net(e) for e in expected)


def test_networks_from_range_with_prefix_suffix():
    doc = {"startAddress": "2001:db8::/128", "endAddress": "2001:db8:0:ffff:ffff:ffff:ffff:ffff"}
    assert rdap.networks_from(doc) == (net("2001:db8::/48"),)


def test_base_from_bootstrap_longest_prefix_and_https():
    doc = {
        "services": [
            [["93.0.0.0/8"], ["http://wide.example/rdap/", "https://wide.example/rdap/"]],
            [["93.192.0.0/10", "bogus"], ["https://narrow.example/"]],
            "junk",
            [["93.199.0.0/16"], "https://not-a-list.example/"],
        ]
    }
    assert rdap.base_from_bootstrap(doc, ip("93.199.55.163")) == "https://narrow.example/"
    assert rdap.base_from_bootstrap(doc, ip("93.1.2.3")) == "https://wide.example/rdap/"
    assert rdap.base_from_bootstrap(doc, ip("2003::1")) is None


def test_http_error_is_a_clear_error(echo_factory, monkeypatch):
    server = echo_factory("127.0.0.1", EchoMode.FIXED, '{"errorCode": 429}', status=429)
    monkeypatch.setenv(rdap.ENV_URL, server.url)
    with pytest.raises(SshSetupError, match="failed: HTTP 429 Too Many Requests$"):
        rdap.lookup("93.199.55.163", timeout=2)


def test_no_time_left_is_a_timeout(rdap_env):
    with pytest.raises(SshSetupError, match="RDAP lookup timed out before"):
        rdap.lookup("93.199.55.163", timeout=0)
    assert rdap_env.requests == []


def test_an_unwritable_cache_is_not_an_error(rdap_server, monkeypatch, tmp_path):
    monkeypatch.delenv(rdap.ENV_URL)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    boot = {4: rdap_server.url + "bootstrap/ipv4.json", 6: rdap_server.url + "bootstrap/ipv6.json"}
    assert rdap.lookup("93.199.55.163", cache_dir=blocker / "cache", bootstrap_urls=boot).name == "DTAG-DIAL25"


def test_a_broken_cache_is_refetched(rdap_server, monkeypatch, tmp_path):
    monkeypatch.delenv(rdap.ENV_URL)
    (tmp_path / "rdap-bootstrap-ipv4.json").write_text("{not json")
    boot = {4: rdap_server.url + "bootstrap/ipv4.json", 6: rdap_server.url + "bootstrap/ipv6.json"}
    assert rdap.lookup("93.199.55.163", cache_dir=tmp_path, bootstrap_urls=boot).name == "DTAG-DIAL25"
    assert json.loads((tmp_path / "rdap-bootstrap-ipv4.json").read_text())["services"]


def test_networks_from_without_addresses():
    with pytest.raises(ValueError, match="not an address: None"):
        rdap.networks_from({"objectClassName": "ip network"})


def test_bootstrap_that_is_not_an_object(echo_factory, monkeypatch):
    monkeypatch.delenv(rdap.ENV_URL)
    server = echo_factory("127.0.0.1", EchoMode.FIXED, "[1, 2]")
    with pytest.raises(SshSetupError, match="is not an RDAP bootstrap file"):
        rdap.lookup("93.199.55.163", bootstrap_urls={4: server.url, 6: server.url}, timeout=2)


# ---------------------------------------------------------------- issue 12 item 9: one deadline for the lookup

from tests.judoor.test_ipecho import dripper  # noqa: E402, F401 - fixture (a real dripping HTTP server)


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_dripping_server_is_cut_off_at_the_deadline(dripper, monkeypatch, part):
    drip = dripper("127.0.0.1", part)
    monkeypatch.setenv(rdap.ENV_URL, drip.url)
    start = time.monotonic()
    with pytest.raises(SshSetupError) as exc:
        rdap.lookup("93.199.55.163", timeout=1)
    elapsed = time.monotonic() - start
    assert elapsed < 1.5, f"held open for {elapsed:.1f} s"
    assert exc.value.message == f"RDAP query {drip.url}ip/93.199.55.163 failed: timed out"
    assert exc.value.hint == rdap._HINT
    assert drip.sent[0] >= 3  # it was dripping


def test_the_deadline_covers_bootstrap_and_query_together(dripper, rdap_server, monkeypatch):
    """A bootstrap that drips for most of the budget leaves only the rest for the query."""
    monkeypatch.delenv(rdap.ENV_URL)
    drip = dripper("127.0.0.1", "body")
    start = time.monotonic()
    with pytest.raises(SshSetupError, match="failed: timed out"):
        rdap.lookup("93.199.55.163", timeout=1, bootstrap_urls={4: drip.url, 6: drip.url})
    assert time.monotonic() - start < 1.5


class _Redirects:
    """A real HTTP server on 127.0.0.1 that redirects ``/ip/...`` ``hops`` times, then to ``target``."""

    def __init__(self, target: str, hops: int = 1) -> None:
        import http.server
        import threading

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                outer.paths.append(self.path)
                n, rest = 0, self.path
                if self.path.startswith("/hop/"):
                    _, _, num, tail = self.path.split("/", 3)
                    n, rest = int(num), "/" + tail
                location = f"/hop/{n + 1}{rest}" if n + 1 < outer.hops else target + rest.lstrip("/")
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.hops = hops
        self.paths: list[str] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_a_redirect_is_followed_within_the_deadline(rdap_server, monkeypatch):
    hop = _Redirects(rdap_server.url)
    try:
        monkeypatch.setenv(rdap.ENV_URL, hop.url)
        got = rdap.lookup("93.199.55.163", timeout=2)
    finally:
        hop.close()
    assert got.name == "DTAG-DIAL25"
    assert got.url == rdap_server.url + "ip/93.199.55.163"
    assert hop.paths == ["/ip/93.199.55.163"]


def test_a_redirect_to_another_scheme_is_refused(monkeypatch):
    hop = _Redirects("file:///etc/")
    try:
        monkeypatch.setenv(rdap.ENV_URL, hop.url)
        with pytest.raises(SshSetupError, match=r"^RDAP URL 'file:///etc/ip/93.199.55.163' is not http\(s\)$"):
            rdap.lookup("93.199.55.163", timeout=2)
    finally:
        hop.close()


def test_a_redirect_loop_ends(monkeypatch):
    hop = _Redirects("http://127.0.0.1:9/", hops=10)
    try:
        monkeypatch.setenv(rdap.ENV_URL, hop.url)
        with pytest.raises(SshSetupError, match="failed: more than 3 redirects$"):
            rdap.lookup("93.199.55.163", timeout=2)
    finally:
        hop.close()
    assert len(hop.paths) == 4
