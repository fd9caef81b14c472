"""The runner: crash isolation, timeouts, needs, selection, order, progress, the id stamp; the model."""

from __future__ import annotations

import time

import pytest

from sshsetup.errors import BadInput
from sshsetup.paths import Paths
from sshsetup.support.doctor import CHECKS, REMOTE_CHECKS
from sshsetup.support.doctor.model import Check, CheckResult, DoctorContext, Finding, Report, Status, Target, ok, warn
from sshsetup.support.doctor.runner import run_checks, select
from tests.timing import budget


def ctx(*aliases: str, **kw) -> DoctorContext:
    return DoctorContext(paths=Paths.from_env(), targets=tuple(Target(a, "127.0.0.1") for a in aliases), **kw)


def fine(c: DoctorContext, t: Target | None) -> Finding:
    return ok(f"fine{' ' + t.alias if t else ''}")


def boom(c, t):
    raise ValueError("bad")


def test_crash_becomes_fail_and_the_others_run() -> None:
    checks = (Check("a", "A", boom), Check("b", "B", fine))
    rep = run_checks(checks, ctx())
    assert rep.results == (
        CheckResult("a", Status.FAIL, "check crashed: ValueError('bad')", "please report this (sshsetup doctor --json output helps)"),
        CheckResult("b", Status.OK, "fine"),
    )
    assert (rep.status, rep.exit_code) == (Status.FAIL, 1)


def test_timeout_becomes_fail() -> None:
    checks = (Check("slow", "S", lambda c, t: time.sleep(5) or ok(""), timeout=0.2), Check("b", "B", fine))
    t0 = time.monotonic()
    rep = run_checks(checks, ctx())
    assert time.monotonic() - t0 < budget(0.2, 1.8, below=5)  # 5 s: waited for the slow check
    assert rep.results[0].summary == "timed out after 0.2 s"
    assert rep.results[0].status is Status.FAIL and rep.results[1].status is Status.OK


def test_overall_budget() -> None:
    checks = (Check("slow", "S", lambda c, t: time.sleep(5) or ok(""), timeout=10),)
    rep = run_checks(checks, ctx(budget=0.3))
    assert rep.results[0].status is Status.FAIL and "0.3 s" in rep.results[0].summary


def test_per_host_needs_and_shared_results_in_registry_order() -> None:
    def produce(c: DoctorContext, t: Target) -> Finding:
        time.sleep(0.2 if t.alias == "h1" else 0)  # finishes last, still reported first
        c.shared.put("n", t.alias, t.alias.upper())
        return Finding(Status.FAIL if t.alias == "h2" else Status.OK, "made")

    def consume(c: DoctorContext, t: Target) -> Finding:
        return ok(str(c.shared.get("n", t.alias, str)))

    checks = (Check.each_host("p", "P", produce), Check.each_host("q", "Q", consume, needs=("p",)))
    seen: list[tuple[int, int, str]] = []
    rep = run_checks(checks, ctx("h1", "h2"), progress=lambda d, n, r: seen.append((d, n, r.id)))
    assert [(r.id, r.subject, r.status, r.summary) for r in rep.results] == [
        ("p", "h1", Status.OK, "made"), ("p", "h2", Status.FAIL, "made"),
        ("q", "h1", Status.OK, "H1"), ("q", "h2", Status.SKIP, "skipped: needs p, which did not pass"),
    ]
    assert [d for d, _, _ in seen] == [1, 2, 3, 4] and {n for _, n, _ in seen} == {4}


def test_shared_refuses_a_second_write() -> None:
    c = ctx()
    c.shared.put("auth.probe", "h", 1)
    with pytest.raises(RuntimeError):
        c.shared.put("auth.probe", "h", 2)
    assert c.shared.get("auth.probe", "h", int) == 1 and c.shared.get("auth.probe", "h", str) is None


def test_select_adds_needs_and_rejects_unknown_ids() -> None:
    assert [c.id for c in select(CHECKS, ["net.banner"])] == ["net.dns", "net.tcp", "net.banner"]
    assert select(CHECKS, []) == CHECKS
    with pytest.raises(BadInput) as e:
        select(CHECKS, ["net.tcp", "nope"])
    assert e.value.message == "unknown check 'nope'"
    assert e.value.hint == "known checks: " + ", ".join(c.id for c in CHECKS) + " (see: sshsetup doctor --list)"


def test_report_status_and_exit_code() -> None:
    r = lambda s: CheckResult("x", s, "")  # noqa: E731
    assert (Report(()).status, Report(()).exit_code) == (Status.OK, 0)
    assert (Report((r(Status.SKIP),)).status, Report((r(Status.SKIP),)).exit_code) == (Status.OK, 0)
    assert (Report((r(Status.OK), r(Status.WARN))).status, Report((r(Status.WARN),)).exit_code) == (Status.WARN, 0)
    assert Report((r(Status.WARN), r(Status.FAIL), r(Status.OK))).status is Status.FAIL


def test_the_runner_stamps_the_id_and_the_host() -> None:
    checks = (Check.once("a.one", "first", lambda c: warn("meh", "do this", ["d"])),
              Check.each_host("b.two", "second", lambda c, t: ok(f"fine {t.alias}")))
    assert run_checks(checks, ctx("h1", "h2")).results == (
        CheckResult("a.one", Status.WARN, "meh", "do this", ("d",)),
        CheckResult("b.two", Status.OK, "fine h1", subject="h1"),
        CheckResult("b.two", Status.OK, "fine h2", subject="h2"),
    )


def test_a_check_returning_something_else_fails() -> None:
    rep = run_checks((Check("a", "A", lambda c, t: CheckResult("a", Status.OK, "x")),), ctx())  # type: ignore[arg-type, return-value]
    assert rep.results == (CheckResult("a", Status.FAIL, "check crashed: returned CheckResult", "please report this"),)


def test_a_per_host_check_without_a_host_crashes_cleanly() -> None:
    (c,) = (Check.each_host("h.x", "X", lambda c, t: ok(t.alias)),)
    with pytest.raises(TypeError, match="h.x is a per-host check and was run without a host"):
        c.run(ctx(), None)


def test_registry_ids_are_unique_and_needs_come_first() -> None:
    ids = [c.id for c in (*CHECKS, *REMOTE_CHECKS)]
    assert len(ids) == len(set(ids))
    for i, c in enumerate((*CHECKS, *REMOTE_CHECKS)):
        assert set(c.needs) <= set(ids[:i]), c.id


def test_after_waits_for_a_later_check_and_runs_whatever_it_found() -> None:
    seen: list[str] = []

    def reader(c: DoctorContext, t: Target) -> Finding:
        seen.append(str(c.shared.get("p", t.alias, str)))
        return ok("read")

    def producer(c: DoctorContext, t: Target) -> Finding:
        time.sleep(0.2)
        c.shared.put("p", t.alias, "made")
        return Finding(Status.FAIL, "failed, but made")

    checks = (Check.each_host("r", "R", reader, after=("p",)), Check.each_host("p", "P", producer))
    rep = run_checks(checks, ctx("h"))
    assert [(r.id, r.status) for r in rep.results] == [("r", Status.OK), ("p", Status.FAIL)]  # registry order kept
    assert seen == ["made"]
    assert [c.id for c in select(checks, ["r"])] == ["r"]  # after does not select
