"""How much slower than an idle machine the tests allow a step to be: one factor for every time margin.

``SSHSETUP_TEST_TIME_FACTOR`` (a number > 0) sets it; without it the factor is 1.5, and 3 when the
tests run under coverage (``.ci/run``), which slows every line and every subprocess; under
pytest-xdist with more workers than cores that is multiplied by workers/cores (``-n 4`` on two
cores: twice as long). Two busy cores or a slow laptop: raise it, e.g. ``SSHSETUP_TEST_TIME_FACTOR=4 pytest``.

The factor is read once, when conftest imports this module: the autouse ``fake_home`` fixture
removes every ``SSHSETUP_*`` variable from the environment of each test.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping

ENV = "SSHSETUP_TEST_TIME_FACTOR"
DEFAULT = 1.5
UNDER_COVERAGE = 3.0


def _under_coverage() -> bool:
    cov = sys.modules.get("coverage")
    return cov is not None and cov.Coverage.current() is not None


def _crowding(environ: Mapping[str, str]) -> float:
    """pytest-xdist workers per core, at least 1 (each worker sets PYTEST_XDIST_WORKER_COUNT)."""
    try:
        workers = int(environ.get("PYTEST_XDIST_WORKER_COUNT", "") or 0)
    except ValueError:
        return 1.0
    return max(1.0, workers / (os.cpu_count() or 1))


def read_factor(environ: Mapping[str, str] = os.environ) -> float:
    raw = environ.get(ENV, "").strip()
    if not raw:
        return (UNDER_COVERAGE if _under_coverage() else DEFAULT) * _crowding(environ)
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{ENV}={raw!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise SystemExit(f"{ENV}={raw!r} must be a number greater than 0")
    return value


FACTOR = read_factor()


def scaled(seconds: float) -> float:
    """A wait or timeout for something that is expected to succeed: it gets FACTOR times as long."""
    return seconds * FACTOR


def budget(expected: float, slack: float, *, below: float = math.inf) -> float:
    """The upper bound for a step that should take ``expected`` seconds: the slack scales, the expected part does not.

    ``below`` is the time the failure being tested for would take (e.g. three timeouts in a row where one
    is promised, or a 30 s lock wait): the bound stays under it, or the assertion would prove nothing.
    """
    return min(expected + slack * FACTOR, below * 0.97)
