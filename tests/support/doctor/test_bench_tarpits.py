"""Benchmark: three tarpit hosts must cost about one probe timeout, not three.

Issue 4 asks for <= 1.3x; the assertion allows 1 + 1 x SSHSETUP_TEST_TIME_FACTOR (under 3x, what one
probe after the other would take) so a loaded CI machine does not flake, and the measured ratio is
printed (pytest -s) for the record.
"""

from __future__ import annotations

import time

from sshsetup.support.doctor import checks_net
from sshsetup.support.doctor.model import Status, Target
from sshsetup.support.doctor.runner import run_checks
from tests.support.doctor.conftest import make_ctx
from tests.support.doctor.servers import Server
from tests.timing import budget

PROBE = 1.0


def test_three_tarpits_cost_one_timeout(servers: list[Server]) -> None:
    pits = [Server(f"127.0.0.{i}", mode="tarpit") for i in (2, 3, 4)]
    servers.extend(pits)
    ctx = make_ctx(*(Target(f"pit{i}", p.host, p.port) for i, p in enumerate(pits)), timeout=PROBE)
    t0 = time.monotonic()
    rep = run_checks(checks_net.CHECKS, ctx)
    ratio = (time.monotonic() - t0) / PROBE
    print(f"\nthree tarpit hosts: {ratio:.2f} x one probe timeout ({PROBE:g} s)")
    assert [r.status for r in rep.results if r.id == "net.banner"] == [Status.FAIL] * 3
    assert ratio < budget(1.0, 1.0, below=3.0)
