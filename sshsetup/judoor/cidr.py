"""Address ranges for the ``from="..."`` option of a JuDoor key line (pure code).

sshd matches ``from=`` entries literally and never matches a CIDR with host
bits set (``127.0.0.1/8``: OpenSSH's addr_pton_cidr refuses host bits), so every range is normalised to
its network address, and each change is reported as a note.

Range policies from one detected address (``--range``):

========  ======  ======  =========================================================
policy    IPv4    IPv6    why the IPv6 prefix
========  ======  ======  =========================================================
exact     /32     /128    one address; IPv6 privacy addresses change daily, so
                          an exact IPv6 range breaks quickly
24        /24     /64     one IPv6 subnet (one LAN); privacy addresses stay inside it
16        /16     /48     the usual allocation to one customer site (RIPE-690)
provider  RDAP    RDAP    the registry's network block (``rdap.py``), clamped below
========  ======  ======  =========================================================

Ranges wider than /8 (IPv4) or /32 (IPv6) are refused when the user types them
and narrowed around the address when RDAP returns them (``provider_ranges``).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sshsetup.errors import BadInput, SshSetupError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MIN_PREFIX = {4: 8, 6: 32}  # the widest range accepted, per IP version
INTERNAL = ipaddress.IPv4Network("10.0.0.0/8")  # ProxyJump to compute nodes (the JSC course's ',10.0.0.0/8')
FZJ = ipaddress.IPv4Network("134.94.0.0/16")  # the course's hint for FZJ users
_FROM_HINT = "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"


class Policy(str, enum.Enum):
    EXACT = "exact"
    P24 = "24"
    P16 = "16"
    PROVIDER = "provider"


PREFIXES: dict[Policy, dict[int, int]] = {
    Policy.EXACT: {4: 32, 6: 128},
    Policy.P24: {4: 24, 6: 64},
    Policy.P16: {4: 16, 6: 48},
}


@dataclass(frozen=True)
class Ranges:
    """Normalised ranges (first-seen order, no duplicates, none covered by another) and what changed."""

    networks: tuple[Network, ...]
    notes: tuple[str, ...] = ()


def parse_policy(text: str) -> Policy:
    try:
        return Policy(text)
    except ValueError:
        raise BadInput(f"unknown range policy {text!r}", hint="use --range exact, 24, 16 or provider") from None


def _refuse(value: str, why: str, hint: str = _FROM_HINT) -> BadInput:
    return BadInput(f"--from {value!r}: {why}", hint=hint)


_FORBIDDEN = (
    ("\"'", "quotes are not allowed (sshsetup adds them)"),
    (",", "one range per value; a comma would split it"),
    ("!", "negation is not supported (it would deny, not allow)"),
    ("*?", "wildcards are not allowed; give an address or CIDR"),
    ("%", "a zone index (%) is not allowed"),
)


def parse_range(text: str) -> tuple[Network, str | None]:
    """One ``--from`` value -> (network, note if host bits were cleared). Raises BadInput."""
    value = text.strip()
    if not value:
        raise _refuse(text, "empty value")
    for bad, why in _FORBIDDEN:
        if any(c in value for c in bad):
            raise _refuse(text, why)
    if re.search(r"\s", value):
        raise _refuse(text, "whitespace inside the value")
    addr_s, _, plen_s = value.partition("/")
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise _refuse(text, _why_invalid(addr_s, plen_s)) from None
    check_breadth(net, text)
    note = None
    if "/" in value and net.network_address != ipaddress.ip_address(addr_s):
        note = f"{value} has host bits set (sshd would never match it); using {net}"
    return net, note


def _why_invalid(addr_s: str, plen_s: str) -> str:
    try:
        version = ipaddress.ip_address(addr_s).version
    except ValueError:
        if re.fullmatch(r"[A-Za-z0-9.-]+", addr_s) and re.search(r"[g-zG-Z]", addr_s):
            return "hostnames are not allowed; JSC needs addresses or CIDRs"
        return "not an IP address or CIDR"
    maxlen = 32 if version == 4 else 128
    return f"prefix length /{plen_s} is invalid for IPv{version} (0-{maxlen})"


def check_breadth(net: Network, shown: str | None = None) -> None:
    limit = MIN_PREFIX[net.version]
    if net.prefixlen < limit:
        raise _refuse(
            shown or str(net),
            f"too broad (wider than /{limit} for IPv{net.version})",
            hint="use a narrower range such as your provider's block or a /16",
        )


def normalise(networks: Iterable[Network], notes: Iterable[str] = ()) -> Ranges:
    """Drop duplicates and ranges covered by another; keep first-seen order, IPv4 and IPv6."""
    out_notes = list(notes)
    unique: list[Network] = []
    for net in networks:
        if net in unique:
            out_notes.append(f"dropped duplicate {net}")
        else:
            unique.append(net)
    kept: list[Network] = []
    for net in unique:
        cover = next((o for o in unique if o != net and o.version == net.version and net.subnet_of(o)), None)  # type: ignore[arg-type]
        if cover is not None:
            out_notes.append(f"dropped {net}: already covered by {cover}")
        else:
            kept.append(net)
    return Ranges(tuple(kept), tuple(out_notes))


def parse_ranges(values: Sequence[str]) -> Ranges:
    """Parse, normalise and deduplicate user ranges. An empty list is refused."""
    if not values:
        raise BadInput("no ranges given", hint=_FROM_HINT)
    parsed = [parse_range(v) for v in values]
    return normalise((n for n, _ in parsed), (note for _, note in parsed if note))


def merge(*parts: Ranges) -> Ranges:
    """Concatenate ranges (keeping their notes) and normalise the result: ``merge(user, Ranges((INTERNAL,)))``."""
    return normalise([n for p in parts for n in p.networks], [note for p in parts for note in p.notes])


def merge_named(base: Ranges, named: Mapping[str, Sequence[str]], select: Iterable[str]) -> Ranges:
    """Add the named ranges (``home``, ``office``, ``vpn``, ...) listed in ``select`` to ``base``."""
    parts: list[Ranges] = [base]
    for name in select:
        if name not in named:
            known = ", ".join(sorted(named)) or "none saved"
            raise BadInput(f"no named range {name!r}", hint=f"known names: {known}")
        try:
            got = parse_ranges(named[name])
        except BadInput as e:
            raise BadInput(f"named range {name!r}: {e.message}", hint=e.hint) from None
        parts.append(Ranges(got.networks, tuple(f"{name}: {n}" for n in got.notes)))
    return merge(*parts)


def range_for(address: Address, policy: Policy) -> Network:
    """The range a non-provider policy derives from one address (any address; the caller classifies)."""
    if policy is Policy.PROVIDER:
        raise ValueError("the provider policy needs an RDAP lookup: use provider_ranges()")
    return ipaddress.ip_network(f"{address}/{PREFIXES[policy][address.version]}", strict=False)


def provider_ranges(address: Address, blocks: Sequence[Network], source: str = "RDAP") -> Ranges:
    """The provider's blocks for ``address``: too-broad blocks are narrowed around it or dropped."""
    nets: list[Network] = []
    notes: list[str] = []
    limit = MIN_PREFIX[address.version]
    for block in blocks:
        if block.version != address.version:
            notes.append(f"ignored {block} from {source}: other IP version")
        elif block.prefixlen == 0:
            raise SshSetupError(
                f"{source} returned the whole address space ({block}) for {address}, not a provider block",
                hint="use --range 16 or --from with your provider's range",
            )
        elif block.prefixlen >= limit:
            nets.append(block)
        elif address in block:
            narrowed = ipaddress.ip_network(f"{address}/{limit}", strict=False)
            nets.append(narrowed)
            notes.append(f"provider block {block} is wider than /{limit}; narrowed to {narrowed}")
        else:
            notes.append(f"dropped provider block {block}: wider than /{limit}")
    if not nets:
        raise SshSetupError(f"{source} gave no usable provider block for {address}", hint="use --range 16 or --from")
    return normalise(nets, notes)


