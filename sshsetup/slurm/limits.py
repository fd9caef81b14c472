"""Live partition limits: what the cluster itself says (``scontrol show partition``), cached per site.

Where the site's login is live (``ssh.master.check``), ``jobscript`` asks the cluster over
that one connection (``Master.REUSE``: no new authentication) and checks against its
answer: the partition names, their ``MaxTime``, the GPUs per node (``sinfo %G``). Every
answer is cached per site with its time in ``<state dir>/slurm-limits.json``; when the
live question fails, the cached answer is used and its age said. Without a live login
nothing is asked and ``jobscript`` uses the catalogue, as before.

``parse`` is pure; ``fetch``/``load``/``store`` do the little I/O.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup.catalogue import Partition, parse_time
from sshsetup.errors import BadInput

if TYPE_CHECKING:
    from sshsetup.catalogue import Site
    from sshsetup.paths import Paths
    from sshsetup.ssh.client import Ssh

VERSION = 1
SINFO_MARK = "#sshsetup-sinfo"
# one fixed command line, no user text in it: both answers in one round trip
REMOTE = f"scontrol --oneliner show partition && echo '{SINFO_MARK}' && sinfo -h -o '%R|%G'"
TIMEOUT = 20.0
_WORD = re.compile(r"(\w+)=(\S*)")
_GPU = re.compile(r"(?:^|,)gpu(?::[A-Za-z0-9_.-]+)?:(\d+)")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Limits:
    """A cluster's GPU partitions as it reported them, and where that came from."""

    site: str
    partitions: Mapping[str, Partition]  # only partitions whose nodes have GPUs
    default: str | None  # the cluster's Default=YES partition, if it has GPUs
    fetched: float  # epoch seconds of the answer
    cached: bool = False  # True: the stored answer (the live question failed just now)

    def source(self, now: float | None = None) -> str:
        """``the cluster (scontrol show partition, just now)`` or ``... cached 12m ago``."""
        if not self.cached:
            return "the cluster (scontrol show partition, just now)"
        age = max(0, int((time.time() if now is None else now) - self.fetched))
        shown = f"{age // 3600}h{age % 3600 // 60:02d}m" if age >= 3600 else f"{age // 60}m"
        return f"the cluster (scontrol show partition, cached {shown} ago)"


def _minutes(value: str) -> int | None:
    if value in ("UNLIMITED", "INFINITE", "NONE", ""):
        return None
    try:
        return parse_time(value)
    except BadInput:  # a value this version cannot read: the cluster will decide
        return None


def parse(text: str, *, devel: tuple[str, ...] = ()) -> tuple[dict[str, Partition], str | None]:
    """``scontrol --oneliner show partition`` + marker + ``sinfo -h -o '%R|%G'`` -> GPU partitions, default."""
    scontrol, _, sinfo = text.partition(SINFO_MARK)
    gpus: dict[str, int] = {}
    for line in sinfo.splitlines():
        name, _, gres = line.strip().partition("|")
        found = [int(n) for n in _GPU.findall(gres)]
        if name and found:
            gpus[name] = max(gpus.get(name, 0), sum(found))
    parts: dict[str, Partition] = {}
    default: str | None = None
    for line in scontrol.splitlines():
        fields = dict(_WORD.findall(line))
        name = fields.get("PartitionName", "")
        if not _NAME.fullmatch(name) or gpus.get(name, 0) < 1 or fields.get("State", "UP") != "UP":
            continue
        kind = "devel" if name in devel or name.startswith("devel") else "gpu"
        parts[name] = Partition(name, kind, _minutes(fields.get("MaxTime", "")), gpus[name])
        if fields.get("Default") == "YES":
            default = name
    return parts, default


def cache_path(paths: Paths) -> Path:
    return paths.state_dir / "slurm-limits.json"


def load(paths: Paths, site: Site) -> Limits | None:
    """The cached answer for ``site``, or None."""
    from sshsetup import state

    entry = state.load(cache_path(paths)).get("sites", {}).get(site.id)
    if not isinstance(entry, dict) or not isinstance(entry.get("fetched"), (int, float)):
        return None
    try:
        parts = {n: Partition(n, str(p["kind"]), p["max_time_minutes"], p["gpus_per_node"]) for n, p in entry["partitions"].items()}
    except (KeyError, TypeError, AttributeError):
        return None
    return Limits(site.id, parts, entry.get("default"), float(entry["fetched"]), cached=True)


def store(paths: Paths, limits: Limits) -> None:
    from sshsetup import files, state

    doc: dict[str, Any] = state.load(cache_path(paths))
    doc.pop("damaged", None)
    doc["version"] = VERSION
    doc.setdefault("sites", {})[limits.site] = {
        "fetched": round(limits.fetched, 3), "default": limits.default,
        "partitions": {n: {"kind": p.kind, "max_time_minutes": p.max_time_minutes, "gpus_per_node": p.gpus_per_node}
                       for n, p in limits.partitions.items()},
    }
    files.apply(files.plan([state.change(cache_path(paths), doc, label="live Slurm limits")]), dry_run=False)


def fetch(ssh: Ssh, site: Site, *, now: float | None = None) -> Limits | None:
    """Ask the cluster over the site's live master; None when the answer is missing or unreadable."""
    from sshsetup.ssh.client import Master

    done = ssh.run(ssh.argv(site.alias, REMOTE, master=Master.REUSE, connect_timeout=10), timeout=TIMEOUT)
    if not done.ok or SINFO_MARK not in done.stdout:
        return None
    parts, default = parse(done.stdout, devel=tuple(site.get("devel_partitions", []) or ()))
    if not parts:
        return None
    return Limits(site.id, parts, default, time.time() if now is None else now)


def live(paths: Paths, ssh: Ssh, site: Site, *, save: bool = True) -> Limits | None:
    """The cluster's limits when ``site``'s login is live (fresh, else cached); None offline (use the catalogue)."""
    from sshsetup.ssh import master

    gate = master.check(paths, ssh, [site])
    if not gate.live:
        return None
    got = fetch(ssh, site)
    if got is None:
        return load(paths, site)
    if save:
        store(paths, got)
    return got
