"""``sshsetup login``: open each site's ControlMaster once, on the user's terminal.

The passphrase comes from the agent or ssh's prompt, the code (TOTP) is typed once into
ssh's own prompt: sshsetup never sees either. The master is kept ``--for`` (idle time,
ssh's ControlPersist), and sshsetup records the login node it landed on and when it
expires. A live master is reused, never replaced. Every other command then goes over
that one connection (``sshsetup.ssh.master.gate``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup.errors import EXIT_FAIL, EXIT_OK
from sshsetup.result import Result
from sshsetup.ssh import master, secondfactor
from sshsetup.ssh.client import Master, Ssh

if TYPE_CHECKING:
    from sshsetup.catalogue import Site
    from sshsetup.paths import Paths

CONNECT_TIMEOUT = 15


@dataclass(frozen=True)
class LoginOptions:
    sites: tuple[str, ...] = ()
    for_: str | None = None  # --for; None: the catalogue's login_for (8h)
    timeout: float = 120.0  # the whole attempt per site, prompts included
    sites_file: Path | None = None


def chosen_sites(paths: Paths, ids: tuple[str, ...], sites_file: Path | None) -> list[Site]:
    from sshsetup import remembered
    from sshsetup.catalogue import load_catalogue

    rem = remembered.load(paths)
    cat = load_catalogue(remembered.sites_file(rem, sites_file), paths.sites_file)
    return remembered.choose_sites(cat, ids, rem)


def run(paths: Paths, options: LoginOptions, *, interactive: bool, ssh: Ssh | None = None,
        now: Callable[[], float] = time.time) -> Result:
    seconds = master.parse_duration(options.for_) if options.for_ else None
    sites = chosen_sites(paths, options.sites, options.sites_file)
    ssh = ssh or Ssh.for_paths(paths)
    doc = master.load(paths)
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    for site in sites:
        row = _one(paths, ssh, site, doc, seconds, options.timeout, interactive, now)
        rows.append(row)
        notes.extend(row.pop("lines"))
    master.save(paths, doc)
    failed = any(not r["ok"] for r in rows)
    return Result("login", EXIT_FAIL if failed else EXIT_OK, notes=tuple(notes), data={"sites": rows})


def _one(paths: Paths, ssh: Ssh, site: Site, doc: dict[str, Any], seconds: int | None, timeout: float,
         interactive: bool, now: Callable[[], float]) -> dict[str, Any]:
    who = f"{site.id} ({site.alias})"
    m = master.probe(ssh, site, doc)
    row: dict[str, Any] = {"site": site.id, "alias": site.alias, "ok": True, "lines": []}
    if m.state is master.State.LIVE:
        exp = m.expires()
        said = f"already open (expires {master.clock(exp, now())})" if exp else "already open (not opened by sshsetup login)"
        row.update(outcome="already-open", expires=exp, login_node=m.login_node(), pid=m.pid)
        row["lines"].append(f"✓ {who}: {said}")
        return row
    if m.state is master.State.OFF:
        row.update(ok=False, outcome="no-controlmaster")
        row["lines"] += [f"✗ {who}: no ControlMaster for this alias (ssh -G shows ControlPath none): nothing to keep open",
                         "  hint: run sshsetup init (Windows' own OpenSSH has none: use WSL, or accept one prompt per connection)"]
        return row
    if m.state is master.State.STALE and m.control_path and master.clean_stale(Path(m.control_path)):
        row["lines"].append(f"  {who}: removed a stale socket {m.control_path} (its master is gone)")
    master.forget(doc, site.id)
    keep = seconds if seconds is not None else master.parse_duration(master.login_for(site))
    log = _fresh_log(paths, site.id)
    argv = ssh.argv(site.alias, "hostname", batch=not interactive, verbose=1, connect_timeout=CONNECT_TIMEOUT,
                    master=Master.OPEN, options={"ControlPersist": str(keep)}, log_file=log)
    if interactive:
        done = ssh.run_on_terminal(argv, timeout=timeout)
    else:
        done = ssh.run(argv, timeout=timeout)
    t = now()
    text = _read(log) + done.stderr
    outcome = secondfactor.classify(text, timed_out=done.timed_out, now=t, last_accepted=master.last_code(doc, site.id))
    if outcome.asked:
        master.learn_second_factor(doc, site.id, "partial success (a second factor was asked after the key)", t)
    opened = master.probe(ssh, site, doc) if outcome.ok else None
    if opened is None or opened.state is not master.State.LIVE:
        if outcome.ok:
            outcome = secondfactor.Outcome("no-master", "logged in, but no master stayed open",
                                           f"check ControlPath with: ssh -G {site.alias}", outcome.asked, 0)
        row.update(ok=False, outcome=outcome.cause, title=outcome.title, refused_codes=outcome.refused_codes)
        row["lines"] += [f"✗ {who}: {outcome.title}", f"  hint: {outcome.hint}"]
        if not interactive and outcome.asked:
            row["lines"].append("  (no terminal: run sshsetup login in a terminal to type the code)")
        return row
    node = _login_node(done.stdout)
    master.record(doc, site, opened=t, seconds=keep, login_node=node, control_path=opened.control_path, pid=opened.pid)
    if outcome.cause == "code-accepted":
        master.code_accepted(doc, site.id, t)
    where = f"login node {node}, " if node else ""
    row.update(outcome="opened", expires=t + keep, login_node=node, pid=opened.pid, second_factor=outcome.asked)
    row["lines"].append(f"✓ {who}: opened ({where}expires {master.clock(t + keep, t)})")
    return row


def offer(paths: Paths, gate: master.Gate, *, ask: Callable[[str], bool] | None = None) -> bool:
    """On a terminal, instead of refusing: offer to log in to the blocked sites now. True: it tried."""
    import click

    from sshsetup.render import show

    ids = tuple(s.id for s in gate.blocked)
    question = f"{', '.join(ids)} asks for a TOTP code and has no live login. Log in now (sshsetup login)?"
    confirm = ask or (lambda q: bool(click.confirm(q, default=True, err=True)))
    if not ids or not confirm(question):
        return False
    show(run(paths, LoginOptions(sites=ids), interactive=True))
    return True


def _fresh_log(paths: Paths, site_id: str) -> Path:
    d = paths.state_dir / "login"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    log = d / f"{site_id}.log"
    log.unlink(missing_ok=True)  # a dead master may still hold the old one open: start a new file
    return log


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _login_node(stdout: str) -> str | None:
    from sshsetup import validate
    from sshsetup.errors import BadInput

    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    if not lines:
        return None
    try:
        return str(validate.hostname(lines[-1], what="login node"))
    except BadInput:
        return None
