"""``sshsetup logout``: close each site's ControlMaster (``ssh -O exit``) and say what was closed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup.errors import EXIT_FAIL, EXIT_OK
from sshsetup.result import Result
from sshsetup.ssh import master
from sshsetup.ssh.client import Ssh

if TYPE_CHECKING:
    from sshsetup.paths import Paths


@dataclass(frozen=True)
class LogoutOptions:
    sites: tuple[str, ...] = ()
    sites_file: Path | None = None


def run(paths: Paths, options: LogoutOptions, *, ssh: Ssh | None = None, now: Callable[[], float] = time.time) -> Result:
    from sshsetup.commands.login import chosen_sites

    sites = chosen_sites(paths, options.sites, options.sites_file)
    ssh = ssh or Ssh.for_paths(paths)
    doc = master.load(paths)
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    for site in sites:
        who = f"{site.id} ({site.alias})"
        m = master.probe(ssh, site, doc)
        row: dict[str, Any] = {"site": site.id, "alias": site.alias, "ok": True}
        if m.state is master.State.LIVE:
            done = ssh.control(site.alias, "exit")
            if done.ok:
                since = f", open since {master.clock(m.opened() or 0, now())}" if m.opened() else ""
                node = f" on {m.login_node()}" if m.login_node() else ""
                notes.append(f"✓ {who}: closed the login{node} (pid {m.pid}{since})")
                row["outcome"] = "closed"
            else:
                notes += [f"✗ {who}: ssh -O exit failed: {' '.join(done.stderr_lines) or 'no answer'}",
                          f"  hint: the master is pid {m.pid}; end it with: kill {m.pid}"]
                row.update(ok=False, outcome="exit-failed")
        elif m.state is master.State.STALE:
            removed = bool(m.control_path) and master.clean_stale(Path(str(m.control_path)))
            notes.append(f"✓ {who}: no live login; " + ("removed its stale socket" if removed else "a stale socket remains"))
            row["outcome"] = "stale-removed" if removed else "stale"
        else:
            notes.append(f"- {who}: not logged in")
            row["outcome"] = "not-logged-in"
        if row["ok"]:
            master.forget(doc, site.id)
        rows.append(row)
    master.save(paths, doc)
    failed = any(not r["ok"] for r in rows)
    return Result("logout", EXIT_FAIL if failed else EXIT_OK, notes=tuple(notes), data={"sites": rows})
