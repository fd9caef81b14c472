"""Find the public IPv4 and IPv6 egress addresses with plain-text "what is my IP" services.

Each family has its own budget (``timeout``, about 3 s), one deadline for
everything (DNS, connect, TLS, the answer: a server that drips a byte a second
is cut off at the deadline, see ``http_get``): the URLs are tried one
after another over a socket pinned to that family (getaddrinfo filtered by
AF_INET/AF_INET6, so ``http://127.0.0.1:…`` is IPv4 only and ``http://[::1]:…``
IPv6 only), the first public answer wins, and nothing is tried after the
deadline. No retries. ``SSHSETUP_IP_ECHO_URLS`` (comma-separated) replaces the
list for both families.

A detected address that is not public (private, CGNAT, loopback, ...) is never
returned as ``address``: it stays in ``detected`` with its ``classification``
so the caller can explain it (VPN, NAT, or a wrong echo service).
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sshsetup.judoor.cidr import Address, Classification, classify

if TYPE_CHECKING:
    import http.client

ENV_URLS = "SSHSETUP_IP_ECHO_URLS"
DEFAULT_TIMEOUT = 3.0
DEFAULT_URLS: dict[int, tuple[str, ...]] = {
    4: ("https://api.ipify.org/", "https://ipv4.icanhazip.com/"),
    6: ("https://api6.ipify.org/", "https://ipv6.icanhazip.com/"),
}
NO_NETWORK_HINT = (
    "no echo service answered (no network?); give your ranges yourself: "
    "sshsetup key-line --from 93.199.0.0/16 --from 2001:db8::/48"
)
_MAX_BODY = 200
_USER_AGENT = "sshsetup-ipecho/1"


@dataclass(frozen=True)
class Attempt:
    url: str
    answer: str | None  # the (stripped, shortened) body, if any
    error: str | None  # None when the answer was an address of the right family


@dataclass(frozen=True)
class EchoResult:
    family: int  # 4 or 6
    address: Address | None  # the public egress address, or None
    url: str | None  # the URL whose answer is in ``detected``
    error: str | None  # why there is no public address (None when ``address`` is set)
    detected: Address | None = None  # the raw address an echo service answered, public or not
    classification: Classification | None = None
    attempts: tuple[Attempt, ...] = ()

    @property
    def reached_a_service(self) -> bool:
        """False when no URL answered at all (offline, DNS failure, timeouts)."""
        return any(a.answer is not None for a in self.attempts)


def configured_urls(family: int, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    env = os.environ if environ is None else environ
    raw = env.get(ENV_URLS, "").strip()
    if not raw:
        return DEFAULT_URLS[family]
    return tuple(u.strip() for u in raw.split(",") if u.strip())


def _resolve(host: str, port: int, family: int, timeout: float) -> list[Any]:
    """getaddrinfo for one family, bounded by ``timeout`` (the lookup runs in a daemon thread)."""
    import socket

    af = socket.AF_INET if family == 4 else socket.AF_INET6
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(socket.getaddrinfo(host, port, af, socket.SOCK_STREAM))
        except OSError as e:
            box.append(e)

    t = threading.Thread(target=run, daemon=True, name="sshsetup-getaddrinfo")
    t.start()
    t.join(max(timeout, 0.0))
    if not box:
        raise TimeoutError(f"looking up {host} timed out")
    if isinstance(box[0], OSError):
        raise OSError(f"no IPv{family} address for {host} ({box[0].strerror or box[0]})")
    return [info[4] for info in box[0]]


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    body: bytes  # at most ``max_bytes``
    location: str | None = None  # the Location header of a redirect


def _connection(url: str, family: int | None, deadline: float, on_socket: Callable[[Any], None]) -> http.client.HTTPConnection:
    """An HTTP(S) connection pinned to ``family`` (None: any) and bounded by ``deadline``.

    ``on_socket`` is told every socket the connection creates (the plain one, then the TLS one),
    so that a watchdog can shut it down when the deadline passes.
    """
    import http.client
    import socket
    import ssl

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)

    def addresses() -> list[tuple[int, Any]]:
        if family is not None:
            af = socket.AF_INET if family == 4 else socket.AF_INET6
            return [(af, a) for a in _resolve(host, port, family, deadline - time.monotonic())]
        out: list[tuple[int, Any]] = []
        for fam, af in ((6, socket.AF_INET6), (4, socket.AF_INET)):
            try:
                out += [(af, a) for a in _resolve(host, port, fam, deadline - time.monotonic())]
            except OSError as e:
                if isinstance(e, TimeoutError):
                    raise
        return out

    class Pinned(http.client.HTTPConnection):
        def connect(self) -> None:
            last: OSError = OSError(f"no IPv{family} address for {host}" if family else f"no address for {host}")
            for af, sockaddr in addresses():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"connecting to {host} timed out")
                sock = socket.socket(af, socket.SOCK_STREAM)
                on_socket(sock)
                sock.settimeout(left)
                try:
                    sock.connect(sockaddr)
                except OSError as e:
                    sock.close()
                    last = e
                    continue
                if parts.scheme == "https":
                    try:
                        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
                    except OSError:  # ssl.SSLError and timeouts: don't leak the plain socket
                        sock.close()
                        raise
                    on_socket(sock)
                self.sock = sock
                return
            raise last

    return Pinned(host, port, timeout=max(deadline - time.monotonic(), 0.001))


def http_get(
    url: str,
    *,
    deadline: float,
    max_bytes: int,
    family: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """GET ``url``; the whole request (DNS, connect, TLS, headers, body) ends by ``deadline`` (time.monotonic).

    A per-read timeout alone lets a server that drips a byte a second hold the request open for
    ever; here a watchdog shuts the socket down at the deadline, whatever the request is doing.
    Raises TimeoutError at the deadline, ValueError for a URL that is not http(s), OSError,
    ssl.SSLError or http.client.HTTPException for the rest.
    """
    import socket

    lock = threading.Lock()
    state: dict[str, Any] = {"sock": None, "done": False}
    expired = threading.Event()

    def cut(sock: Any) -> None:
        try:  # the plain socket's shutdown, also for a TLS socket: any blocked read returns at once
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def remember(sock: Any) -> None:
        with lock:
            state["sock"] = sock
            if expired.is_set():  # created just after the watchdog fired
                cut(sock)

    def fire() -> None:
        with lock:
            expired.set()
            if state["sock"] is not None and not state["done"]:
                cut(state["sock"])

    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no time left for the request")
    conn = _connection(url, family, deadline, remember)
    timer = threading.Timer(left, fire)
    timer.daemon = True
    timer.start()
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("GET", path, headers={"User-Agent": _USER_AGENT, **(headers or {})})
        resp = conn.getresponse()
        body = resp.read(max_bytes)
        result = Response(resp.status, resp.reason, body, resp.getheader("Location"))
    except Exception:
        if expired.is_set():
            raise TimeoutError("the deadline passed") from None
        raise
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
        conn.close()
    if expired.is_set():  # the watchdog may have cut the body short without an error
        raise TimeoutError("the deadline passed")
    return result


def _describe(exc: BaseException, budget: float) -> str:
    import ssl

    if isinstance(exc, TimeoutError):
        return f"timed out (budget {budget:g} s)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    return str(exc) or type(exc).__name__


def _fetch(url: str, family: int, deadline: float, budget: float) -> Attempt:
    try:
        resp = http_get(url, deadline=deadline, max_bytes=_MAX_BODY, family=family, headers={"Accept": "text/plain"})
    except ValueError as e:
        return Attempt(url, None, str(e))
    except Exception as e:  # noqa: BLE001 - every failure becomes a reported attempt
        return Attempt(url, None, _describe(e, budget))
    body = resp.body.decode("utf-8", "replace").strip()
    shown = body[:60]
    if resp.status != 200:
        return Attempt(url, shown, f"HTTP {resp.status} {resp.reason}")
    try:
        addr = ipaddress.ip_address(body)
    except ValueError:
        return Attempt(url, shown, f"garbage answer (not an IP address): {shown!r}")
    if addr.version != family:
        return Attempt(url, shown, f"answered an IPv{addr.version} address over IPv{family}")
    return Attempt(url, shown, None)


def detect(
    family: int, urls: Sequence[str] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> EchoResult:
    """The public address of one family (4 or 6); never raises for network trouble."""
    if family not in (4, 6):
        raise ValueError(f"family must be 4 or 6, not {family!r}")
    todo = configured_urls(family) if urls is None else tuple(urls)
    deadline = time.monotonic() + timeout
    attempts: list[Attempt] = []
    first_odd: tuple[str, Classification] | None = None
    for url in todo:
        if time.monotonic() >= deadline:
            attempts.append(Attempt(url, None, "skipped: time budget used up"))
            continue
        att = _fetch(url, family, deadline, timeout)
        attempts.append(att)
        if att.error is not None or att.answer is None:
            continue
        cls = classify(att.answer)
        if cls.is_public:
            return EchoResult(family, cls.address, url, None, cls.address, cls, tuple(attempts))
        first_odd = first_odd or (url, cls)
    if first_odd is not None:
        url, cls = first_odd
        msg = f"{url} answered {cls.explanation}"
        return EchoResult(family, None, url, msg, cls.address, cls, tuple(attempts))
    errors = "; ".join(f"{a.url}: {a.error}" for a in attempts) or "no echo URLs configured"
    return EchoResult(family, None, None, f"no public IPv{family} address found ({errors})", attempts=tuple(attempts))


def detect_both(
    urls: Mapping[int, Sequence[str]] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> tuple[EchoResult, EchoResult]:
    """IPv4 and IPv6 in parallel, so the whole detection takes at most about ``timeout``."""
    pick = urls or {}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sshsetup-ipecho") as pool:
        v4 = pool.submit(detect, 4, pick.get(4), timeout)
        v6 = pool.submit(detect, 6, pick.get(6), timeout)
        return v4.result(), v6.result()
