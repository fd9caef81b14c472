"""The one renderer: a ``Result`` as text (stdout for products, stderr for prose) or as JSON."""

from __future__ import annotations

import click

from sshsetup import envelope, output
from sshsetup.result import Result, outcome_data


def show(result: Result, *, as_json: bool = False) -> int:
    """Print ``result`` and return its exit code."""
    if as_json:
        payload = {**result.data, "exit_code": result.exit_code, "dry_run": result.dry_run,
                   "outcomes": [outcome_data(o) for o in result.outcomes]}
        click.echo(envelope.dumps(result.kind, result.version, payload), nl=False)
        return result.exit_code
    output.print_diff(result.diff)
    if result.output:
        click.echo(result.output, nl=not result.output.endswith("\n"))
    for note in result.notes:
        output.say(note)
    if result.outcomes:
        output.say("Dry run: nothing was written." if result.dry_run else "Done:")
        for o in result.outcomes:
            output.say(output.outcome_line(o, result.dry_run))
    for line in result.after:
        output.say(line)
    return result.exit_code
