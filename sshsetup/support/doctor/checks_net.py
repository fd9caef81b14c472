"""Network checks, per host: DNS, the address family ssh will use, TCP, the SSH banner
and whether known_hosts holds the host key. Read-only; loopback-safe.

Frugal with connections (JSC's firewall blocks addresses that connect too often): per
host and address family ssh may use, ONE plain TCP connection serves both ``net.tcp``
and ``net.banner`` (connect, read the banner, send our identification, close). No
authentication here. ``net.hostkey`` only reads known_hosts (``ssh-keygen -F``, which
also finds hashed entries); whether the server's key CHANGED is decided by the single
``ssh -v`` authentication probe (sshlog cause ``hostkey-changed``), because fetching the
key here (``ssh-keyscan``) would cost one more connection per host.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from dataclasses import dataclass

from sshsetup.support.doctor.model import Check, DoctorContext, Finding, Target, fail, ok, skip, warn

FAMILIES = {"IPv4": socket.AF_INET, "IPv6": socket.AF_INET6}
_ALLOWED = {"inet": ("IPv4",), "inet6": ("IPv6",), "any": ("IPv4", "IPv6")}
NO_RETRY = "do not retry quickly: JSC's firewall blocks addresses that connect too often"


@dataclass(frozen=True)
class Resolved:
    addresses: dict[str, tuple[str, ...]]  # "IPv4"/"IPv6" -> addresses
    order: tuple[tuple[str, str], ...]  # (family, address) in the order ssh tries them


@dataclass(frozen=True)
class Probe:
    family: str
    address: str
    connect: str  # "open", "refused", "timeout" or "error"
    error: str = ""
    banner: str | None = None  # the server's SSH identification line
    reply: str = ""  # "banner", "silent", "closed", "reset" or "not-ssh" (when open)
    first_bytes: str = ""


def _literal(host: str) -> str | None:
    import ipaddress

    try:
        return "IPv6" if ipaddress.ip_address(host.strip("[]")).version == 6 else "IPv4"
    except ValueError:
        return None


def _lookup(host: str, port: int, family: int) -> list[str]:
    lit = _literal(host)
    if lit is not None:  # an address literal: no resolver is asked
        return [host.strip("[]")] if FAMILIES[lit] == family else []
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


def check_dns(ctx: DoctorContext, t: Target) -> Finding:
    found = {name: tuple(_lookup(t.hostname, t.port, fam)) for name, fam in FAMILIES.items()}
    lit = _literal(t.hostname)
    try:
        infos = [] if lit else socket.getaddrinfo(t.hostname, t.port, 0, socket.SOCK_STREAM)
        both = [(lit, t.hostname.strip("[]"))] if lit else [("IPv6" if i[0] == socket.AF_INET6 else "IPv4", str(i[4][0])) for i in infos]
    except (socket.gaierror, UnicodeError):
        both = []
    allowed = _ALLOWED.get(t.address_family, ("IPv4", "IPv6"))
    order = tuple(dict.fromkeys(fa for fa in both if fa[0] in allowed))
    ctx.shared.put("net.dns", t.alias, Resolved(found, order))
    desc = "; ".join(f"{n} {', '.join(a) if a else 'none'}" for n, a in found.items())
    details = (f"A/AAAA lookup of {t.hostname} (getaddrinfo)",)
    if not any(found.values()):
        return fail(f"{t.hostname} does not resolve", f"check the host name and your network or VPN; try: nslookup {t.hostname}", details)
    if not order:
        fam = " and ".join(allowed)
        return fail(f"{t.hostname} has no {fam} address ({desc})", f"AddressFamily {t.address_family} forbids the family it has; set AddressFamily any for this host", details)
    return ok(f"{t.hostname}: {desc}", None, details)


def check_family(ctx: DoctorContext, t: Target) -> Finding:
    res = ctx.shared.get("net.dns", t.alias, Resolved)
    if res is None or not res.order:
        return skip("no address to choose from")
    first_fam, first = res.order[0]
    others = sorted({f for f, _ in res.order} - {first_fam})
    tail = f", then {others[0]}" if others else ""
    why = f"AddressFamily {t.address_family}"
    summary = f"ssh will connect over {first_fam} ({first}){tail} [{why}]"
    details = tuple(f"{i + 1}. {f} {a}" for i, (f, a) in enumerate(res.order))
    hint = None
    if first_fam == "IPv6" and t.address_family == "any":
        hint = f"a from= list with only IPv4 ranges refuses IPv6 logins; if that bites, set AddressFamily inet for {t.alias}"
    return ok(summary, hint, details)


def probe(family: str, address: str, port: int, timeout: float) -> Probe:
    """One TCP connection: connect, read the banner, say who we are, close."""
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except ConnectionRefusedError:
        return Probe(family, address, "refused")
    except ConnectionResetError:  # accepted, then reset before connect() returned
        return Probe(family, address, "open", reply="reset")
    except (socket.timeout, TimeoutError):
        return Probe(family, address, "timeout")
    except OSError as exc:
        return Probe(family, address, "error", exc.strerror or str(exc))
    with sock:
        data, reply = b"", "silent"
        end = time.monotonic() + timeout
        try:
            while _ssh_line(data) is None and len(data) < 8192:
                sock.settimeout(max(0.01, end - time.monotonic()))
                chunk = sock.recv(1024)
                if not chunk:
                    reply = "closed"
                    break
                data += chunk
        except (socket.timeout, TimeoutError):
            pass
        except OSError:  # ConnectionResetError and friends
            reply = "reset"
        line = _ssh_line(data)
        if line is not None:
            try:
                sock.sendall(b"SSH-2.0-sshsetup_doctor\r\n")
            except OSError:
                pass
            return Probe(family, address, "open", banner=line, reply="banner")
        first = data[:60].decode("ascii", "replace").strip()
        return Probe(family, address, "open", reply="not-ssh" if data else reply, first_bytes=first)


def _ssh_line(data: bytes) -> str | None:
    """The first complete line starting with ``SSH-`` (servers may send other lines first)."""
    for raw in data.split(b"\n")[:-1]:
        if raw.startswith(b"SSH-"):
            return raw.rstrip(b"\r").decode("ascii", "replace")
    return None


_CONNECT = {
    "refused": ("refused the connection", "wrong host or port, the server is down, or a firewall rejects you; check HostName and Port"),
    "timeout": ("connection timed out", "a firewall drops the packets or the host is down; check VPN/network; " + NO_RETRY),
    "error": ("cannot connect", "check your network (is there a route to this address family?)"),
}


def check_tcp(ctx: DoctorContext, t: Target) -> Finding:
    res = ctx.shared.get("net.dns", t.alias, Resolved)
    if res is None or not res.order:
        return skip("no address to connect to")
    firsts: dict[str, str] = {}
    for fam, addr in res.order:
        firsts.setdefault(fam, addr)
    probes: dict[str, Probe] = {}

    def one(fam: str, addr: str) -> None:
        probes[fam] = probe(fam, addr, port, ctx.probe_timeout)

    port = t.port  # both families at once: a dead host costs one timeout, not two
    threads = [threading.Thread(target=one, args=(f, a), daemon=True) for f, a in firsts.items()]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ordered = [probes[f] for f in firsts if f in probes]
    ctx.shared.put("net.tcp", t.alias, tuple(ordered))
    parts = [f"{p.family} {_hostport(p.address, t.port)} " + ("open" if p.connect == "open" else _CONNECT[p.connect][0] + (f" ({p.error})" if p.error else "")) for p in ordered]
    summary = "; ".join(parts)
    details = (f"timeout {ctx.probe_timeout:g} s per connection",)
    bad = [p for p in ordered if p.connect != "open"]
    if not bad:
        return ok(summary, None, details)
    if len(bad) == len(ordered):
        return fail(summary, _CONNECT[bad[0].connect][1], details)
    fam = bad[0].family
    return warn(summary, f"{fam} does not work here; ssh falls back to the other family after ConnectTimeout; set AddressFamily {'inet' if fam == 'IPv6' else 'inet6'} for {t.alias} to skip the wait", details)


def _hostport(addr: str, port: int) -> str:
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


_REPLY = {
    "silent": ("accepted the connection but sent no SSH banner within {t:g} s", "a firewall block or an overloaded host; " + NO_RETRY + "; wait a few minutes"),
    "closed": ("closed the connection before sending an SSH banner", "possible firewall block or too many connections; " + NO_RETRY),
    "reset": ("reset the connection before sending an SSH banner", "possible firewall block or too many connections; " + NO_RETRY),
    "not-ssh": ("answered, but not as an SSH server: {b!r}", "the port is wrong: check Port for this host"),
}


def check_banner(ctx: DoctorContext, t: Target) -> Finding:
    probes = ctx.shared.get("net.tcp", t.alias, tuple) or ()
    open_ = [p for p in probes if isinstance(p, Probe) and p.connect == "open"]
    if not open_:
        return skip("no open connection")
    good = [p for p in open_ if p.reply == "banner"]
    bad = [p for p in open_ if p.reply != "banner"]
    parts = [f"{p.family}: {p.banner}" for p in good]
    parts += [f"{p.family}: " + _REPLY[p.reply][0].format(t=ctx.probe_timeout, b=p.first_bytes) for p in bad]
    summary = "; ".join(parts)
    if not bad:
        return ok(summary)
    return (warn if good else fail)(summary, _REPLY[bad[0].reply][1])


def _known_name(t: Target) -> str:
    return t.hostname if t.port == 22 else f"[{t.hostname}]:{t.port}"


def check_hostkey(ctx: DoctorContext, t: Target) -> Finding:
    import shutil

    exe = shutil.which("ssh-keygen")
    if exe is None:
        return skip("ssh-keygen not found", "install the OpenSSH client")
    name = _known_name(t)
    found: list[str] = []
    for f in ctx.known_hosts_files():
        if not f.is_file():
            continue
        proc = subprocess.run([exe, "-F", name, "-f", str(f)], capture_output=True, text=True, timeout=ctx.probe_timeout, stdin=subprocess.DEVNULL)
        for line in proc.stdout.splitlines():
            if line and not line.startswith("#"):
                fields = line.split()
                hashed = " (hashed)" if fields[0].startswith("|1|") else ""
                found.append(f"{fields[1] if len(fields) > 1 else '?'} in {f}{hashed}")
    if found:
        return ok(f"{name} is in known_hosts: {', '.join(found)}", None, tuple(found))
    return warn(f"{name} is not in known_hosts: the first connection asks you to confirm its key",
                f"connect once in a terminal (ssh {t.alias}) and compare the fingerprint with the one the site publishes",
                tuple(f"searched {f}" for f in ctx.known_hosts_files()),
    )


CHECKS: tuple[Check, ...] = (
    Check.each_host("net.dns", "the host name resolves (A and AAAA)", check_dns),
    Check.each_host("net.family", "which address family ssh will use", check_family, needs=("net.dns",)),
    Check.each_host("net.tcp", "TCP connect to the SSH port, IPv4 and IPv6", check_tcp, needs=("net.dns",)),
    Check.each_host("net.banner", "the server sends an SSH banner", check_banner, needs=("net.tcp",)),
    Check.each_host("net.hostkey", "known_hosts holds the host's key", check_hostkey),
)
