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


def run(paths: Paths, options: RemoveOptions, *, confirm: Callable[[str], bool] | None) -> Result:
    """``confirm``: asks before removing (interactive only); without it and ``--yes`` a ``BadInput``."""
    res = removeplan.run(paths, dry_run=options.dry_run, yes=options.yes, confirm=confirm, show_diff=output.print_diff)
    after = list(res.notes)
    if res.keys:
        after.append("Keys are never deleted by sshsetup. To delete them yourself:")
        after += [f"  rm {k} {Path(str(k) + '.pub')}" for k in res.keys]
    return Result(
        "remove",
        EXIT_OK,
        outcomes=tuple(o for o in res.outcomes if o.verb is not Verb.IDENTICAL),
        dry_run=options.dry_run,
        heading="Dry run: nothing was removed." if options.dry_run else "Removed:",
        unchanged="Nothing to remove: sshsetup has no block or files here.",
        summary=tuple(after),
    )
