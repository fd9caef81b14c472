"""``sshsetup doctor``: pick the checks and the sites, run them, write ``--report``, return the report.

``cli.py`` builds :class:`DoctorOptions`, calls :func:`run` and prints its ``Result`` with
``sshsetup.render.show`` (the check lines as ``output``, the JSON payload as ``data``). The checks,
their registry, the runner and the text formatting live in ``sshsetup.support.doctor``; the report
file in ``sshsetup.support.doctor.report``. Only progress is printed while the checks run (stderr,
on a terminal), and the report file with its question before it is written. The exit code is the
report's (1 when a check failed), or ``--from-report``'s, or 0 for ``--list``; bad input raises
(``cli.main`` maps it).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sshsetup import output, remembered
from sshsetup.catalogue import Site, load_catalogue
from sshsetup.errors import EXIT_OK, BadInput, SshSetupError
from sshsetup.paths import Paths
from sshsetup.result import Result
from sshsetup.ssh import master
from sshsetup.support.doctor import CHECKS, REMOTE_CHECKS, from_report, logins, render, report
from sshsetup.support.doctor.checks_auth import AuthProbe, learned_key_notes
from sshsetup.support.doctor.checks_config import real_targets
from sshsetup.support.doctor.model import Check, DoctorContext, Report
from sshsetup.support.doctor.runner import run_checks, select

_CONNECTING = ("net", "auth", "remote")  # checks that reach the server (a TCP connection or a login)


@dataclass(frozen=True)
class DoctorOptions:
    """What ``sshsetup doctor`` was asked (one field per command-line option)."""

    ids: tuple[str, ...] = ()  # check ids (plus what they need); empty: all
    sites: tuple[str, ...] = ()  # --site; empty: the remembered sites, else the defaults
    sites_file: Path | None = None
    list_only: bool = False
    json_out: bool = False
    probe_timeout: float = 5.0  # one network probe, seconds
    remote: bool = False  # also the remote.* checks over the probe's connection
    report_file: Path | None = None  # --report FILE
    from_report: Path | None = None  # --from-report FILE (offline; no check runs)
    verbose: bool = False
    yes: bool = False  # write the report without asking

    @property
    def prints_json(self) -> bool:
        """Whether the result is printed as the JSON envelope (``--list`` is text, also with ``--json``)."""
        return self.json_out and (self.from_report is not None or not self.list_only)


def registered(options: DoctorOptions) -> tuple[Check, ...]:
    """The checks this run chooses from: the remote ones only with --remote, --list or a remote.* id."""
    with_remote = options.list_only or options.remote or any(i.startswith("remote.") for i in options.ids)
    return (*CHECKS, *REMOTE_CHECKS) if with_remote else CHECKS


def chosen_sites(paths: Paths, options: DoctorOptions) -> list[Site]:
    """``--site``, else the sites ``init`` remembered, else the defaults; an unknown id is refused.

    A config or block that cannot be read leaves the defaults: saying what is wrong with it is
    the checks' job (``config.encoding``, ``config.block``), not a reason to check nothing.
    """
    try:
        known = remembered.load(paths)
    except SshSetupError:
        known = remembered.Remembered()
    catalogue = load_catalogue(remembered.sites_file(known, options.sites_file), paths.sites_file)
    return remembered.choose_sites(catalogue, options.sites, known)


def run(paths: Paths, options: DoctorOptions, *, confirm: Callable[[str], bool] | None) -> Result:
    """Run (or list) the selected checks; the report as data (``render.show`` prints it), the exit code from it."""
    ascii_only, colour = render.use_ascii(sys.stdout), output.use_color(sys.stdout)
    if options.from_report is not None:
        return from_report.from_report(options.from_report, ascii_only, colour)
    selected = select(registered(options), options.ids)  # BadInput (exit 2) for an unknown id
    if options.list_only:
        return Result("doctor", EXIT_OK, output=render.check_list(selected))  # text, also with --json (cli.py)
    if options.report_file is not None:
        report.check_destination(options.report_file)  # refuse before a minute of checks, not after
        if not options.yes and confirm is None:
            raise BadInput("writing the report needs a confirmation",
                           hint="run it in a terminal to read the report and answer, or add --yes (it is shown before it is written)")
    sites = chosen_sites(paths, options)
    t = options.probe_timeout
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sshsetup-") as tmp:  # short: a socket path is < 108 bytes
        ctx = DoctorContext.for_sites(paths, sites, probe_timeout=t, check_timeout=3 * t + 5, budget=max(60.0, 12 * t),
                                      control_dir=Path(tmp))
        ctx.targets = real_targets(ctx)
        ctx.live = _login_gate(ctx, selected)
        try:
            rep = _run(ctx, selected, options)
            if options.json_out or not options.verbose:  # shown once, as wait does (with -v: under auth.probe)
                notes += [line for target in ctx.targets for line in learned_key_notes(ctx, target)]
            notes += _remember_logins(ctx)
            if options.report_file is not None:
                notes += _write_report(ctx, rep, options.report_file, options.yes, confirm)
        finally:
            _undo(ctx)
    return render.result(rep, render.human(rep, ascii_only, colour, options.verbose), notes=notes)


def _login_gate(ctx: DoctorContext, checks: Sequence[Check]) -> frozenset[str]:
    """Issue 13: the aliases whose live login the probe uses; refuses (``LoginRequired``, no connection made)
    when a site known to ask for a second factor has none, unless the user logs in now on a terminal."""
    if not any(c.per_host and c.id.split(".")[0] in _CONNECTING for c in checks):
        return frozenset()
    gate = master.check(ctx.paths, ctx.ssh(), ctx.sites)
    if gate.refusal is not None and sys.stdin.isatty() and sys.stderr.isatty():
        from sshsetup.commands.login import offer

        if offer(ctx.paths, gate):
            gate = master.check(ctx.paths, ctx.ssh(), ctx.sites)
    if gate.refusal is not None:
        raise gate.refusal
    return frozenset(s.alias for s in gate.live)


def _run(ctx: DoctorContext, checks: Sequence[Check], options: DoctorOptions) -> Report:
    """The checks, with live progress on stderr (a terminal only, not with --json) while they run."""
    spinner = render.Spinner()
    try:
        return run_checks(checks, ctx, progress=None if options.json_out else spinner)
    finally:
        spinner.clear()


def _remember_logins(ctx: DoctorContext) -> list[str]:
    """Record the sites whose probe logged in (``logins``), so that a later refusal can say "it accepted the key at
    HH:MM", and those that asked for a second factor, so that later commands ask for ``sshsetup login`` first.
    The note to show when that record cannot be written."""
    probes = {t.site_id: p for t in ctx.targets
              if t.site_id is not None and (p := ctx.shared.get("auth.transcript", t.alias, AuthProbe)) is not None}
    accepted = [s for s, p in probes.items() if p.logged_in]
    second_factor = [s for s, p in probes.items() if p.cause == "partial-success-2fa"]
    if not accepted:
        return []
    try:
        logins.record(ctx.paths, accepted, time.time(), second_factor=second_factor)
    except SshSetupError as exc:  # the diagnosis stands; only the memory for next time is lost
        return [f"note: could not record the accepted login: {exc.message}"]
    return []


def _write_report(ctx: DoctorContext, rep: Report, path: Path, yes: bool, confirm: Callable[[str], bool] | None) -> list[str]:
    """Show the report on stderr, ask, write it through the one writer; what to say about it afterwards."""
    written = report.write_report(report.report_text(ctx, rep), path, yes=yes, confirm=confirm, show=sys.stderr)
    if written is None:
        return ["report not written"]
    kept = [f"kept the earlier report as {written.backup}"] if written.backup is not None else []
    return [*kept, f"wrote {path} (mode 0600): attach it to your support ticket"]


def _undo(ctx: DoctorContext) -> None:
    """Undo what checks left running (e.g. ``ssh -O exit`` for the probe's ControlMaster), newest first."""
    for undo in reversed(ctx.on_exit):
        try:
            undo()
        except Exception:  # noqa: BLE001, S110 - cleanup is best effort
            pass
