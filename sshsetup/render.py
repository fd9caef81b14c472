"""The one renderer: a ``Result`` as text (stdout for products, stderr for prose) or as JSON."""

from __future__ import annotations

from typing import Any

import click

from sshsetup import envelope, output
from sshsetup.result import Result, outcome_data


def show(result: Result, *, as_json: bool = False) -> int:
    """Print ``result`` and return its exit code (the command's, never decided here)."""
    if as_json:  # stdout is the document alone; notes still reach the person on stderr
        for note in result.notes:
            output.say(note)
        payload: dict[str, Any] = {**result.data}
        if result.json_exit_code:
            payload["exit_code"] = result.exit_code
        if result.outcomes or result.dry_run:
            payload |= {"dry_run": result.dry_run, "outcomes": [outcome_data(o) for o in result.outcomes]}
        click.echo(envelope.dumps(result.kind, result.version, payload), nl=False)
        return result.exit_code
    output.print_diff(result.diff)
    for note in result.notes:
        output.say(note)
    if result.unchanged is not None and not result.changed:
        output.say(result.unchanged)
    elif result.outcomes:
        heading = result.heading
        if heading is None:
            heading = "Dry run: nothing was written." if result.dry_run else "Done:"
        if heading:
            output.say(heading)
        for o in result.outcomes:
            output.say(output.outcome_line(o, result.dry_run or result.declined))
    for line in result.summary:
        output.say(line)
    if result.output:
        click.echo(result.output, nl=not result.output.endswith("\n"))
    for line in result.after:
        output.say(line)
    return result.exit_code
