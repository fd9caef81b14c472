"""What each managed Host entry sets, per site and ssh client (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sshsetup import validate
from sshsetup.catalogue import Site
from sshsetup.ssh.block import HostEntry

# ssh creates the socket as "<ControlPath>.<16 random chars>" first; sun_path holds 108 bytes.
CONTROL_PATH_MAX = 108
_MUX_SUFFIX = 17
_PERCENT_C = 40
# Win32-OpenSSH fails with "Corrupted MAC on input" on umac-128-etm (PowerShell/Win32-OpenSSH#1359; the JSC course sets MACs hmac-sha2-512-etm).
TWO_FACTOR_KNOWN = ("required", "reported")  # as ssh/master.KNOWN_TWO_FACTOR: a code will be asked
WINDOWS_MACS = "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com"


@dataclass(frozen=True)
class EntryOptions:
    user: str
    identity_file: str  # as written into the config ("~/..." or absolute)
    windows_client: bool
    control_dir: str | None  # as written into the config; None: no multiplexing
    compute_nodes: bool
    address_family: dict[str, str]  # alias -> inet/inet6/any (key-line may widen it)
    macos_keychain: bool = False  # Apple's ssh: keep the passphrase in the Keychain


def config_path_value(p: str) -> str:
    validate.config_path(p)
    return p.replace("%", "%%")


def control_dir_fits(real_dir: Path) -> bool:
    return len(str(real_dir)) + 1 + _PERCENT_C + _MUX_SUFFIX < CONTROL_PATH_MAX


def control_persist(site: Site) -> str:
    """How long an idle master stays: a working session (``login_for``) where the site asks for a
    second factor, so a plain ``ssh ALIAS`` also spares the next code; else 10 minutes."""
    if site.get("two_factor") in TWO_FACTOR_KNOWN:
        return str(site.get("login_for", "8h"))
    return "10m"


def site_entries(sites: list[Site], o: EntryOptions) -> list[HostEntry]:
    entries = []
    for s in sites:
        # Port even when it is 22: a later "Host *" / "Match all" with a Port would win otherwise
        opts: list[tuple[str, str]] = [("HostName", s.hostname), ("Port", str(s.port))]
        opts += [
            ("User", o.user),
            ("IdentityFile", config_path_value(o.identity_file)),
            ("IdentitiesOnly", "yes"),
            ("AddKeysToAgent", "yes"),
        ]
        if o.macos_keychain:  # Homebrew's and other OpenSSH builds do not know UseKeychain: ignore it there
            opts += [("IgnoreUnknown", "UseKeychain"), ("UseKeychain", "yes")]
        fam = o.address_family.get(s.alias, s.address_family)
        if fam in ("inet", "inet6"):
            opts.append(("AddressFamily", fam))
        opts += [("ServerAliveInterval", "60"), ("ServerAliveCountMax", "5")]
        if o.windows_client:
            opts.append(("MACs", WINDOWS_MACS))
        elif o.control_dir is not None:
            opts += [
                ("ControlMaster", "auto"),
                ("ControlPath", config_path_value(o.control_dir) + "/%C"),
                ("ControlPersist", control_persist(s)),
            ]
        entries.append(HostEntry(s.alias, tuple(opts), comment=f"{s.name} ({s.id})"))
    if o.compute_nodes:
        for s in sites:
            pattern = s.compute_node_pattern
            if not pattern:
                continue
            opts = [
                ("User", o.user),
                ("IdentityFile", config_path_value(o.identity_file)),
                ("IdentitiesOnly", "yes"),
                ("ProxyJump", s.alias),
                ("StrictHostKeyChecking", "accept-new"),
            ]
            if o.windows_client:
                opts.append(("MACs", WINDOWS_MACS))
            entries.append(HostEntry(pattern, tuple(opts), comment=f"{s.name} compute nodes, through {s.alias}"))
    return entries
