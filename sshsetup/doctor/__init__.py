"""``sshsetup doctor``: registered checks, a concurrent runner and two renderers.

Registration is explicit and ordered (style.md 2.4): each ``checks_<area>.py`` module
defines ``CHECKS: tuple[Check, ...]`` and is listed in ``CHECKS`` below, in the order
the report shows them. A check that ``needs`` another must come after it. No import-time
side effects: the modules only define functions and data.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from sshsetup import sites
from sshsetup.doctor import checks_net, render
from sshsetup.doctor.model import Check, CheckResult, DoctorContext, Report, Shared, Status, Target
from sshsetup.doctor.runner import run_checks, select
from sshsetup.paths import Paths

# local -> config -> net -> from= ranges -> auth -> VS Code -> remote (others add theirs here)
CHECKS: tuple[Check, ...] = (*checks_net.CHECKS,)

__all__ = [
    "CHECKS", "Check", "CheckResult", "DoctorContext", "Report", "Shared", "Status", "Target",
    "command", "doctor", "run_checks", "select",
]


def command(
    ids: Sequence[str] = (),
    site_ids: Sequence[str] = (),
    sites_file: Path | None = None,
    json_out: bool = False,
    list_only: bool = False,
    verbose: bool = False,
    probe_timeout: float = 5.0,
) -> int:
    """What ``sshsetup doctor`` calls: sites from the catalogue (``--site``, default
    ``sites.DEFAULT_SITES``), one short-lived directory for ControlMaster sockets."""
    paths = Paths.from_env()
    if list_only:
        return doctor(DoctorContext(paths=paths), ids, list_only=True)
    catalogue = sites.load_catalogue(sites_file, paths.sites_file)
    chosen = sites.select(catalogue, list(site_ids) or list(sites.DEFAULT_SITES))
    with tempfile.TemporaryDirectory(prefix="sshsetup-") as tmp:  # short: a socket path is < 108 bytes
        ctx = DoctorContext.for_sites(
            paths, chosen, probe_timeout=probe_timeout, check_timeout=3 * probe_timeout + 5,
            budget=max(60.0, 12 * probe_timeout), control_dir=Path(tmp),
        )
        return doctor(ctx, ids, json_out=json_out, verbose=verbose)


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
        for undo in reversed(ctx.on_exit):
            try:
                undo()
            except Exception:  # noqa: BLE001, S110 - cleanup is best effort
                pass
    if json_out:
        stream.write(render.as_json(report))
    else:
        stream.write(render.human(report, render.use_ascii(stream), render.use_colour(stream), verbose))
    return report.exit_code
