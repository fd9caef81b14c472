"""The doctor's data: checks, their findings and results, the report and the context they run in.

Results are values, never printed (one renderer prints them). A check returns a ``Finding``
(status, summary, hint, details); the runner stamps it with the check's id and, for a
per-host check, the host alias (``subject``), giving a ``CheckResult``. A check never
restates its own id. The JSON payload is ``Report.to_json()`` (``render.result`` makes it the
command's ``Result``, which ``sshsetup.render.show`` prints in the one envelope).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from sshsetup.catalogue import Site
from sshsetup.paths import Paths
from sshsetup.ssh.client import Ssh

JSON_VERSION = 1
T = TypeVar("T")


class Status(str, Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


_RANK = {Status.SKIP: 0, Status.OK: 0, Status.WARN: 1, Status.FAIL: 2}


@dataclass(frozen=True)
class Finding:
    """What one run of a check found (the runner adds the id and the host)."""

    status: Status
    summary: str
    hint: str | None = None
    details: tuple[str, ...] = ()


def ok(summary: str, hint: str | None = None, details: Iterable[str] = ()) -> Finding:
    return Finding(Status.OK, summary, hint, tuple(details))


def warn(summary: str, hint: str | None = None, details: Iterable[str] = ()) -> Finding:
    return Finding(Status.WARN, summary, hint, tuple(details))


def fail(summary: str, hint: str | None = None, details: Iterable[str] = ()) -> Finding:
    return Finding(Status.FAIL, summary, hint, tuple(details))


def skip(summary: str, hint: str | None = None, details: Iterable[str] = ()) -> Finding:
    return Finding(Status.SKIP, summary, hint, tuple(details))


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: Status
    summary: str
    hint: str | None = None
    details: tuple[str, ...] = ()
    subject: str | None = None  # the host alias for a per-host check

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "summary": self.summary,
            "hint": self.hint,
            "details": list(self.details),
            "subject": self.subject,
        }


@dataclass(frozen=True)
class Target:
    """One host to check: what ssh will connect to for ``alias``."""

    alias: str
    hostname: str
    port: int = 22
    address_family: str = "any"  # ssh's AddressFamily: "any", "inet" or "inet6"
    site_id: str | None = None

    @classmethod
    def from_site(cls, site: Site) -> Target:
        return cls(site.alias, site.hostname, site.port, site.address_family, site.id)


class Shared:
    """Results that later checks need, keyed by (name, subject).

    Lock-free by construction: every key has exactly one producer (a check), and a
    consumer declares that check in ``Check.needs``, so the runner starts it only after
    the producer finished. ``put`` refuses a second write: what is probed once (the one
    SSH authentication attempt per host) stays once.
    """

    def __init__(self) -> None:
        self._data: dict[tuple[str, str | None], object] = {}

    def put(self, name: str, subject: str | None, value: object) -> None:
        key = (name, subject)
        if key in self._data:
            raise RuntimeError(f"{name} for {subject} was already recorded (one producer per key)")
        self._data[key] = value

    def get(self, name: str, subject: str | None, kind: type[T]) -> T | None:
        value = self._data.get((name, subject))
        return value if isinstance(value, kind) else None


@dataclass
class DoctorContext:
    """Everything a check may read. Checks never write files, never print."""

    paths: Paths
    sites: tuple[Site, ...] = ()
    targets: tuple[Target, ...] = ()
    probe_timeout: float = 5.0  # one network probe (connect, banner, one ssh run)
    check_timeout: float = 15.0  # one check, from its start
    budget: float = 60.0  # the whole run
    known_hosts: tuple[Path, ...] = ()  # empty: ~/.ssh/known_hosts and known_hosts2
    control_dir: Path | None = None  # where the auth check puts its ControlMaster socket
    live: frozenset[str] = frozenset()  # aliases with a live master of sshsetup login: used, never a new authentication
    shared: Shared = field(default_factory=Shared)
    # Things to undo after the run (e.g. "ssh -O exit" for a ControlMaster a check started).
    # the doctor command calls them after rendering, in reverse order; a failing one is ignored.
    on_exit: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def for_sites(cls, paths: Paths, sites: Sequence[Site], **kw: Any) -> DoctorContext:
        return cls(paths=paths, sites=tuple(sites), targets=tuple(Target.from_site(s) for s in sites), **kw)

    def ssh(self) -> Ssh:
        """The one ssh client (``sshsetup.ssh.client``), with its rule for the config file."""
        return Ssh.for_paths(self.paths)

    def known_hosts_files(self) -> tuple[Path, ...]:
        if self.known_hosts:
            return self.known_hosts
        return (self.paths.ssh_dir / "known_hosts", self.paths.ssh_dir / "known_hosts2")

    def control_path(self, target: Target) -> Path | None:
        """One ControlMaster socket per host (short: sun_path is < 108 bytes); None on Windows."""
        if sys.platform == "win32" or self.control_dir is None:
            return None
        import hashlib

        digest = hashlib.sha256(f"{target.alias}|{target.hostname}|{target.port}".encode()).hexdigest()
        return self.control_dir / f"cm-{digest[:12]}"


Run = Callable[[DoctorContext, Target | None], Finding]  # as the runner calls it
HostRun = Callable[[DoctorContext, Target], Finding]  # a per-host check
RunOnce = Callable[[DoctorContext], Finding]  # a check that is not about one host


@dataclass(frozen=True)
class Check:
    """A registered check. ``run(ctx, target)`` gets a ``Target`` when ``per_host``.

    Register with :meth:`once` or :meth:`each_host`, which give the check function the
    argument it needs and nothing else. ``needs`` names checks whose results (in
    ``ctx.shared``) this one reads; for a per-host check a per-host need means the same
    host's run. When a need failed or was skipped, the runner skips this check instead of
    running it. ``after`` names checks this one waits for and may read, whatever their
    result (it runs anyway; selecting this check does not select them). Neither may form a
    cycle; the report keeps registry order.
    """

    id: str
    summary: str
    run: Run
    per_host: bool = False
    needs: tuple[str, ...] = ()
    timeout: float | None = None  # default: ctx.check_timeout
    after: tuple[str, ...] = ()

    @classmethod
    def once(cls, cid: str, summary: str, fn: RunOnce, *, needs: tuple[str, ...] = (), timeout: float | None = None) -> Check:
        """A check run once per doctor run."""
        return cls(cid, summary, lambda ctx, _target: fn(ctx), False, needs, timeout)

    @classmethod
    def each_host(cls, cid: str, summary: str, fn: HostRun, *, needs: tuple[str, ...] = (),
                  timeout: float | None = None, after: tuple[str, ...] = ()) -> Check:
        """A check run once per host (``ctx.targets``)."""

        def run(ctx: DoctorContext, target: Target | None) -> Finding:
            if target is None:
                raise TypeError(f"{cid} is a per-host check and was run without a host")
            return fn(ctx, target)

        return cls(cid, summary, run, True, needs, timeout, after)


def worst(statuses: Sequence[Status]) -> Status:
    out = Status.OK
    for s in statuses:
        if _RANK[s] > _RANK[out]:
            out = s
    return out


@dataclass(frozen=True)
class Report:
    results: tuple[CheckResult, ...]

    @property
    def status(self) -> Status:
        return worst([r.status for r in self.results])

    @property
    def exit_code(self) -> int:
        return 1 if any(r.status is Status.FAIL for r in self.results) else 0

    def counts(self) -> dict[Status, int]:
        return {s: sum(1 for r in self.results if r.status is s) for s in Status}

    def to_json(self) -> dict[str, Any]:
        """The payload of the ``doctor`` JSON envelope (version ``JSON_VERSION``)."""
        return {"status": self.status.value, "checks": [r.to_json() for r in self.results]}
