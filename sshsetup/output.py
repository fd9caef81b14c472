"""Small output helpers: prose to stderr, data and diffs to stdout."""

from __future__ import annotations

import os
import sys

import click

from sshsetup.files import Outcome, Verb


def use_color(stream: object = None) -> bool:
    s = stream or sys.stdout
    return bool(getattr(s, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def say(msg: str = "") -> None:
    click.echo(msg, err=True)


def outcome_line(o: Outcome, dry_run: bool) -> str:
    verb = o.verb.value
    if dry_run and o.verb in (Verb.CREATE, Verb.UPDATE, Verb.DELETE):
        verb = f"would {verb}"
    line = f"  {verb:<16} {o.path}"
    if o.backup:
        line += f"  (backup: {o.backup.name})"
    if o.reason:
        line += f"  ({o.reason})"
    return line


def print_diff(text: str) -> None:
    if not text:
        return
    if use_color():
        for line in text.splitlines():
            fg = "green" if line.startswith("+") else "red" if line.startswith("-") else "cyan" if line.startswith("@@") else None
            click.secho(line, fg=fg)
    else:
        click.echo(text, nl=False)
