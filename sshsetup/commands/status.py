"""``sshsetup status``: per site, is a login (ControlMaster) live, where, since and until when.

Read-only towards the server: ``ssh -G`` and ``ssh -O check`` never connect to it. A stale
socket (the file is there, its master is gone, e.g. after a laptop sleep or a killed
process) is named and removed: only a socket of this user that nobody answers on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup.errors import EXIT_OK
from sshsetup.result import Result
from sshsetup.ssh import master
from sshsetup.ssh.client import Ssh

if TYPE_CHECKING:
    from sshsetup.catalogue import Site
    from sshsetup.paths import Paths

JSON_VERSION = 1
# What goes over a live master: everything that runs ssh with this config.
USED_BY = ("ssh ALIAS", "VS Code Remote-SSH", "VS Code tasks (ssh ALIAS ...)", "sshsetup wait", "sshsetup doctor",
           "sshsetup init ($PROJECT lookup)")
WINDOWS = ("Windows' own OpenSSH has no ControlMaster: every VS Code connection asks for the code again; "
           "use WSL (its ssh has ControlMaster), or accept one prompt per connection")


@dataclass(frozen=True)
class StatusOptions:
    sites: tuple[str, ...] = ()
    as_json: bool = False
    sites_file: Path | None = None


def run(paths: Paths, options: StatusOptions, *, ssh: Ssh | None = None, now: Callable[[], float] = time.time,
        platform: str = sys.platform) -> Result:
    from sshsetup.commands.login import chosen_sites

    sites = chosen_sites(paths, options.sites, options.sites_file)
    ssh = ssh or Ssh.for_paths(paths)
    doc = master.load(paths)
    before = master.load(paths)
    t = now()
    rows = [_row(ssh, s, doc, t) for s in sites]
    if doc != before:
        master.save(paths, doc)
    warnings = [WINDOWS] if platform == "win32" else []
    notes: list[str] = []
    for r in rows:
        notes.extend(_lines(r, t))
    notes += [f"warning: {w}" for w in warnings]
    data = {"sites": rows, "warnings": warnings}
    return Result("status", EXIT_OK, notes=tuple(notes), data=data, version=JSON_VERSION)


def _row(ssh: Ssh, site: Site, doc: dict[str, Any], t: float) -> dict[str, Any]:
    m = master.probe(ssh, site, doc)
    cleaned = False
    if m.state is master.State.STALE and m.control_path:
        cleaned = master.clean_stale(Path(m.control_path))
    rec_pid = (m.record or {}).get("pid")
    ours = m.state is master.State.LIVE and m.record is not None and (rec_pid is None or rec_pid == m.pid)
    if m.state is not master.State.LIVE:
        master.forget(doc, site.id)
    opened, expires = (m.opened(), m.expires()) if ours else (None, None)
    return {
        "site": site.id, "alias": site.alias, "state": m.state.value, "control_path": m.control_path, "pid": m.pid,
        "opened_by_login": ours, "login_node": m.login_node() if ours else None,
        "opened": opened, "expires": expires, "age_seconds": round(t - opened, 1) if opened else None,
        "stale_removed": cleaned, "second_factor": master.second_factor_reason(site, doc),
        "used_by": [u.replace("ALIAS", site.alias) for u in USED_BY] if m.state is master.State.LIVE else [],
    }


def _lines(r: dict[str, Any], t: float) -> list[str]:
    who = f"{r['site']} ({r['alias']})"
    state = r["state"]
    if state == "live":
        if r["opened_by_login"]:
            node = f"login node {r['login_node']}, " if r["login_node"] else ""
            out = [f"✓ {who}: logged in ({node}for {master.age(r['age_seconds'] or 0)}, "
                   f"expires {master.clock(r['expires'], t)}; pid {r['pid']})"]
        else:
            out = [f"✓ {who}: a master is open (not opened by sshsetup login; pid {r['pid']})"]
        return [*out, "  used by: " + ", ".join(r["used_by"])]
    if state == "stale":
        did = "removed" if r["stale_removed"] else "could not remove it"
        out = [f"✗ {who}: stale socket {r['control_path']} (its master is gone, e.g. after a sleep or a kill): {did}"]
    elif state == "off":
        out = [f"- {who}: no ControlMaster (ssh -G shows ControlPath none): every connection authenticates on its own"]
    else:
        out = [f"- {who}: not logged in"]
    if r["second_factor"] and state != "off":
        out.append(f"  {master.login_hint([r['site']])}")
    return out
