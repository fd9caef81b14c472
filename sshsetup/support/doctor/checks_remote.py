"""Remote checks (opt-in: ``sshsetup doctor --remote``), over the probe's ControlMaster.

No new authentication: every command goes through the master ``auth.probe`` left behind,
with ``ProxyCommand=false`` so that a vanished master makes ssh fail instead of opening a
second connection (JSC's firewall counts connections). Without a master (Windows' OpenSSH,
or the probe did not log in) the checks skip. Output is read between markers, so text a
start-up file prints cannot confuse the parsing; that text itself is judged by
``remote.shell-output`` from the probe's own ``true`` run.
"""

from __future__ import annotations

import re
import subprocess

from sshsetup.support.doctor.checks_auth import AuthProbe
from sshsetup.support.doctor.checks_local import run, ssh_cmd
from sshsetup.support.doctor.model import Check, CheckResult, DoctorContext, Status, Target

BEGIN, END = "__SSHSETUP_BEGIN__", "__SSHSETUP_END__"
HOME_FILES_QUOTA = 10_000  # $HOME files soft limit: JSC FAQ "What data quotas do exist" (docs/reference.md)
GLIBC_MIN = (2, 28)  # VS Code server's minimum (since VS Code 1.86)
NOT_CONNECTED = "no ControlMaster from auth.probe (not logged in, or Windows' OpenSSH): nothing runs remotely"


def _need(t: Target | None) -> Target:
    if t is None:
        raise TypeError("a per-host check was run without a target")
    return t


def _probe(ctx: DoctorContext, t: Target) -> AuthProbe | None:
    return ctx.shared.get("auth.transcript", t.alias, AuthProbe)


def remote(ctx: DoctorContext, t: Target, script: str) -> str | None:
    """The output of ``script`` (between markers) run over the master; None without one."""
    p = _probe(ctx, t)
    cp = ctx.control_path(t)
    if p is None or not p.master or cp is None or not cp.exists():
        return None
    argv = [*ssh_cmd(ctx), "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", f"ControlPath={cp}",
            "-o", "ProxyCommand=false", t.alias, f"echo {BEGIN}; {script}; echo {END}"]
    try:
        proc = run(argv, timeout=max(5.0, ctx.check_timeout - 1))
    except subprocess.TimeoutExpired:
        return None
    out = proc.stdout
    if BEGIN not in out:
        return None
    return out.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def _skip(cid: str) -> CheckResult:
    return CheckResult(cid, Status.SKIP, NOT_CONNECTED)


def check_shell_output(ctx: DoctorContext, t: Target | None) -> CheckResult:
    t = _need(t)
    p = _probe(ctx, t)
    if p is None or p.returncode != 0:
        return CheckResult("remote.shell-output", Status.SKIP, "the probe did not log in")
    if not p.stdout:
        return CheckResult("remote.shell-output", Status.OK, f"'ssh {t.alias} true' prints nothing (non-interactive shells are quiet)")
    first = p.stdout.strip().splitlines()[0][:60] if p.stdout.strip() else repr(p.stdout[:20])
    return CheckResult("remote.shell-output", Status.FAIL,
                       f"'ssh {t.alias} true' prints {len(p.stdout)} bytes ({first!r}): this breaks VS Code Remote-SSH",
                       "make ~/.bashrc (and ~/.profile etc.) print only in interactive shells: put the output inside "
                       "if [[ $- == *i* ]]; then ...; fi")


def check_quota(ctx: DoctorContext, t: Target | None) -> CheckResult:
    t = _need(t)
    out = remote(ctx, t, "if command -v jutil >/dev/null 2>&1; then echo jutil; jutil user dataquota 2>&1; "
                         "elif command -v quota >/dev/null 2>&1; then echo quota; quota -s 2>&1; else echo none; fi")
    if out is None:
        return _skip("remote.quota")
    tool, _, body = out.partition("\n")
    if tool == "none":
        return CheckResult("remote.quota", Status.SKIP, "neither jutil nor quota is available on the host")
    lines = tuple(ln for ln in body.splitlines() if ln.strip())
    if re.search(r"exceed|over quota|\d\*", body, re.IGNORECASE):
        return CheckResult("remote.quota", Status.WARN, f"{tool}: a quota is exceeded or close to it",
                           "free space or files in $HOME (VS Code server: remote.SSH.serverInstallPath moves it out)", lines)
    return CheckResult("remote.quota", Status.OK, f"{tool}: no quota exceeded", None, lines)


