"""The last time the server accepted the key, per site: what lets doctor say "it accepted the key at 14:02".

A refusal after an accepted login points at a key removed or replaced in JuDoor, or a changed
address, not at "not yet propagated". The time is kept in sshsetup's login records, whose owner
is ``sshsetup.ssh.master`` (``<state dir>/logins.json``, written by the one writer), under
``keys_accepted``: ``{"keys_accepted": {"<site id>": <epoch seconds>}, ...}``.

The checks only read it (``last_accepted``); the doctor command records it after a run whose
probe logged in (``record``). A missing, damaged or odd file reads as no record.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from typing import Any

from sshsetup.errors import SshSetupError
from sshsetup.paths import Paths
from sshsetup.ssh import master

KEY = "keys_accepted"


def _doc(paths: Paths) -> dict[str, Any]:
    try:
        if not stat.S_ISREG(os.stat(master.records_path(paths)).st_mode):
            return {}  # a FIFO or a directory is never opened
        return master.load(paths)
    except (OSError, SshSetupError, RecursionError):
        return {}


def last_accepted(paths: Paths, site_id: str) -> float | None:
    """When the server last accepted the key for ``site_id`` (epoch seconds), if recorded."""
    accepted = _doc(paths).get(KEY)
    value = accepted.get(site_id) if isinstance(accepted, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def record(paths: Paths, site_ids: Iterable[str], now: float, *, second_factor: Iterable[str] = ()) -> None:
    """Record ``site_ids`` as accepted at ``now`` and ``second_factor`` as asking for one (as ``wait`` learns it),
    keeping every other record; one write (raises ``SshSetupError``)."""
    doc = _doc(paths)
    old = doc.get(KEY)
    accepted: dict[str, Any] = dict(old) if isinstance(old, dict) else {}
    accepted.update({s: round(now, 3) for s in site_ids})
    doc[KEY] = accepted
    learned = doc.get("second_factor")
    known: dict[str, Any] = learned if isinstance(learned, dict) else {}
    for site_id in second_factor:
        if site_id not in known:
            master.learn_second_factor(doc, site_id, "partial success (a second factor was asked after the key)", now)
    master.save(paths, doc)
