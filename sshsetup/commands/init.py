"""Glue between click and ``init``/``remove``: options, prompts, rendering."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from sshsetup import initplan as init_cmd
from sshsetup import output
from sshsetup import removeplan as remove_cmd
from sshsetup.errors import EXIT_FAIL, EXIT_OK
from sshsetup.files import Verb
from sshsetup.paths import Paths


def _prompter() -> init_cmd.Prompter:
    return init_cmd.Prompter(
        confirm=lambda msg: click.confirm(msg, default=True, err=True),
        text=lambda msg: str(click.prompt(msg, err=True)),
        new_secret=lambda: str(
            click.prompt("Passphrase for the new key", hide_input=True, confirmation_prompt=True, err=True)
        ),
    )


def run(paths: Paths, kw: dict[str, Any], *, interactive: bool) -> int:
    opts = init_cmd.InitOptions(
        sites=tuple(kw["sites"]),
        user=kw["user"],
        key=kw["key"],
        passphrase_file=kw["passphrase_file"],
        sites_file=kw["sites_file"],
        compute_nodes=kw["compute_nodes"],
        client=kw["client"],
        dry_run=kw["dry_run"],
        yes=kw["yes"],
        insecure_empty_passphrase=kw["insecure_empty_passphrase"],
        from_ranges=tuple(kw["from_ranges"]),
        policy=kw["range_policy"],
        vscode=kw["vscode"],
        project_dir=kw["project_dir"],
        account=kw["account"],
    )
    ask = _prompter() if interactive else None
    plan = init_cmd.build_plan(paths, opts, ask)
    res = init_cmd.execute(paths, plan, opts, ask, output.print_diff)
    say = output.say
    for note in res.notes:
        say(note)
    if not res.changed and not res.dry_run:
        say("Nothing changed: everything is already set up as asked.")
    else:
        say("Dry run: nothing was written." if res.dry_run else "Done:")
        for o in res.outcomes:
            say(output.outcome_line(o, res.dry_run))
    say(f"Key: {plan.key_path}  {res.fingerprint_line}")
    if res.mismatches:
        say("error: ssh does not see the settings sshsetup wrote:")
        for m in res.mismatches:
            where = f"; set first by {m.culprit}" if m.culprit else ""
            say(f"  {m.alias}: {m.keyword} is {m.actual!r}, expected {m.expected!r}{where}")
        say("hint: ssh uses the first value it finds; move or edit the entry named above, then run sshsetup init again")
        return EXIT_FAIL
    if not res.dry_run:
        say("Checked with ssh -G: " + ", ".join(s.alias for s in plan.sites) + " resolve as intended.")
    from sshsetup.commands import key_line as keyline_cli

    keyline_cli.print_handoff(paths, plan.sites, plan.public_line, plan.key_line, write_state=not res.dry_run)
    if res.key_created:
        apple = " (macOS: ssh-add --apple-use-keychain KEY)" if opts.client == "macos" or sys.platform == "darwin" else ""
        say(f"Tip: type the passphrase once per session with: ssh-add {plan.key_path}{apple}")
    return EXIT_OK


def run_remove(paths: Paths, *, dry_run: bool, yes: bool, interactive: bool) -> int:
    confirm = (lambda msg: click.confirm(msg, default=True, err=True)) if interactive else None
    res = remove_cmd.run(paths, dry_run=dry_run, yes=yes, confirm=confirm, show_diff=output.print_diff)
    say = output.say
    changed = [o for o in res.outcomes if o.verb is not Verb.IDENTICAL]
    if not changed:
        say("Nothing to remove: sshsetup has no block or files here.")
    else:
        say("Dry run: nothing was removed." if dry_run else "Removed:")
        for o in changed:
            say(output.outcome_line(o, dry_run))
    for note in res.notes:
        say(note)
    if res.keys:
        say("Keys are never deleted by sshsetup. To delete them yourself:")
        for k in res.keys:
            say(f"  rm {k} {Path(str(k) + '.pub')}")
    return EXIT_OK
