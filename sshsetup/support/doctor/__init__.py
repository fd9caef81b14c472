"""The doctor's checks: registered, run concurrently, rendered (the command is ``sshsetup.commands.doctor``).

Registration is explicit and ordered: each ``checks_<area>.py`` module
defines ``CHECKS: tuple[Check, ...]``, listed below in the order the report shows
them (local -> config -> net -> from= ranges and auth -> VS Code; remote only with
``--remote``). A check that ``needs`` another must come after it. No import-time
side effects: the modules only define functions and data.
"""

from __future__ import annotations

from sshsetup.support.doctor import (
    checks_auth,
    checks_config,
    checks_local,
    checks_net,
    checks_node,
    checks_remote,
    checks_vscode,
)
from sshsetup.support.doctor.model import Check

CHECKS: tuple[Check, ...] = (
    *checks_local.CHECKS, *checks_config.CHECKS, *checks_net.CHECKS, *checks_auth.CHECKS, *checks_vscode.CHECKS, *checks_node.CHECKS,
)
REMOTE_CHECKS: tuple[Check, ...] = checks_remote.CHECKS  # opt-in: --remote, or an id that names one

__all__ = ["CHECKS", "REMOTE_CHECKS"]
