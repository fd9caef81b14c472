"""Real local HTTP servers for the network tests: an IP echo service and an RDAP service.

Both are threaded ``http.server`` instances on loopback only (127.0.0.1 or ::1,
free ports) and stop at fixture teardown. Nothing here talks to the internet.

* ``start_echo(host, mode)``: answers with the client's address (``normal``),
  never answers until stopped (``hang``), answers HTML (``garbage``) or a fixed
  text (``fixed``, e.g. a private address).
* ``start_rdap(host)``: serves the recorded-style RDAP documents in
  ``tests/data/rdap/`` under ``/ip/<addr>`` (the most specific network that holds
  the address, else an RDAP 404), and IANA-style bootstrap files
  ``/bootstrap/ipv4.json`` and ``/bootstrap/ipv6.json`` that point back at the server.
  The documents are modelled on RIPE NCC / LACNIC answers; they are test data, not live data.
"""

from __future__ import annotations

import enum
import http.server
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

RDAP_DIR = Path(__file__).resolve().parent.parent / "data" / "rdap"


class EchoMode(str, enum.Enum):
    NORMAL = "normal"
    HANG = "hang"
    GARBAGE = "garbage"
    FIXED = "fixed"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, handler: type[http.server.BaseHTTPRequestHandler], owner: Running) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.owner = owner
        super().__init__((host, 0), handler)


@dataclass
class Running:
    """A started server: ``url`` is its base (``http://127.0.0.1:PORT/`` or ``http://[::1]:PORT/``)."""

    host: str
    mode: EchoMode = EchoMode.NORMAL
    answer: str = ""
    status: int = 200  # the HTTP status of ``fixed`` answers
    requests: list[tuple[str, str]] = field(default_factory=list)  # (client address, path)
    stopping: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}/"

    def start(self, handler: type[http.server.BaseHTTPRequestHandler]) -> Running:
        self._server = _Server(self.host, handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"httpd-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # releases hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    def send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _EchoHandler(_Handler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        owner = self.server.owner
        owner.requests.append((self.client_address[0], self.path))
        if owner.mode is EchoMode.HANG:
            owner.stopping.wait(30)
            return
        text = {
            EchoMode.NORMAL: self.client_address[0] + "\n",
            EchoMode.GARBAGE: "<html><body>Your IP is hidden</body></html>\n",
            EchoMode.FIXED: owner.answer,
        }[owner.mode]
        self.send(owner.status if owner.mode is EchoMode.FIXED else 200, text.encode(), "text/plain")


def load_rdap_documents() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RDAP_DIR.glob("*.json"))]


def _bootstrap(version: int, base: str) -> dict[str, Any]:
    everything = "0.0.0.0/0" if version == 4 else "::/0"
    return {
        "version": "1.0",
        "publication": "2026-11-01T00:00:00Z",
        "description": f"RDAP bootstrap file for IPv{version} address allocations (test copy)",
        "services": [[[everything], [base]]],
    }


class _RdapHandler(_Handler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        owner = self.server.owner
        owner.requests.append((self.client_address[0], self.path))
        ctype = "application/rdap+json"
        if self.path in ("/bootstrap/ipv4.json", "/bootstrap/ipv6.json"):
            doc = _bootstrap(4 if "ipv4" in self.path else 6, owner.url + "rdap/")
            self.send(200, json.dumps(doc).encode(), "application/json")
            return
        prefix = "/rdap/ip/" if self.path.startswith("/rdap/") else "/ip/"
        if not self.path.startswith(prefix):
            self.send(400, b'{"errorCode": 400, "title": "bad request"}', ctype)
            return
        try:
            addr = ipaddress.ip_address(self.path[len(prefix) :])
        except ValueError:
            self.send(400, b'{"errorCode": 400, "title": "bad address"}', ctype)
            return
        best: tuple[int, dict[str, Any]] | None = None
        for doc in load_rdap_documents():
            start, end = ipaddress.ip_address(doc["startAddress"]), ipaddress.ip_address(doc["endAddress"])
            if start.version == addr.version and start <= addr <= end:  # type: ignore[operator]
                size = int(end) - int(start)
                if best is None or size < best[0]:
                    best = (size, doc)
        if best is None:
            self.send(404, b'{"errorCode": 404, "title": "not found"}', ctype)
            return
        self.send(200, json.dumps(best[1]).encode(), ctype)


def start_echo(
    host: str = "127.0.0.1", mode: EchoMode = EchoMode.NORMAL, answer: str = "", status: int = 200
) -> Running:
    """Start an IP echo server; call ``.stop()`` (the fixtures below do)."""
    return Running(host, mode, answer, status).start(_EchoHandler)


def start_rdap(host: str = "127.0.0.1") -> Running:
    return Running(host).start(_RdapHandler)


def _serve(server: Running) -> Iterator[Running]:
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def echo4() -> Iterator[Running]:
    """IP echo server on 127.0.0.1 (normal mode)."""
    yield from _serve(start_echo("127.0.0.1"))


@pytest.fixture
def echo6() -> Iterator[Running]:
    """IP echo server on ::1 (normal mode)."""
    yield from _serve(start_echo("::1"))


@pytest.fixture
def echo_factory() -> Iterator[Any]:
    """``make(host, mode, answer="", status=200)`` starts more echo servers; all stop at teardown."""
    started: list[Running] = []

    def make(host: str = "127.0.0.1", mode: EchoMode = EchoMode.NORMAL, answer: str = "", status: int = 200) -> Running:
        started.append(start_echo(host, mode, answer, status))
        return started[-1]

    try:
        yield make
    finally:
        for s in started:
            s.stop()


@pytest.fixture
def rdap_server() -> Iterator[Running]:
    """RDAP server on 127.0.0.1 serving tests/data/rdap/*.json."""
    yield from _serve(start_rdap("127.0.0.1"))
