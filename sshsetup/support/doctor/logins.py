"""The last time the server accepted the key, per host alias: what lets doctor say "worked at 14:02, refused now".

A refusal after an accepted login points at a key removed or replaced in JuDoor, or a changed
address, not at "not yet propagated". The record is sshsetup's own state
(``<state dir>/logins.json``, mode 0600)::

    {"version": 1, "accepted": {"jsc-booster": "2026-12-03T14:02:11+00:00"}}

The checks only read it (``load``); the doctor command writes it after a run whose probe
logged in (``recorded``), through the one writer. A missing, damaged or odd file reads as empty.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from sshsetup.files import FileChange
from sshsetup.paths import Paths

VERSION = 1
MAX_BYTES = 256 * 1024


def path(paths: Paths) -> Path:
    return paths.state_dir / "logins.json"


def load(paths: Paths) -> dict[str, dt.datetime]:
    """alias -> when the server last accepted the key (aware UTC datetimes)."""
    f = path(paths)
    try:
        if not stat.S_ISREG(os.stat(f).st_mode):
            return {}
        with f.open("rb") as fh:
            doc = json.loads(fh.read(MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    accepted = doc.get("accepted") if isinstance(doc, dict) else None
    out: dict[str, dt.datetime] = {}
    for alias, when in (accepted.items() if isinstance(accepted, dict) else ()):
        try:
            stamp = dt.datetime.fromisoformat(str(when))
        except ValueError:
            continue
        if stamp.tzinfo is not None:
            out[str(alias)] = stamp
    return out


def recorded(paths: Paths, aliases: Iterable[str], when: dt.datetime) -> FileChange:
    """The change that records ``aliases`` as accepted at ``when`` (keeping the other aliases' records)."""
    accepted = {a: t.isoformat() for a, t in load(paths).items()}
    accepted.update({a: when.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat() for a in aliases})
    data = json.dumps({"version": VERSION, "accepted": accepted}, indent=2, sort_keys=True) + "\n"
    return FileChange(path(paths), data.encode("utf-8"), mode=0o600, label="sshsetup state", backup=False)


def when_text(stamp: dt.datetime, now: dt.datetime | None = None) -> str:
    """``14:02`` today, else ``2026-12-01 14:02`` (local time)."""
    local = stamp.astimezone()
    today = (now or dt.datetime.now(dt.timezone.utc)).astimezone().date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")
