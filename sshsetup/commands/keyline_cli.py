"""The JuDoor hand-off printed at the end of ``init`` (the from= part: key-line)."""

from __future__ import annotations

from pathlib import Path

import click

from sshsetup.output import say
from sshsetup.paths import Paths
from sshsetup.sites import Site


def print_handoff(paths: Paths, sites: list[Site], public_line: str, key_path: Path, *, record: bool) -> None:
    click.echo(public_line.strip())
    jsc = [s for s in sites if s.is_jsc]
    if jsc:
        url = jsc[0].get("judoor_url", "https://judoor.fz-juelich.de")
        say(f"Next: paste the line above into JuDoor > Manage SSH keys ({url}), once for each system:")
        for s in jsc:
            say(f"  - {s.name}")
        say("Then wait a few minutes for it to propagate and run: sshsetup wait")
