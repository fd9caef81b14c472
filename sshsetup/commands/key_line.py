"""``sshsetup key-line`` and the JuDoor hand-off that ``init`` ends with."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from sshsetup import files, textfile
from sshsetup.catalogue import DEFAULT_SITES, Site, load_catalogue, select
from sshsetup.errors import EXIT_OK
from sshsetup.judoor import cidr
from sshsetup.judoor import records as keyline_state
from sshsetup.judoor.keyline import KeyLine, KeyLineOptions, address_family, compute, load_named, named_change, require_line
from sshsetup.output import say
from sshsetup.paths import Paths
from sshsetup.ssh import block as sshconfig
from sshsetup.ssh import keys

JSON_VERSION = 1


def remembered(paths: Paths) -> dict[str, object]:
    data = files.read_bytes(paths.ssh_config)
    if data is None:
        return {}
    doc = textfile.decode(data, paths.ssh_config, allow_bom=False)
    return sshconfig.remembered_options(doc.text, paths.ssh_config)


def sites_file_for(paths: Paths, given: Path | None) -> Path | None:
    """``--sites-file``, else the one ``init`` was run with (remembered in the block)."""
    if given is not None:
        return given
    rem = remembered(paths).get("sites_file")
    return Path(str(rem)) if rem else None


def named_path(paths: Paths) -> Path:
    return paths.config_dir / "ranges.json"


def record(paths: Paths, sites: list[Site], line: KeyLine, public_line: str) -> None:
    if line.line is None:
        return
    now = keyline_state.now_iso()
    recs = [
        keyline_state.KeyLineRecord(s.id, s.alias, keys.fingerprint(public_line), tuple(map(str, line.ranges)), now, line.line)
        for s in sites
    ]
    files.apply(files.plan([keyline_state.updated(paths.keylines, recs)]), dry_run=False)


def print_handoff(paths: Paths, sites: list[Site], public_line: str, line: KeyLine, *, write_state: bool) -> None:
    """The line on stdout; what it covers, where to paste it and what next on stderr."""
    for note in line.notes:
        say(f"note: {note}")
    if line.line is None:
        click.echo(public_line.strip())
        say("warning: no from= part: sshsetup could not find your public address, and JSC needs the hosts or subnets you log in from.")
        say("hint: get your network's range with: sshsetup key-line   (or give it: sshsetup key-line --from 93.199.0.0/16)")
    else:
        click.echo(line.line)
        say(f"from= covers: {', '.join(map(str, line.ranges))}" + ("" if line.covers_ipv6 else " (IPv4 only)"))
        forced = [s.alias for s in sites if address_family(s, line) == "inet"]
        if forced:
            say(f"IPv4 only: ssh is told AddressFamily inet for {', '.join(forced)}, so an IPv6 connection cannot miss these ranges.")
        if line.covers_ipv6:
            say("IPv6: the line covers IPv6 too.")
        if write_state:
            record(paths, sites, line, public_line)
        if os.environ.get("SSHSETUP_NO_CLIPBOARD") is None:
            from sshsetup import clipboard

            tool = clipboard.copy(line.line)
            if tool:
                say(f"(copied to the clipboard with {tool})")
    jsc = [s for s in sites if s.is_jsc]
    if jsc:
        url = jsc[0].get("judoor_url", "https://judoor.fz-juelich.de")
        what = "the line above" if line.line else "the line from 'sshsetup key-line'"
        say(f"Next: paste {what} into JuDoor > Manage SSH keys ({url}), once for each system:")
        for s in jsc:
            say(f"  - {s.name} ({s.alias})")
        say(f"At FZJ? Also allow the campus network: sshsetup key-line --from {cidr.FZJ} (plus your other ranges).")
        say("Propagation takes a few minutes. Then check it with: sshsetup wait")


def run(paths: Paths, *, site_ids: tuple[str, ...], sites_file: Path | None, key: Path | None, from_ranges: tuple[str, ...],
        policy: str, internal: bool | None, name: str | None, as_json: bool) -> int:
    rem = remembered(paths)
    catalogue = load_catalogue(sites_file_for(paths, sites_file), paths.sites_file)
    sites = select(catalogue, site_ids or tuple(rem.get("sites", ())) or DEFAULT_SITES)  # type: ignore[arg-type]
    key_path = key or (Path(str(rem["key"])) if rem.get("key") else paths.default_key)
    info = keys.inspect_key(key_path)
    public_line = f"{info.public_line} {info.comment}".strip()
    named = load_named(named_path(paths))
    opts = KeyLineOptions(from_ranges, cidr.parse_policy(policy), internal, rdap_cache=paths.state_dir / "rdap")
    line = compute(public_line, opts, named, bool(rem.get("compute_nodes", False)))
    if name is not None:
        from sshsetup import validate

        validate.alias(name, what="range name")
        require_line(line)
        named[name] = [str(n) for n in line.ranges if n != cidr.INTERNAL]
        files.apply(files.plan([named_change(named_path(paths), named)]), dry_run=False)
        say(f"saved ranges as {name!r}: every key line from now on includes them ({named_path(paths)})")
        line = compute(public_line, opts, named, bool(rem.get("compute_nodes", False)))
    if as_json:
        text = require_line(line)
        record(paths, sites, line, public_line)
        doc = {
            "version": JSON_VERSION,
            "line": text,
            "ranges": [str(n) for n in line.ranges],
            "covers_ipv6": line.covers_ipv6,
            "detected": line.detected,
            "notes": line.notes,
            "fingerprint": keys.fingerprint(public_line),
            "sites": [{"id": s.id, "alias": s.alias, "name": s.name, "judoor_url": s.get("judoor_url")} for s in sites],
        }
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return EXIT_OK
    require_line(line)
    print_handoff(paths, sites, public_line, line, write_state=True)
    return EXIT_OK
