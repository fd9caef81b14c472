"""Run checks concurrently: one thread per (check, host), each with its own timeout.

Dead hosts cost about one timeout in total, not one each: every host's probes run at
the same time. A check that raises becomes ``fail`` ("check crashed"); one that runs
past its timeout becomes ``fail`` ("timed out after N s") and is abandoned (its thread
is a daemon and checks only read, so nothing is left half-written). The report lists
results in registry order, then target order, whatever order they finished in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sshsetup.errors import BadInput
from sshsetup.support.doctor.model import Check, CheckResult, DoctorContext, Finding, Report, Status, Target

Progress = Callable[[int, int, CheckResult], None]  # (done, total, the result just finished)


def select(checks: Sequence[Check], ids: Sequence[str]) -> tuple[Check, ...]:
    """The checks named by ``ids`` plus what they need, in registry order (all when empty)."""
    if not ids:
        return tuple(checks)
    by_id = {c.id: c for c in checks}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise BadInput(
            f"unknown check {unknown[0]!r}",
            hint="known checks: " + ", ".join(c.id for c in checks) + " (see: sshsetup doctor --list)",
        )
    wanted: set[str] = set()
    todo = list(ids)
    while todo:
        cid = todo.pop()
        if cid not in wanted:
            wanted.add(cid)
            todo.extend(by_id[cid].needs)
    return tuple(c for c in checks if c.id in wanted)


@dataclass
class _Task:
    check: Check
    target: Target | None
    needs: list[_Task] = field(default_factory=list)
    after: list[_Task] = field(default_factory=list)  # waited for, whatever their result
    done: threading.Event = field(default_factory=threading.Event)
    result: CheckResult | None = None

    @property
    def subject(self) -> str | None:
        return self.target.alias if self.target else None

    def make(self, status: Status, summary: str, hint: str | None = None) -> CheckResult:
        return CheckResult(self.check.id, status, summary, hint, subject=self.subject)


def _plan(checks: Sequence[Check], ctx: DoctorContext) -> list[_Task]:
    tasks = [_Task(c, t) for c in checks for t in (ctx.targets if c.per_host else (None,))]
    index = {(task.check.id, task.subject): task for task in tasks}

    def find(cid: str, subject: str | None) -> list[_Task]:
        if (cid, subject) in index:  # the same host's run
            return [index[(cid, subject)]]
        if (cid, None) in index:
            return [index[(cid, None)]]
        return [v for (c, _), v in index.items() if c == cid]  # a global check needing a per-host one: all hosts

    for task in tasks:
        task.needs = [n for cid in task.check.needs for n in find(cid, task.subject)]
        task.after = [n for cid in task.check.after for n in find(cid, task.subject)]
    return tasks


def _call(task: _Task, ctx: DoctorContext) -> CheckResult:
    """Run the check and stamp its finding with the check's id and the host."""
    try:
        found = task.check.run(ctx, task.target)
    except Exception as exc:  # noqa: BLE001 - a broken check must not break the report
        return task.make(Status.FAIL, f"check crashed: {exc!r}", "please report this (sshsetup doctor --json output helps)")
    if not isinstance(found, Finding):
        return task.make(Status.FAIL, f"check crashed: returned {type(found).__name__}", "please report this")
    return CheckResult(task.check.id, found.status, found.summary, found.hint, found.details, task.subject)


def _work(task: _Task, ctx: DoctorContext, deadline: float, finish: Callable[[_Task, CheckResult], None]) -> None:
    for first in task.after:
        if not first.done.wait(max(0.0, deadline - time.monotonic())):
            finish(task, task.make(Status.SKIP, f"skipped: {first.check.id} did not finish in time"))
            return
    for need in task.needs:
        if not need.done.wait(max(0.0, deadline - time.monotonic())):
            finish(task, task.make(Status.SKIP, f"skipped: {need.check.id} did not finish in time"))
            return
        assert need.result is not None
        if need.result.status in (Status.FAIL, Status.SKIP):
            finish(task, task.make(Status.SKIP, f"skipped: needs {need.check.id}, which did not pass"))
            return
    own = task.check.timeout or ctx.check_timeout
    limit = min(own, max(0.0, deadline - time.monotonic()))
    box: list[CheckResult] = []
    inner = threading.Thread(target=lambda: box.append(_call(task, ctx)), daemon=True, name=f"check {task.check.id}")
    inner.start()
    inner.join(limit)
    if box:
        finish(task, box[0])
    elif limit < own:
        finish(task, _over_budget(task, ctx))
    else:
        finish(task, task.make(Status.FAIL, f"timed out after {own:g} s", "a network or process call hung; run the check again alone: sshsetup doctor " + task.check.id))


def _over_budget(task: _Task, ctx: DoctorContext) -> CheckResult:
    return task.make(Status.FAIL, f"not finished within the overall budget of {ctx.budget:g} s", "run fewer checks, e.g. sshsetup doctor " + task.check.id)


def run_checks(checks: Sequence[Check], ctx: DoctorContext, progress: Progress | None = None) -> Report:
    """Run ``checks`` (already selected) against ``ctx``; never raises for a check's sake."""
    tasks = _plan(checks, ctx)
    deadline = time.monotonic() + ctx.budget
    lock = threading.Lock()
    finished = [0]

    def finish(task: _Task, res: CheckResult) -> None:
        with lock:  # results and the progress callback: one at a time
            if task.result is not None:
                return
            task.result = res
            finished[0] += 1
            if progress is not None:
                progress(finished[0], len(tasks), res)
        task.done.set()

    threads = [threading.Thread(target=_work, args=(t, ctx, deadline, finish), daemon=True) for t in tasks]
    for th in threads:
        th.start()
    for t in tasks:
        if not t.done.wait(max(0.0, deadline - time.monotonic()) + 0.05):
            finish(t, _over_budget(t, ctx))
    return Report(tuple(t.result for t in tasks if t.result is not None))
