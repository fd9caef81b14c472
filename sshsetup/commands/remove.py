"""``sshsetup remove``: undo everything sshsetup wrote; keys are listed, never deleted.

What to remove and how is ``sshsetup.removeplan``'s; this module turns it into one ``Result``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sshsetup import output, removeplan
from sshsetup.errors import EXIT_OK
from sshsetup.files import Verb
from sshsetup.paths import Paths
from sshsetup.result import Result


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


def run(paths: Paths, options: RemoveOptions, *, confirm: Callable[[str], bool] | None) -> Result:
    """``confirm``: asks before removing (interactive only); without it and ``--yes`` a ``BadInput``.

    Live logins (``sshsetup login``) are closed once the removal is agreed to, before the block that
    names their sockets goes away; a dry run or a "no" closes nothing.
    """
    closed: list[str] = []
    judoor = _judoor_reminder(paths)
    if options.yes and not options.dry_run:
        removeplan.preflight(paths)  # a removal that will be refused closes no login either
        closed = _close_logins(paths)
    elif confirm is not None and not options.dry_run:
        asked = confirm

        def confirm_then_close(question: str) -> bool:
            if not asked(question):
                return False
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
