"""The doctor's checks: registered, run concurrently, rendered (the command is ``sshsetup.commands.doctor``).

Registration is explicit and ordered: each ``checks_<area>.py`` module
defines ``CHECKS: tuple[Check, ...]``, listed below in the order the report shows
them (local -> config -> net -> from= ranges and auth -> VS Code; remote only with
``--remote``). A check that ``needs`` another must come after it. No import-time
side effects: the modules only define functions and data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sshsetup.support.doctor import checks_auth, checks_config, checks_local, checks_net, checks_remote, checks_vscode
from sshsetup.support.doctor.model import Check

CHECKS: tuple[Check, ...] = (
    *checks_local.CHECKS, *checks_config.CHECKS, *checks_net.CHECKS, *checks_auth.CHECKS, *checks_vscode.CHECKS,
)
REMOTE_CHECKS: tuple[Check, ...] = checks_remote.CHECKS  # opt-in: --remote, or an id that names one

__all__ = ["CHECKS", "REMOTE_CHECKS", "command"]


def command(ids: Sequence[str] = (), site_ids: Sequence[str] = (), sites_file: Path | None = None, json_out: bool = False,
            list_only: bool = False, verbose: bool = False, probe_timeout: float = 5.0, remote: bool = False,
            report_file: Path | None = None, from_report_file: Path | None = None, yes: bool = False,
            confirm: Callable[[str], bool] | None = None) -> int:
    """Temporary shim for ``cli.py``'s current call; the command is ``sshsetup.commands.doctor.run``.

    Goes away when ``cli.py`` builds ``DoctorOptions`` itself.
    """
    from sshsetup.commands import doctor as doctor_cmd  # the shim's only upward import, lazily
    from sshsetup.paths import Paths

    options = doctor_cmd.DoctorOptions(
        ids=tuple(ids), sites=tuple(site_ids), sites_file=sites_file, list_only=list_only, json_out=json_out,
        probe_timeout=probe_timeout, remote=remote, report_file=report_file, from_report=from_report_file,
        verbose=verbose, yes=yes,
    )
    return doctor_cmd.run(Paths.from_env(), options, confirm=confirm)
