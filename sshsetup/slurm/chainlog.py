"""What a chain's shared output file says about its links (pure).

Every link writes ``sshsetup chain: link N of M: ...`` lines (``templates/jobs/_chain_*.j2``):
which job it is, when it started, when SIGUSR1 came, when it stopped or wrote DONE.
``parse`` reads them back; ``lost_work`` puts them next to the checkpoint times: the work
lost at a link boundary is the time from the link's last checkpoint to its end (redone by
the next link). ``finish_by`` is the latest the chain can end: every link left at full time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

_LINE = re.compile(r"^sshsetup chain: link (\d+) of (\d+): (.*)$", re.M)
_JOB = re.compile(r"^is job (\d+)$")
_START = re.compile(r"^starts at (\d+), ends by (\d+),")
_SIGNAL = re.compile(r"^SIGUSR1 at (\d+):")
_STOP = re.compile(r"^stopped at (\d+) \(exit (-?\d+)\)")
_DONE = re.compile(r"^the training wrote DONE at (\d+):")
_QUEUED = re.compile(r"^queued the next link: job (\d+)$")


@dataclass(frozen=True)
class Link:
    n: int
    job: str = ""
    start: float | None = None
    deadline: float | None = None
    signal: float | None = None
    end: float | None = None
    how: str = "running"  # running, stopped (for the next link), done, failed, skipped (DONE was there)


@dataclass(frozen=True)
class ChainLog:
    total: int  # links the chain was written for
    links: tuple[Link, ...] = ()
    queued: tuple[str, ...] = field(default=())  # --afterany: job ids links queued for the next one

    @property
    def done(self) -> bool:
        return any(link.how in ("done", "skipped") for link in self.links)


def parse(text: str) -> ChainLog:
    links: dict[int, Link] = {}
    total = 0
    queued: list[str] = []
    for m in _LINE.finditer(text):
        n, total, what = int(m.group(1)), int(m.group(2)), m.group(3)
        link = links.get(n, Link(n))
        if j := _JOB.match(what):
            link = replace(link, job=j.group(1))
        elif s := _START.match(what):
            link = replace(link, start=float(s.group(1)), deadline=float(s.group(2)))
        elif g := _SIGNAL.match(what):
            link = replace(link, signal=float(g.group(1)))
        elif e := _STOP.match(what):
            link = replace(link, end=float(e.group(1)), how="stopped")
        elif d := _DONE.match(what):
            link = replace(link, end=float(d.group(1)), how="done")
        elif q := _QUEUED.match(what):
            queued.append(q.group(1))
        elif what.startswith("DONE is there"):
            link = replace(link, how="skipped")
        elif what.startswith("the training failed"):
            link = replace(link, how="failed")
        links[n] = link
    return ChainLog(total, tuple(links[n] for n in sorted(links)), tuple(queued))


def lost_work(log: ChainLog, checkpoints: Sequence[float]) -> list[float | None]:
    """Per link that stopped for the next one: seconds from its newest checkpoint to its end (None: others)."""
    out: list[float | None] = []
    for link in log.links:
        if link.how != "stopped" or link.end is None or link.start is None:
            out.append(None)
            continue
        mine = [t for t in checkpoints if link.start <= t <= link.end + 1]
        out.append(max(0.0, link.end - max(mine)) if mine else link.end - link.start)
    return out


def finish_by(log: ChainLog, link_seconds: int, now: float) -> float | None:
    """The latest end of the chain: the running link's deadline plus every link left at full time."""
    if log.done:
        return max((link.end for link in log.links if link.end is not None), default=None)
    started = len(log.links)
    running = next((link for link in log.links if link.how == "running"), None)
    base = running.deadline if running is not None and running.deadline is not None else now
    left = log.total - started
    return base + left * link_seconds