def covers(networks: Iterable[Network], address: str | Address) -> bool:
    """True if sshd would accept ``address`` for this from= list (IPv4-mapped IPv6 counts as IPv4)."""
    addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(net.version == addr.version and addr in net for net in networks)


def render_from(networks: Sequence[Network]) -> str:
    """``from="A,B"`` for sshd's authorized_keys pattern list."""
    if not networks:
        raise BadInput("no ranges for the key line", hint=_FROM_HINT)
    for net in networks:
        check_breadth(net)
    return 'from="' + ",".join(str(n) for n in networks) + '"'


_KEY_TYPES = re.compile(r"(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+)(-cert-v01@openssh\.com)?")


def key_line(networks: Sequence[Network], pubkey_line: str) -> str:
    """``from="..." ssh-ed25519 AAAA... comment``: the line pasted into JuDoor."""
    line = pubkey_line.strip()
    if not line or "\n" in line or "\r" in line:
        raise BadInput("the public key must be exactly one line", hint="pass the .pub file of the key")
    if not _KEY_TYPES.fullmatch(line.split()[0]):
        raise BadInput(
            f"not an OpenSSH public key line: {line[:30]!r}", hint="pass the .pub file, without options in front"
        )
    return f"{render_from(networks)} {line}"


class Kind(str, enum.Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    CGNAT = "cgnat"
    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    ULA = "unique-local"
    DOCUMENTATION = "documentation"
    OTHER = "special-purpose"


@dataclass(frozen=True)
class Classification:
    address: Address
    kind: Kind
    explanation: str  # empty for a public address

    @property
    def is_public(self) -> bool:
        return self.kind is Kind.PUBLIC


_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_P172, _P192 = ipaddress.IPv4Network("172.16.0.0/12"), ipaddress.IPv4Network("192.168.0.0/16")
_ULA = ipaddress.IPv6Network("fc00::/7")
_DOCS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)
_WRONG = "an echo service on the internet can never see it, so the service is inside your network or wrong"
_WHY = {
    Kind.PRIVATE: "a private (RFC 1918) address: it belongs to your local network, behind NAT or a VPN; " + _WRONG,
    Kind.CGNAT: "in 100.64.0.0/10 (carrier-grade NAT): your provider shares public addresses; " + _WRONG,
    Kind.LOOPBACK: "a loopback address: it means this machine itself; " + _WRONG,
    Kind.LINK_LOCAL: "a link-local address: valid only on one network segment; " + _WRONG,
    Kind.ULA: "a unique local IPv6 address (fc00::/7), like a private IPv4 address (a VPN or LAN); " + _WRONG,
    Kind.DOCUMENTATION: "a documentation example address, never used on the internet; the echo service is wrong",
    Kind.OTHER: "a special-purpose address, not routed on the internet; the echo service or a VPN/proxy is wrong",
}


def classify(address: str | Address) -> Classification:
    """Is this a public address JSC could see? Never true for private/CGNAT/loopback/link-local/ULA/docs."""
    addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    if addr.is_loopback:
        kind = Kind.LOOPBACK
    elif addr.is_link_local:
        kind = Kind.LINK_LOCAL
    elif addr.version == 4 and addr in _CGNAT:
        kind = Kind.CGNAT
    elif addr.version == 6 and addr in _ULA:
        kind = Kind.ULA
    elif any(addr.version == n.version and addr in n for n in _DOCS):
        kind = Kind.DOCUMENTATION
    elif addr.version == 4 and any(addr in n for n in (INTERNAL, _P172, _P192)):
        kind = Kind.PRIVATE
    elif not addr.is_global or addr.is_multicast or getattr(addr, "ipv4_mapped", None):
        kind = Kind.OTHER
    else:
        return Classification(addr, Kind.PUBLIC, "")
    return Classification(addr, kind, f"{addr} is {_WHY[kind]}")

