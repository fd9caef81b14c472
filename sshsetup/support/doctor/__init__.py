"""``sshsetup doctor``: registered checks, a concurrent runner and two renderers.

Registration is explicit and ordered: each ``checks_<area>.py`` module
defines ``CHECKS: tuple[Check, ...]``, listed below in the order the report shows
them (local -> config -> net -> from= ranges and auth -> VS Code; remote only with
``--remote``). A check that ``needs`` another must come after it. No import-time
side effects: the modules only define functions and data.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from sshsetup import catalogue as sites
from sshsetup.paths import Paths
from sshsetup.support.doctor import checks_auth, checks_config, checks_local, checks_net, checks_remote, checks_vscode, render
from sshsetup.support.doctor.model import Check, CheckResult, DoctorContext, Report, Shared, Status, Target
from sshsetup.support.doctor.runner import run_checks, select

CHECKS: tuple[Check, ...] = (
    *checks_local.CHECKS, *checks_config.CHECKS, *checks_net.CHECKS, *checks_auth.CHECKS, *checks_vscode.CHECKS,
)
REMOTE_CHECKS: tuple[Check, ...] = checks_remote.CHECKS  # opt-in: --remote, or an id that names one

__all__ = [
    "CHECKS", "REMOTE_CHECKS", "Check", "CheckResult", "DoctorContext", "Report", "Shared", "Status", "Target",
    "command", "doctor", "run_checks", "select",
]


def _sites(paths: Paths, site_ids: Sequence[str], sites_file: Path | None) -> list[sites.Site]:
    """``--site``, else the sites (and sites file) the managed block remembers, else the defaults."""
    opts = checks_local.managed(DoctorContext(paths=paths)).options
    given = sites_file or (Path(str(opts["sites_file"])) if opts.get("sites_file") else None)
    catalogue = sites.load_catalogue(given, paths.sites_file)
    remembered = [str(s) for s in opts.get("sites", []) if str(s) in catalogue]
    return sites.select(catalogue, list(site_ids) or remembered or list(sites.DEFAULT_SITES))


def real_targets(ctx: DoctorContext) -> tuple[Target, ...]:
    """What ssh will really connect to (``ssh -G``: HostName, Port, AddressFamily), not what the catalogue says."""
    out = []
    for t in ctx.targets:
        r = checks_config.resolved(ctx, t.alias)  # memoised: config.ssh-g reuses it
        if r.options is None or (r.first("hostname") == t.alias.lower() != t.hostname.lower()):
            out.append(t)  # ssh -G failed, or no config knows the alias yet: the catalogue is all we have
            continue
        port = r.first("port", str(t.port))
        out.append(Target(t.alias, r.first("hostname", t.hostname), int(port) if port.isdigit() else t.port,
                          r.first("addressfamily", t.address_family), t.site_id))
    return tuple(out)


def run_report(ctx: DoctorContext, checks: Sequence[Check], *, json_out: bool, verbose: bool, stream: TextIO,
               after: Callable[[Report], None] | None = None) -> Report:
    """Run, print, let ``after`` use the report (e.g. write --report), then undo what checks left running."""
    spinner = render.Spinner()
    try:
        report = run_checks(checks, ctx, progress=None if json_out else spinner)
        spinner.clear()
        if json_out:
            stream.write(render.as_json(report))
        else:
            stream.write(render.human(report, render.use_ascii(stream), render.use_colour(stream), verbose))
        if after is not None:
            after(report)
        return report
    finally:
        spinner.clear()
        for undo in reversed(ctx.on_exit):
            try:
                undo()
            except Exception:  # noqa: BLE001, S110 - cleanup is best effort
                pass


def doctor(ctx: DoctorContext, ids: Sequence[str] = (), json_out: bool = False, list_only: bool = False,
           verbose: bool = False, checks: Sequence[Check] = CHECKS, out: TextIO | None = None) -> int:
    """Run (or list) the selected checks in a prepared context; the exit code."""
    stream = out if out is not None else sys.stdout
    selected = select(checks, ids)  # BadInput (exit 2) for an unknown id
    if list_only:
        stream.write(render.check_list(selected))
        return 0
    return run_report(ctx, selected, json_out=json_out, verbose=verbose, stream=stream).exit_code


def command(ids: Sequence[str] = (), site_ids: Sequence[str] = (), sites_file: Path | None = None, json_out: bool = False,
            list_only: bool = False, verbose: bool = False, probe_timeout: float = 5.0, remote: bool = False,
            report_file: Path | None = None, from_report_file: Path | None = None, yes: bool = False,
            confirm: Callable[[str], bool] | None = None, out: TextIO | None = None) -> int:
    """What ``sshsetup doctor`` calls."""
    from sshsetup.support.doctor import report

    stream = out if out is not None else sys.stdout
    if from_report_file is not None:
        return report.from_report(from_report_file, stream, json_out)
    paths = Paths.from_env()
    with_remote = list_only or remote or any(i.startswith("remote.") for i in ids)
    checks = (*CHECKS, *REMOTE_CHECKS) if with_remote else CHECKS
    if list_only:  # every check, the remote ones included (they run with --remote)
        stream.write(render.check_list(select(checks, ids)))
        return 0
    chosen = _sites(paths, site_ids, sites_file)
    selected = select(checks, ids)
    with tempfile.TemporaryDirectory(prefix="sshsetup-") as tmp:  # short: a socket path is < 108 bytes
        ctx = DoctorContext.for_sites(paths, chosen, probe_timeout=probe_timeout, check_timeout=3 * probe_timeout + 5,
                                      budget=max(60.0, 12 * probe_timeout), control_dir=Path(tmp))
        ctx.targets = real_targets(ctx)

        def write(rep: Report) -> None:
            if report_file is None:
                return
            if report.write_report(report.report_text(ctx, rep), report_file, yes, confirm, sys.stderr):
                sys.stderr.write(f"wrote {report_file} (mode 0600): attach it to your support ticket\n")
            else:
                sys.stderr.write("report not written\n")

        rep = run_report(ctx, selected, json_out=json_out, verbose=verbose, stream=stream, after=write)
    return rep.exit_code
