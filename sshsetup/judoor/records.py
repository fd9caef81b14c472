"""What ``key-line`` produced, per site, so ``doctor`` can compare later.

``<state dir>/keylines.json``::

    {"version": 1,
     "records": {"<site id>": {"site": ..., "alias": ..., "fingerprint": "SHA256:...",
                               "ranges": ["93.199.0.0/16", "10.0.0.0/8"],
                               "generated": "2026-11-29T14:30:00+00:00", "line": "from=\\"...\\" ssh-ed25519 ..."}}}

Only the newest record per site is kept; re-running with the same ranges and key
leaves the file (and its date) unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sshsetup import state
from sshsetup.files import FileChange, read_bytes

VERSION = 1


@dataclass(frozen=True)
class KeyLineRecord:
    site: str
    alias: str
    fingerprint: str
    ranges: tuple[str, ...]
    generated: str  # ISO 8601, UTC
    line: str

    def generated_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.generated)

    def age_seconds(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.timezone.utc)
        return (now - self.generated_at()).total_seconds()


def load(path: Path) -> dict[str, KeyLineRecord]:
    data = read_bytes(path)
    if data is None:
        return {}
    try:
        doc: Any = json.loads(data.decode("utf-8"))
        recs = doc["records"]
        return {k: KeyLineRecord(**{**v, "ranges": tuple(v["ranges"])}) for k, v in recs.items()}
    except (ValueError, KeyError, TypeError):
        return {}


def updated(path: Path, new: list[KeyLineRecord]) -> FileChange:
    """The state file with ``new`` records; an unchanged record keeps its old date."""
    recs = load(path)
    for r in new:
        old = recs.get(r.site)
        if old and (old.fingerprint, old.ranges, old.line) == (r.fingerprint, r.ranges, r.line):
            continue
        recs[r.site] = r
    doc = {"version": VERSION, "records": {k: {**asdict(v), "ranges": list(v.ranges)} for k, v in sorted(recs.items())}}
    return state.change(path, doc, label="key-line state")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
