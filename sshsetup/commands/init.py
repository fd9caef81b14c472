"""``sshsetup init``: key, managed ssh config block, VS Code settings; then the JuDoor hand-off.

The plan and the writes are ``sshsetup.initplan``'s; this module turns what happened into
one ``Result`` and decides the exit code from it.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from sshsetup import initplan, output, remembered, validate
from sshsetup.commands import key_line
from sshsetup.errors import EXIT_FAIL, EXIT_OK
from sshsetup.initplan import InitOptions, Prompter
from sshsetup.paths import Paths
from sshsetup.result import Result

__all__ = ["InitOptions", "Prompter", "guide", "run"]


def with_remembered(options: InitOptions, rem: remembered.Remembered) -> InitOptions:
    """What was not given comes from the block, by the rule every command follows (``remembered``).

    The key stays as given: without ``--key`` init reuses the remembered key if it exists and
    makes a new one where it was (``initplan.build_plan``).
    """
    return replace(
        options,  # the sites: initplan.site_ids (the remembered ones plus --site, minus --drop-site)
        user=options.user if options.user is not None else rem.user,
        sites_file=remembered.sites_file(rem, options.sites_file),
        compute_nodes=rem.compute_nodes if options.compute_nodes is None else options.compute_nodes,
    )


def run(paths: Paths, options: InitOptions, *, ask: Prompter | None) -> Result:
    """``ask``: the prompts (interactive only); without it a needed answer is a ``BadInput``."""
    if options.account is not None:
        validate.account(options.account)
    options = with_remembered(options, remembered.load(paths))
    plan = initplan.build_plan(paths, options, ask)
    res = initplan.execute(paths, plan, options, ask, output.print_diff)  # the diff comes before the question
    unchanged = None if res.dry_run else "Nothing changed: everything is already set up as asked."
    summary = [f"Key: {plan.key_path}  {res.fingerprint_line}"]
    base = Result("init", outcomes=tuple(res.outcomes), dry_run=res.dry_run, notes=tuple(res.notes), unchanged=unchanged)
    if res.mismatches:
        summary.append("error: ssh does not see the settings sshsetup wrote:")
        for m in res.mismatches:
            where = f"; set first by {m.culprit}" if m.culprit else ""
            summary.append(f"  {m.alias}: {m.keyword} is {m.actual!r}, expected {m.expected!r}{where}")
        summary.append("hint: ssh uses the first value it finds; move or edit the entry named above, then run sshsetup init again")
        return replace(base, exit_code=EXIT_FAIL, summary=tuple(summary))
    if not res.dry_run:
        verb = "resolves" if len(plan.sites) == 1 else "resolve"
        summary.append(f"Checked with ssh -G: {', '.join(s.alias for s in plan.sites)} {verb} as intended.")
    families = {e.pattern: dict(e.options).get("AddressFamily", "any") for e in plan.entries}  # what the block says
    done = key_line.handoff(paths, plan.sites, plan.public_line, plan.key_line, write_state=not res.dry_run,
                            families=families, told="would be told" if res.dry_run else "is told", copy=not options.guide)
    after = list(done.after)
    if res.key_created:
        apple = " (macOS: ssh-add --apple-use-keychain KEY)" if options.client == "macos" or sys.platform == "darwin" else ""
        after.append(f"Tip: type the passphrase once per session with: ssh-add {plan.key_path}{apple}")
    return replace(base, exit_code=EXIT_OK, summary=tuple(summary) + done.notes, output=done.output, after=tuple(after))


def guide(paths: Paths, ask: Prompter) -> int:
    """The guided end on a terminal (``sshsetup.initguide``): copy, open JuDoor, Enter, then ``wait``."""
    from sshsetup import initguide

    return initguide.run(paths, initguide.Io(say=output.say, enter=ask.enter))
