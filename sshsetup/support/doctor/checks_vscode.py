"""VS Code checks: installed flavours, the Remote-SSH extension, settings.json.

Found the way VS Code finds them (``vscode_paths``; under WSL the Windows profile).
The settings are compared with what ``sshsetup init`` writes
(``vscode_settings.check_settings``) for the hosts being checked. Read-only.
"""

from __future__ import annotations

import os
import sys

from sshsetup.support.doctor.checks_local import managed, once
from sshsetup.support.doctor.model import Check, DoctorContext, Finding, Status, fail, ok, skip, warn
from sshsetup.vscode import paths as vscode_paths
from sshsetup.vscode import settings as vscode_settings
from sshsetup.vscode.jsonc import editor as jsonc


def host(ctx: DoctorContext) -> vscode_paths.VSCodeHost:
    return once(ctx, "vscode host", None, lambda: vscode_paths.find_vscode(os.environ, sys.platform, ctx.paths.home))


def installed(ctx: DoctorContext) -> tuple[vscode_paths.Location, ...]:
    return vscode_paths.installed(host(ctx))


def _none(ctx: DoctorContext) -> Finding:
    h = host(ctx)
    if h.problem:
        return warn("cannot find the Windows side of VS Code from WSL", h.problem)
    return skip("VS Code is not installed for this user (no user-data folder)")


def check_installed(ctx: DoctorContext) -> Finding:
    locs = installed(ctx)
    if not locs:
        return _none(ctx)
    where = " (Windows side, seen from WSL)" if host(ctx).wsl else ""
    return ok(", ".join(loc.flavour.title for loc in locs) + where, None,
              tuple(f"{loc.flavour.title}: {loc.user_data}" for loc in locs))


def check_remote_ssh(ctx: DoctorContext) -> Finding:
    locs = installed(ctx)
    if not locs:
        return _none(ctx)
    found = {loc.flavour.title: vscode_paths.remote_ssh_extension(loc) for loc in locs}
    missing = [name for name, ext in found.items() if ext is None]
    details = tuple(f"{name}: {ext or 'not installed'}" for name, ext in found.items())
    if len(missing) == len(found):
        oss = all("VSCodium" in n or "OSS" in n for n in missing)
        ext = "jeanp413.open-remote-ssh" if oss else "ms-vscode-remote.remote-ssh"
        return fail("the Remote-SSH extension is not installed",
                    f"install it: code --install-extension {ext} (or from the Extensions view)", details)
    if missing:
        return warn(f"Remote-SSH is missing in {', '.join(missing)}",
                    "install it there too, or ignore that flavour", details)
    return ok("; ".join(f"{n}: {e}" for n, e in found.items()))


def desired(ctx: DoctorContext) -> vscode_settings.Desired:
    client = managed(ctx).remembered.client
    windows = client == "windows" or (client != "openssh" and host(ctx).windows)
    return vscode_settings.Desired(tuple(t.alias for t in ctx.targets), {}, windows_client=windows)


def check_settings(ctx: DoctorContext) -> Finding:
    locs = installed(ctx)
    if not locs:
        return _none(ctx)
    want = desired(ctx)
    problems: list[str] = []
    worst = Status.OK
    hint = None
    for loc in locs:
        try:
            text = loc.settings.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{loc.settings}: cannot read ({exc})")
            worst, hint = Status.FAIL, f"check the file by hand: {loc.settings}"
            continue
        try:
            diffs = vscode_settings.check_settings(text, want)
        except jsonc.JSONCError as exc:
            problems.append(f"{loc.settings}: {exc.message}")
            worst, hint = Status.FAIL, f"fix the JSON syntax (VS Code: Preferences: Open User Settings (JSON)): {loc.settings}"
            continue
        for d in diffs:
            problems.append(f"{loc.flavour.title}: {d.describe()}")
            if worst is Status.OK:
                worst, hint = Status.WARN, "write them with sshsetup init (it sets the Remote-SSH settings for your hosts)"
    if not problems:
        return ok("settings.json has the Remote-SSH settings sshsetup writes", None,
                  tuple(str(loc.settings) for loc in locs))
    summary = problems[0] if len(problems) == 1 else f"{problems[0]} (+{len(problems) - 1} more)"
    return Finding(worst, summary, hint, tuple(problems))


CHECKS: tuple[Check, ...] = (
    Check.once("vscode.installed", "which VS Code flavours are installed", check_installed),
    Check.once("vscode.remote-ssh", "the Remote-SSH extension is installed", check_remote_ssh),
    Check.once("vscode.settings", "settings.json parses and has the Remote-SSH settings sshsetup writes", check_settings),
)
