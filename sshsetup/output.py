"""Small output helpers: prose to stderr, data and diffs to stdout, and the one colour policy."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import click

from sshsetup.files import Outcome, Verb


def use_color(stream: object = None, env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, never with ``TERM=dumb``, and never with ``NO_COLOR`` set.

    https://no-color.org: ``NO_COLOR`` "when present and not an empty string" disables colour,
    so ``NO_COLOR=`` (empty) leaves it on.
    """
    env = os.environ if env is None else env
    if env.get("NO_COLOR", "") != "" or env.get("TERM") == "dumb":
        return False
    isatty = getattr(sys.stdout if stream is None else stream, "isatty", None)
    return bool(isatty and isatty())


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


@dataclass
class DiffFirst:
    """A confirm callback that shows ``diff`` (once) before its question: nobody agrees unseen."""

    diff: str
    confirm: Callable[[str], bool]
    shown: bool = False

    def __call__(self, question: str) -> bool:
        if not self.shown:
            print_diff(self.diff)
            self.shown = True
        return self.confirm(question)
