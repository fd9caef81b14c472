"""``sshsetup key-line``: the from="..." line for JuDoor, and the hand-off that ``init`` ends with."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sshsetup import files, remembered
from sshsetup.catalogue import Site, load_catalogue
from sshsetup.errors import EXIT_OK
from sshsetup.judoor import cidr, records
from sshsetup.judoor import keyline as kl
from sshsetup.paths import Paths
from sshsetup.result import Result
from sshsetup.ssh import keys

JSON_VERSION = 1


@dataclass(frozen=True)
class KeyLineOptions:
    sites: tuple[str, ...] = ()
    sites_file: Path | None = None
    key: Path | None = None
    from_ranges: tuple[str, ...] = ()
    range_policy: str = "16"
    internal: bool | None = None
    name: str | None = None
    as_json: bool = False


@dataclass(frozen=True)
class Handoff:
    """The key line for stdout, what it covers and what to do next for stderr."""

    notes: tuple[str, ...]
    output: str
    after: tuple[str, ...]


def named_path(paths: Paths) -> Path:
    return paths.config_dir / "ranges.json"


def record(paths: Paths, sites: list[Site], line: kl.KeyLine, public_line: str) -> None:
    if line.line is None:
        return
    now = records.now_iso()
    recs = [
        records.KeyLineRecord(s.id, s.alias, keys.fingerprint(public_line), tuple(map(str, line.ranges)), now, line.line)
        for s in sites
    ]
    files.apply(files.plan([records.updated(paths.keylines, recs)]), dry_run=False)


def configured_families(paths: Paths, sites: list[Site]) -> dict[str, str] | None:
    """``AddressFamily`` per alias as ssh reads the config now (``ssh -G``); None: the config has no sshsetup block."""
    import subprocess

    from sshsetup import textfile
    from sshsetup.ssh import block
    from sshsetup.ssh.verify import ssh_g

    data = files.read_bytes(paths.ssh_config)
    if data is None or block.find_block(textfile.decode(data, paths.ssh_config, allow_bom=False).text, paths.ssh_config) is None:
        return None
    out: dict[str, str] = {}
    for s in sites:
        try:
            out[s.alias] = ssh_g(s.alias, paths.ssh_config).get("addressfamily", ["any"])[0]
        except (OSError, RuntimeError, subprocess.SubprocessError):
            continue  # ssh itself is missing or refuses the config: doctor says why; no statement here
    return out


def _family_lines(sites: list[Site], line: kl.KeyLine, families: Mapping[str, str] | None, told: str) -> list[str]:
    """What the config does about IPv6, read from it: never a statement the config does not back."""
    if families is None:
        return []
    forced = [s.alias for s in sites if families.get(s.alias) == "inet"]
    out = []
    if forced:
        out.append(f"IPv4 only: ssh {told} AddressFamily inet for {', '.join(forced)}, "
                   "so an IPv6 connection cannot miss these ranges.")
    loose = [s.alias for s in sites if families.get(s.alias) in ("any", "inet6")]
    if loose and not line.covers_ipv6:
        out.append(f"warning: the line covers IPv4 only, but ssh may connect to {', '.join(loose)} over IPv6 "
                   "(the config does not say AddressFamily inet); run: sshsetup init")
    return out


def handoff(paths: Paths, sites: list[Site], public_line: str, line: kl.KeyLine, *, write_state: bool,
            families: Mapping[str, str] | None, told: str = "is told", copy: bool = True) -> Handoff:
    """The line, what it covers, where to paste it and what next (records it with ``write_state``).

    ``families``: ``AddressFamily`` per alias as the config has it (``configured_families``); None: no block.
    """
    notes = tuple(f"note: {note}" for note in line.notes)
    after: list[str] = []
    if line.line is None:
        output = public_line.strip() + "\n"
        after.append("warning: no from= part: sshsetup could not find your public address, "
                     "and JSC needs the hosts or subnets you log in from.")
        after.append("hint: get your network's range with: sshsetup key-line   (or give it: sshsetup key-line --from 93.199.0.0/16)")
    else:
        output = line.line + "\n"
        after.append(f"from= covers: {', '.join(map(str, line.ranges))}" + ("" if line.covers_ipv6 else " (IPv4 only)"))
        after += _family_lines(sites, line, families, told)
        if line.covers_ipv6:
            after.append("IPv6: the line covers IPv6 too.")
        if write_state:
            record(paths, sites, line, public_line)
        if copy and os.environ.get("SSHSETUP_NO_CLIPBOARD") is None:  # copy=False: init's guide copies and says so
            from sshsetup import clipboard

            tool = clipboard.copy(line.line)
            if tool:
                after.append(f"(copied to the clipboard with {tool})")
    jsc = [s for s in sites if s.is_jsc]
    if jsc:
        url = jsc[0].get("judoor_url", "https://judoor.fz-juelich.de")
        what = "the line above" if line.line else "the line from 'sshsetup key-line'"
        after.append(f"Next: paste {what} into JuDoor > Manage SSH keys ({url}), once for each system:")
        after += [f"  - {s.name} ({s.alias})" for s in jsc]
        after.append(f"At FZJ? Also allow the campus network: sshsetup key-line --from {cidr.FZJ} (plus your other ranges).")
        after.append("Propagation takes a few minutes. Then check it with: sshsetup wait")
    return Handoff(notes, output, tuple(after))


def run(paths: Paths, options: KeyLineOptions) -> Result:
    rem = remembered.load(paths)
    catalogue = load_catalogue(remembered.sites_file(rem, options.sites_file), paths.sites_file)
    sites = remembered.choose_sites(catalogue, options.sites, rem)
    info = keys.inspect_key(options.key or rem.key or paths.default_key)
    public_line = f"{info.public_line} {info.comment}".strip()
    named = kl.load_named(named_path(paths))
    opts = kl.KeyLineOptions(options.from_ranges, cidr.parse_policy(options.range_policy), options.internal,
                             rdap_cache=paths.state_dir / "rdap")
    line = kl.compute(public_line, opts, named, rem.compute_nodes, sites)
    saved: tuple[str, ...] = ()
    if options.name is not None:
        from sshsetup import validate

        validate.alias(options.name, what="range name")
        kl.require_line(line)
        named[options.name] = [str(n) for n in line.ranges if n != cidr.INTERNAL]
        files.apply(files.plan([kl.named_change(named_path(paths), named)]), dry_run=False)
        saved = (f"saved ranges as {options.name!r}: every key line from now on includes them ({named_path(paths)})",)
        line = kl.compute(public_line, opts, named, rem.compute_nodes, sites)
    text = kl.require_line(line)
    families = configured_families(paths, sites)
    setup = families is not None  # without a block there is nothing set up: no state is written for it
    if options.as_json:
        if setup:
            record(paths, sites, line, public_line)
        data = {
            "line": text,
            "ranges": [str(n) for n in line.ranges],
            "covers_ipv6": line.covers_ipv6,
            "detected": line.detected,
            "notes": line.notes,
            "fingerprint": keys.fingerprint(public_line),
            "sites": [{"id": s.id, "alias": s.alias, "name": s.name, "judoor_url": s.get("judoor_url")} for s in sites],
        }
        return Result("key-line", EXIT_OK, data=data, version=JSON_VERSION, notes=saved)
    done = handoff(paths, sites, public_line, line, write_state=setup, families=families)
    after = done.after
    if not setup:
        after = (f"note: {paths.ssh_config} has no sshsetup block: no host is set up for this key yet; run: sshsetup init",
                 *after)
    return Result("key-line", EXIT_OK, notes=saved + done.notes, output=done.output, after=after)
