"""``sshsetup remove``: undo everything sshsetup wrote; keys are listed, never deleted.

What to remove and how is ``sshsetup.removeplan``'s; this module turns it into one ``Result``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sshsetup import output, removeplan
from sshsetup.errors import EXIT_OK
from sshsetup.files import Verb
from sshsetup.paths import Paths
from sshsetup.result import Result

if TYPE_CHECKING:
    from sshsetup.catalogue import Site


@dataclass(frozen=True)
class RemoveOptions:
    dry_run: bool = False
    yes: bool = False


def _close_logins(paths: Paths) -> list[str]:
    """``sshsetup logout`` for every site the block set up, while its ControlPath is still in the config."""
    from sshsetup.commands import logout

    if not paths.ssh_config.is_file():
        return []
    done = logout.run(paths, logout.LogoutOptions())
    return [n for n in done.notes if not n.startswith("- ")]  # "- SITE: not logged in" says nothing here


def _judoor_reminder(paths: Paths) -> list[str]:
    """Read before removing: the key that JuDoor still holds for the sites the block set up (JSC sites only)."""
    from sshsetup import remembered
    from sshsetup.catalogue import load_catalogue
    from sshsetup.errors import SshSetupError
    from sshsetup.judoor import records

    try:
        rem = remembered.load(paths)
        if not rem.sites:
            return []
        sites = remembered.choose_sites(load_catalogue(rem.sites_file, paths.sites_file), (), rem)
    except SshSetupError:
        return []  # a damaged block or sites file: removeplan says so
    jsc = [s for s in sites if s.is_jsc]
    if not jsc:
        return []
    prints = sorted({r.fingerprint for r in records.load(paths.keylines).values() if r.site in {s.id for s in jsc}})
    which = f"the key {', '.join(prints)}" if prints else "the key you uploaded"
    url = jsc[0].get("judoor_url", "https://judoor.fz-juelich.de")
    return [f"JuDoor still accepts {which} for {', '.join(s.name for s in jsc)}: "
            f"delete it there too (JuDoor > Manage SSH keys, {url}) if you no longer use it."]


@dataclass(frozen=True)
class LoginNode:
    """A login node where ``code``/``serve`` installed the helper (``~/.sshsetup``), read before anything goes."""

    site: Site
    by_hand: str  # the one command that deletes sshsetup's files there, without the block's alias

    @property
    def who(self) -> str:
        return f"{self.site.id} ({self.site.alias})"


def _login_nodes(paths: Paths) -> list[LoginNode]:
    from sshsetup import remembered, state
    from sshsetup.catalogue import load_catalogue
    from sshsetup.errors import SshSetupError
    from sshsetup.slurm import session_remote
    from sshsetup.ssh.client import shell_join

    try:
        ids = session_remote.login_nodes(state.load(paths.manifest))
        if not ids:
            return []
        rem = remembered.load(paths)
        catalogue = load_catalogue(rem.sites_file, paths.sites_file)
        sites = remembered.choose_sites(catalogue, [i for i in ids if i in catalogue], rem)
    except SshSetupError:
        return []  # a damaged block, record or sites file: removeplan says so
    out = []
    for s in sites:
        words = ["ssh", "-p", str(s.port)]
        if rem.key is not None:
            words += ["-i", str(rem.key)]
        words += [f"{rem.user}@{s.hostname}" if rem.user else s.hostname, session_remote.BY_HAND]
        out.append(LoginNode(s, shell_join(words)))
    return out


def _offer_lines(nodes: list[LoginNode]) -> list[str]:
    return [f"On the login node of {n.who}: sshsetup's helper files in ~/.sshsetup (deleted over the open login only)"
            for n in nodes]


def _clean_login_nodes(paths: Paths, nodes: list[LoginNode], *, dry_run: bool) -> list[str]:
    """Over each site's live master only (never a new authentication); without one, what to type instead."""
    from sshsetup.slurm import session_remote
    from sshsetup.ssh import master
    from sshsetup.ssh.client import Ssh

    if not nodes:
        return []
    ssh = Ssh.for_paths(paths)
    doc = master.load(paths)
    notes = []
    for n in nodes:
        live = master.probe(ssh, n.site, doc).state is master.State.LIVE
        if not live:
            notes.append(f"- {n.who}: no open login, so nothing was contacted; sshsetup's helper files stay in ~/.sshsetup "
                         f"on the login node: delete them with: {n.by_hand}")
            continue
        if dry_run:
            notes.append(f"- {n.who}: would delete sshsetup's helper files in ~/.sshsetup on the login node, over the open login")
            continue
        done = session_remote.clean_login_node(ssh, n.site.alias)
        if done.outcome == "removed":
            notes.append(f"✓ {n.who}: deleted ~/.sshsetup on the login node (sshsetup's helper files), over the open login")
        elif done.outcome == "absent":
            notes.append(f"✓ {n.who}: ~/.sshsetup is already gone from the login node")
        elif done.outcome == "kept":
            notes.append(f"- {n.who}: deleted sshsetup's helper files; kept ~/.sshsetup on the login node, which still holds: "
                         + (", ".join(done.left) or "(nothing listed)"))
        else:
            notes.append(f"✗ {n.who}: could not clean ~/.sshsetup on the login node ({'; '.join(done.left)}); "
                         f"delete sshsetup's helper files with: {n.by_hand}")
    return notes


def run(paths: Paths, options: RemoveOptions, *, confirm: Callable[[str], bool] | None) -> Result:
    """``confirm``: asks before removing (interactive only); without it and ``--yes`` a ``BadInput``.

    Live logins (``sshsetup login``) are closed once the removal is agreed to, before the block that
    names their sockets goes away; a dry run or a "no" closes nothing.
    """
    closed: list[str] = []
    judoor = _judoor_reminder(paths)
    nodes = _login_nodes(paths)
    if options.yes and not options.dry_run:
        removeplan.preflight(paths)  # a removal that will be refused closes no login either
        closed = _clean_login_nodes(paths, nodes, dry_run=False) + _close_logins(paths)
    elif options.dry_run:
        closed = _clean_login_nodes(paths, nodes, dry_run=True)
    elif confirm is not None:
        asked = confirm

        def confirm_then_close(question: str) -> bool:
            for line in _offer_lines(nodes):
                output.say(line)
            if not asked(question):
                return False
            closed.extend(_clean_login_nodes(paths, nodes, dry_run=False))  # while the logins are still open
            closed.extend(_close_logins(paths))
            return True

        confirm = confirm_then_close
    res = removeplan.run(paths, dry_run=options.dry_run, yes=options.yes, confirm=confirm, show_diff=output.print_diff)
    after = closed + list(res.notes)
    if res.keys:
        after.append("Keys are never deleted by sshsetup. To delete them yourself:")
        after += [f"  rm {k} {Path(str(k) + '.pub')}" for k in res.keys]
    if any(o.verb is Verb.DELETE or o.verb is Verb.UPDATE for o in res.outcomes):
        after += judoor
    return Result(
        "remove",
        EXIT_OK,
        outcomes=tuple(o for o in res.outcomes if o.verb is not Verb.IDENTICAL),
        dry_run=options.dry_run,
        heading="Dry run: nothing was removed." if options.dry_run else "Removed:",
        unchanged="Nothing to remove: sshsetup has no block or files here.",
        summary=tuple(after),
    )
