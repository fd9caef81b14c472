"""The provider's network block for an address, looked up with RDAP (RFC 9083, RFC 9224).

1. Bootstrap: the IANA files ``ipv4.json`` / ``ipv6.json`` say which registry
   (RIPE, ARIN, ...) serves an address; they are cached for a week in
   ``cache_dir`` when the caller gives one.
2. ``GET <base>/ip/<addr>``: the most specific network that holds the address.
   Its ``cidr0_cidrs`` (the cidr0 extension) are used when present, else
   ``startAddress``..``endAddress`` is turned into CIDRs.

``SSHSETUP_RDAP_URL`` replaces the base URL and skips the bootstrap (tests,
sites with their own RDAP mirror). Every failure is an ``SshSetupError`` with a
hint; the whole lookup (bootstrap, redirects, query; DNS, connect, TLS and every
byte of the answers) is bounded by one deadline, ``timeout``: a server that
drips a byte a second is cut off (see ``ipecho.http_get``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sshsetup.errors import SshSetupError
from sshsetup.judoor.cidr import Address, Network, classify

ENV_URL = "SSHSETUP_RDAP_URL"
BOOTSTRAP_URLS = {4: "https://data.iana.org/rdap/ipv4.json", 6: "https://data.iana.org/rdap/ipv6.json"}
DEFAULT_TIMEOUT = 5.0
CACHE_MAX_AGE = 7 * 24 * 3600.0
_MAX_BYTES = 2_000_000
_MAX_REDIRECTS = 3
_HINT = "use --range 16 (or 24/exact), or give your provider's range with --from"


@dataclass(frozen=True)
class ProviderBlock:
    address: Address
    networks: tuple[Network, ...]  # the registry's block, as CIDRs (not yet clamped: see cidr.provider_ranges)
    name: str | None  # e.g. "DTAG-DIAL25"
    handle: str | None
    url: str  # the RDAP URL that answered


def _fail(message: str) -> SshSetupError:
    return SshSetupError(message, hint=_HINT)


def _addr(value: object) -> Address:
    if not isinstance(value, str):
        raise ValueError(f"not an address: {value!r}")
    return ipaddress.ip_address(value.split("/")[0])


def networks_from(doc: Mapping[str, Any]) -> tuple[Network, ...]:
    """The CIDRs of an RDAP ``ip network`` object; ValueError if it has none usable."""
    cidrs = doc.get("cidr0_cidrs")
    if isinstance(cidrs, list) and cidrs:
        nets: list[Network] = []
        for c in cidrs:
            prefix = c.get("v4prefix") or c.get("v6prefix") if isinstance(c, dict) else None
            length = c.get("length") if isinstance(c, dict) else None
            if not isinstance(prefix, str) or not isinstance(length, int) or isinstance(length, bool):
                raise ValueError(f"malformed cidr0_cidrs entry {c!r}")
            nets.append(ipaddress.ip_network(f"{prefix}/{length}", strict=False))
        return tuple(nets)
    start, end = _addr(doc.get("startAddress")), _addr(doc.get("endAddress"))
    if start.version != end.version or int(start) > int(end):
        raise ValueError(f"bad address range {start} - {end}")
    return tuple(ipaddress.summarize_address_range(start, end))


def base_from_bootstrap(doc: Mapping[str, Any], address: Address) -> str | None:
    """The RDAP base URL that the IANA bootstrap file gives for ``address`` (longest prefix, https first)."""
    best: tuple[int, str] | None = None
    for entry in doc.get("services") or []:
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, list) for x in entry)):
            continue
        prefixes, urls = entry
        for p in prefixes:
            try:
                net = ipaddress.ip_network(p, strict=False)
            except (ValueError, TypeError):
                continue
            if net.version == address.version and address in net and urls and (best is None or net.prefixlen > best[0]):
                url = sorted(urls, key=lambda u: not str(u).startswith("https:"))[0]
                best = (net.prefixlen, str(url))
    return None if best is None else best[1]


def _get_json(url: str, deadline: float) -> tuple[Any, str]:
    """GET and parse ``url``, following up to 3 redirects, all within one ``deadline`` for everything.

    Returns the document and the URL that answered (after redirects)."""
    import http.client
    import ssl
    from urllib.parse import urljoin

    from sshsetup.judoor.ipecho import http_get

    for _ in range(_MAX_REDIRECTS + 1):
        if deadline - time.monotonic() <= 0:
            raise _fail(f"RDAP lookup timed out before {url}")
        try:
            resp = http_get(url, deadline=deadline, max_bytes=_MAX_BYTES,
                            headers={"Accept": "application/rdap+json, application/json"})
        except TimeoutError:
            raise _fail(f"RDAP query {url} failed: timed out") from None
        except ssl.SSLError as e:
            raise _fail(f"RDAP query {url} failed: TLS error: {e.reason or e}") from None
        except (OSError, ValueError, http.client.HTTPException) as e:
            why = "connection refused" if isinstance(e, ConnectionRefusedError) else (str(e) or type(e).__name__)
            raise _fail(f"RDAP query {url} failed: {why}") from None
        if resp.status in (301, 302, 303, 307, 308) and resp.location:
            url = _check_url(urljoin(url, resp.location))
            continue
        break
    else:
        raise _fail(f"RDAP query {url} failed: more than {_MAX_REDIRECTS} redirects")
    if resp.status == 404:
        raise _fail(f"RDAP has no record at {url} (404)")
    if resp.status != 200:
        raise _fail(f"RDAP query {url} failed: HTTP {resp.status} {resp.reason}")
    try:
        return json.loads(resp.body), url
    except ValueError:
        raise _fail(f"RDAP answer from {url} is not JSON") from None


def _check_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise SshSetupError(f"RDAP URL {url!r} is not http(s)", hint=f"fix {ENV_URL}")
    return url


def _bootstrap(version: int, url: str, cache_dir: Path | None, deadline: float) -> Any:
    cached = cache_dir / f"rdap-bootstrap-ipv{version}.json" if cache_dir else None
    if cached is not None:
        try:
            if time.time() - cached.stat().st_mtime < CACHE_MAX_AGE:
                return json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    doc, _ = _get_json(_check_url(url), deadline)
    if cached is not None and isinstance(doc, dict):
        try:
            from sshsetup.files import atomic_write

            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(cached, json.dumps(doc).encode(), 0o644)
        except OSError:
            pass  # a cache that cannot be written is not an error
    return doc


def lookup(
    address: str | Address,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cache_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    bootstrap_urls: Mapping[int, str] | None = None,
) -> ProviderBlock:
    """The provider block that holds a public ``address``. Raises SshSetupError (never a traceback)."""
    try:
        addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        raise _fail(f"{address!r} is not an IP address") from None
    verdict = classify(addr)
    if not verdict.is_public:
        raise _fail(f"no provider block for {addr}: {verdict.explanation}")
    deadline = time.monotonic() + timeout
    env = os.environ if environ is None else environ
    base = env.get(ENV_URL, "").strip()
    if not base:
        boot_url = (bootstrap_urls or BOOTSTRAP_URLS)[addr.version]
        boot = _bootstrap(addr.version, boot_url, cache_dir, deadline)
        if not isinstance(boot, dict):
            raise _fail(f"{boot_url} is not an RDAP bootstrap file")
        found = base_from_bootstrap(boot, addr)
        if found is None:
            raise _fail(f"the RDAP bootstrap file lists no registry for {addr}")
        base = found
    url = _check_url(base.rstrip("/") + f"/ip/{addr}")
    doc, url = _get_json(url, deadline)
    if not isinstance(doc, dict) or doc.get("objectClassName") != "ip network":
        raise _fail(f"RDAP answer from {url} is not an IP network object")
    try:
        nets = networks_from(doc)
    except ValueError as e:
        raise _fail(f"RDAP answer from {url} has no usable range: {e}") from None
    if not any(n.version == addr.version and addr in n for n in nets):
        raise _fail(f"RDAP answer from {url} does not contain {addr}")
    name, handle = doc.get("name"), doc.get("handle")
    return ProviderBlock(
        addr, nets, name if isinstance(name, str) else None, handle if isinstance(handle, str) else None, url
    )
