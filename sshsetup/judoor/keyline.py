"""The JuDoor key line: ``from="A,B,…" ssh-ed25519 AAAA… comment``.

Ranges come from ``--from``, or from the public IPv4 and IPv6 egress addresses
(``ipecho``) widened by a policy (``--range``, default 16 as in the JSC course
recipe; ``provider`` asks RDAP), plus the user's named ranges and, for
ProxyJump to compute nodes, 10.0.0.0/8. Used by ``key-line`` and ``init``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sshsetup import state
from sshsetup.catalogue import Site
from sshsetup.errors import BadInput, SshSetupError
from sshsetup.files import FileChange, read_bytes
from sshsetup.judoor import cidr

DEFAULT_POLICY = cidr.Policy.P16


@dataclass(frozen=True)
class KeyLineOptions:
    from_ranges: tuple[str, ...] = ()
    policy: cidr.Policy = DEFAULT_POLICY
    internal: bool | None = None  # None: on when compute-node entries are configured
    detect_timeout: float = 3.0
    rdap_cache: Path | None = None


@dataclass
class KeyLine:
    line: str | None  # None: no ranges could be determined
    ranges: tuple[cidr.Network, ...]
    notes: list[str] = field(default_factory=list)
    detected: dict[str, str] = field(default_factory=dict)  # "ipv4"/"ipv6" -> public address
    covers_ipv6: bool = False
    offline: bool = False


def load_named(path: Path) -> dict[str, list[str]]:
    data = read_bytes(path)
    if data is None:
        return {}
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError:
        raise BadInput(f"{path} is not valid JSON", hint=f"fix or delete it: {path}") from None
    named = doc.get("ranges", {}) if isinstance(doc, dict) else {}
    return {str(k): [str(x) for x in v] for k, v in named.items() if isinstance(v, list)}


def named_change(path: Path, named: dict[str, list[str]]) -> FileChange:
    doc = {"version": 1, "ranges": dict(sorted(named.items()))}
    return state.change(path, doc, label="named ranges")


def _detected_ranges(opts: KeyLineOptions, out: KeyLine) -> cidr.Ranges:
    from sshsetup.judoor import ipecho

    results = ipecho.detect_both(timeout=opts.detect_timeout)
    nets: list[cidr.Ranges] = []
    for r in results:
        fam = f"ipv{r.family}"
        if r.address is None:
            if r.error and r.reached_a_service:
                out.notes.append(f"{fam}: {r.error}")
            continue
        out.detected[fam] = str(r.address)
        if opts.policy is cidr.Policy.PROVIDER:
            from sshsetup.judoor import rdap

            block = rdap.lookup(r.address, cache_dir=opts.rdap_cache)
            got = cidr.provider_ranges(r.address, block.networks)
            out.notes.append(f"{fam}: {r.address} belongs to {block.name or block.handle or 'a provider block'} ({', '.join(map(str, got.networks))})")
            nets.append(got)
        else:
            nets.append(cidr.Ranges((cidr.range_for(r.address, opts.policy),)))
    if not any(r.reached_a_service for r in results):
        out.offline = True
    return cidr.merge(*nets) if nets else cidr.Ranges(())


def local_destination(site: Site) -> str | None:
    """The address ssh connects to when it is on loopback or a private network; None for a public host.

    A JSC catalogue host is public by the catalogue (no DNS lookup: key-line must not wait for a
    resolver); any other host is resolved like ssh does (the first address of the family it uses).
    """
    import ipaddress
    import socket

    try:
        literal: str | None = str(ipaddress.ip_address(site.hostname.strip("[]")))
    except ValueError:
        literal = None
    if literal is None:
        if site.is_jsc:
            return None
        fam = {"inet": socket.AF_INET, "inet6": socket.AF_INET6}.get(site.address_family, socket.AF_UNSPEC)
        try:
            literal = str(socket.getaddrinfo(site.hostname, site.port, fam, socket.SOCK_STREAM)[0][4][0])
        except (OSError, UnicodeError, IndexError):
            return None  # unresolvable here: doctor's net checks say why
    return None if cidr.classify(literal.split("%")[0]).is_public else literal.split("%")[0]


def _seen_locally(sites: Sequence[Site], out: KeyLine) -> tuple[cidr.Ranges, bool]:
    """(the addresses hosts on loopback or a private network see, whether a public host remains).

    The rule of doctor's ``auth.from-range``: the server sees the local source address of the route
    to it, not the public address an echo service reports.
    """
    import ipaddress
    import socket

    from sshsetup.support.doctor.checks_auth import source_address

    nets: list[cidr.Network] = []
    public = not sites
    for site in sites:
        dest = local_destination(site)
        if dest is None:
            public = True
            continue
        af = socket.AF_INET6 if ipaddress.ip_address(dest).version == 6 else socket.AF_INET
        try:
            seen = source_address(dest, site.port, af, None)
        except OSError as exc:
            out.notes.append(f"{site.alias}: no route to {dest}: {exc.strerror or exc}")
            continue
        net = ipaddress.ip_network(seen)
        if net not in nets:
            nets.append(net)
        out.notes.append(f"{site.alias} is at {dest}, not on the public internet: its server sees {seen} "
                         f"(the local source address towards it), so the line allows {net}")
    return cidr.Ranges(tuple(nets)), public


def compute(pubkey_line: str, opts: KeyLineOptions, named: dict[str, list[str]], compute_nodes: bool,
            sites: Sequence[Site] = ()) -> KeyLine:
    """The line for ``sites``: ``--from``, else the addresses their servers will see.

    A public host sees the public egress address (widened by the policy); a host on loopback or a
    private network sees the local source address of the route (``_seen_locally``): a public range
    in a line for such a host could never match.
    """
    out = KeyLine(None, ())
    missing = False  # a public host needs the public address, and none was found: no line at all
    if opts.from_ranges:
        base = cidr.parse_ranges(list(opts.from_ranges))
    else:
        local, public = _seen_locally(sites, out)
        detected = _detected_ranges(opts, out) if public else cidr.Ranges(())
        missing = public and not detected.networks
        base = cidr.merge(local, detected)
    parts = [base]
    if named:
        parts.append(cidr.merge_named(cidr.Ranges(()), named, sorted(named)))
    internal = compute_nodes if opts.internal is None else opts.internal
    if internal:
        parts.append(cidr.Ranges((cidr.INTERNAL,)))
    ranges = cidr.merge(*parts)
    out.notes = list(ranges.notes) + out.notes
    out.ranges = ranges.networks
    out.covers_ipv6 = any(n.version == 6 for n in ranges.networks)
    if missing or (not base.networks and not opts.from_ranges):
        return out
    out.line = cidr.key_line(list(ranges.networks), pubkey_line)
    return out


def address_family(site: Site, line: KeyLine) -> str:
    """What the config must force: IPv4 when the line has no IPv6 range.

    An IP literal as HostName decides by itself: forcing ``inet`` on an IPv6 literal
    makes ssh fail ("Address family for hostname not supported"), and ``ssh -G``
    would not notice, because it does not resolve.
    """
    import ipaddress

    try:
        literal = ipaddress.ip_address(site.hostname)
    except ValueError:
        literal = None
    if literal is not None:
        return "inet6" if literal.version == 6 else "inet"
    if site.address_family in ("inet", "inet6"):
        return site.address_family
    return "any" if line.covers_ipv6 else "inet"


def require_line(line: KeyLine) -> str:
    if line.line is not None:
        return line.line
    from sshsetup.judoor.ipecho import NO_NETWORK_HINT

    why = "; ".join(line.notes) or ("no network" if line.offline else "no public address found")
    raise SshSetupError(f"cannot determine your public address ({why})", hint=NO_NETWORK_HINT)