def check_permissions(ctx: DoctorContext, t: Target | None) -> CheckResult:
    t = _need(t)
    out = remote(ctx, t, 'stat -c "%a %n" "$HOME" "$HOME/.ssh" 2>/dev/null')
    if out is None:
        return _skip("remote.permissions")
    bad = []
    for line in out.splitlines():
        mode_s, _, name = line.partition(" ")
        try:
            mode = int(mode_s, 8)
        except ValueError:
            continue
        if mode & 0o022:
            bad.append(f"{name} is mode {mode:o}")
    if bad:
        return CheckResult("remote.permissions", Status.FAIL,
                           "; ".join(bad) + ": writable by group or others, so sshd may refuse your key (JSC blocks SSH access)",
                           f"ssh {t.alias} 'chmod go-w ~ ~/.ssh'", tuple(out.splitlines()))
    return CheckResult("remote.permissions", Status.OK, "home and ~/.ssh are not writable by group or others", None, tuple(out.splitlines()))


def check_glibc(ctx: DoctorContext, t: Target | None) -> CheckResult:
    t = _need(t)
    out = remote(ctx, t, "ldd --version 2>&1 | head -n 1")
    if out is None:
        return _skip("remote.glibc")
    m = re.search(r"(\d+)\.(\d+)\s*$", out.strip())
    if "musl" in out.lower() or not m:
        return CheckResult("remote.glibc", Status.WARN, f"cannot tell the C library version: {out.strip()[:80]!r}",
                           "the VS Code server needs glibc >= 2.28")
    version = (int(m[1]), int(m[2]))
    if version < GLIBC_MIN:
        return CheckResult("remote.glibc", Status.FAIL, f"glibc {m[1]}.{m[2]} is older than 2.28: the VS Code server does not run there",
                           "use an older VS Code server (1.85) or another host")
    return CheckResult("remote.glibc", Status.OK, f"glibc {m[1]}.{m[2]} (the VS Code server needs >= 2.28)")


def check_vscode_server(ctx: DoctorContext, t: Target | None) -> CheckResult:
    t = _need(t)
    out = remote(ctx, t, 'd="$HOME/.vscode-server"; if [ -L "$d" ]; then echo "link $(readlink -f "$d")"; fi; '
                         'if [ -d "$d" ]; then echo "files $(find "$d"/ -xdev 2>/dev/null | wc -l)"; else echo none; fi')
    if out is None:
        return _skip("remote.vscode-server")
    link = next((ln[5:] for ln in out.splitlines() if ln.startswith("link ")), None)
    m = re.search(r"^files (\d+)", out, re.MULTILINE)
    if m is None:
        return CheckResult("remote.vscode-server", Status.OK, "no ~/.vscode-server yet")
    n = int(m[1])
    where = f" (a symlink to {link}, outside $HOME)" if link else ""
    if link is None and n >= HOME_FILES_QUOTA // 2:
        status = Status.FAIL if n >= HOME_FILES_QUOTA else Status.WARN
        return CheckResult("remote.vscode-server", status, f"~/.vscode-server holds {n} files of the {HOME_FILES_QUOTA}-file $HOME quota",
                           "move it out of $HOME: set remote.SSH.serverInstallPath for this host (sshsetup init), then delete ~/.vscode-server")
    return CheckResult("remote.vscode-server", Status.OK, f"~/.vscode-server holds {n} files{where}")


_NEEDS = ("auth.probe",)
CHECKS: tuple[Check, ...] = (
    Check("remote.shell-output", "the remote shell prints nothing for non-interactive commands", check_shell_output, per_host=True, needs=_NEEDS),
    Check("remote.quota", "the home quota is not exceeded (jutil / quota)", check_quota, per_host=True, needs=_NEEDS),
    Check("remote.permissions", "remote home and ~/.ssh are not writable by group or others", check_permissions, per_host=True, needs=_NEEDS),
    Check("remote.glibc", "the remote glibc is >= 2.28 (VS Code server)", check_glibc, per_host=True, needs=_NEEDS),
    Check("remote.vscode-server", "the VS Code server in $HOME stays below the file quota", check_vscode_server, per_host=True, needs=_NEEDS),
)
