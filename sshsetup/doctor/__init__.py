"""``sshsetup doctor``: registered checks, a concurrent runner and two renderers.

Registration is explicit and ordered (style.md 2.4): each ``checks_<area>.py`` module
defines ``CHECKS: tuple[Check, ...]`` and is listed in ``CHECKS`` below, in the order
the report shows them. A check that ``needs`` another must come after it. No import-time
side effects: the modules only define functions and data.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from sshsetup.doctor import checks_net, render
from sshsetup.doctor.model import Check, CheckResult, DoctorContext, Report, Shared, Status, Target
from sshsetup.doctor.runner import run_checks, select

# local -> config -> net -> from= ranges -> auth -> VS Code -> remote (others add theirs here)
CHECKS: tuple[Check, ...] = (*checks_net.CHECKS,)

__all__ = [
    "CHECKS", "Check", "CheckResult", "DoctorContext", "Report", "Shared", "Status", "Target",
    "doctor", "run_checks", "select",
]


def doctor(
    ctx: DoctorContext,
    ids: Sequence[str] = (),
    json_out: bool = False,
    list_only: bool = False,
    verbose: bool = False,
    checks: Sequence[Check] = CHECKS,
    out: TextIO | None = None,
) -> int:
    """The command: run (or list) the selected checks, print the report, return the exit code."""
    stream = out if out is not None else sys.stdout
    selected = select(checks, ids)  # BadInput (exit 2) for an unknown id
    if list_only:
        stream.write(render.check_list(selected))
        return 0
    spinner = render.Spinner()
    try:
        report = run_checks(selected, ctx, progress=None if json_out else spinner)
    finally:
        spinner.clear()
    if json_out:
        stream.write(render.as_json(report))
    else:
        stream.write(render.human(report, render.use_ascii(stream), render.use_colour(stream), verbose))
    return report.exit_code
