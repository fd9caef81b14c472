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

from sshsetup.ssh.client import Master
from sshsetup.support.doctor.checks_auth import AuthProbe
from sshsetup.support.doctor.model import Check, DoctorContext, Finding, Target, fail, ok, skip, warn

BEGIN, END = "__SSHSETUP_BEGIN__", "__SSHSETUP_END__"
HOME_FILES_QUOTA = 10_000  # $HOME files soft limit: JSC FAQ "What data quotas do exist" (docs/reference.md)
GLIBC_MIN = (2, 28)  # VS Code server's minimum (since VS Code 1.86)
NOT_CONNECTED = "no ControlMaster from auth.probe (not logged in, or Windows' OpenSSH): nothing runs remotely"


def _probe(ctx: DoctorContext, t: Target) -> AuthProbe | None:
    return ctx.shared.get("auth.transcript", t.alias, AuthProbe)


def remote(ctx: DoctorContext, t: Target, script: str) -> str | None:
    """The output of ``script`` (between markers) run over the master; None without one."""
    p = _probe(ctx, t)
    cp = None if t.alias in ctx.live else ctx.control_path(t)  # a live login: the config's own ControlPath
    if p is None or not p.master or (t.alias not in ctx.live and (cp is None or not cp.exists())):
        return None
    ssh = ctx.ssh()
    # ProxyCommand=false: if the master is gone, fail instead of opening a second connection.
    options = {"ProxyCommand": "false"} | ({"ControlPath": str(cp)} if cp else {})
    argv = ssh.argv(t.alias, f"echo {BEGIN}; {script}; echo {END}", master=Master.REUSE, options=options)
    done = ssh.run(argv, timeout=max(5.0, ctx.check_timeout - 1))
    if done.timed_out:
        return None
    out = done.stdout
    if BEGIN not in out:
        return None
    return out.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def _not_connected() -> Finding:
    return skip(NOT_CONNECTED)


def check_shell_output(ctx: DoctorContext, t: Target) -> Finding:
    p = _probe(ctx, t)
    if p is None or p.returncode != 0:
        return skip("the probe did not log in")
    if not p.stdout:
        return ok(f"'ssh {t.alias} true' prints nothing (non-interactive shells are quiet)")
    first = p.stdout.strip().splitlines()[0][:60] if p.stdout.strip() else repr(p.stdout[:20])
    return fail(f"'ssh {t.alias} true' prints {len(p.stdout)} bytes ({first!r}): this breaks VS Code Remote-SSH",
                "make ~/.bashrc (and ~/.profile etc.) print only in interactive shells: put the output inside "
                "if [[ $- == *i* ]]; then ...; fi")


def check_quota(ctx: DoctorContext, t: Target) -> Finding:
    out = remote(ctx, t, "if command -v jutil >/dev/null 2>&1; then echo jutil; jutil user dataquota 2>&1; "
                         "elif command -v quota >/dev/null 2>&1; then echo quota; quota -s 2>&1; else echo none; fi")
    if out is None:
        return _not_connected()
    tool, _, body = out.partition("\n")
    if tool == "none":
        return skip("neither jutil nor quota is available on the host")
    lines = tuple(ln for ln in body.splitlines() if ln.strip())
    if re.search(r"exceed|over quota|\d\*", body, re.IGNORECASE):
        return warn(f"{tool}: a quota is exceeded or close to it",
                    "free space or files in $HOME (VS Code server: remote.SSH.serverInstallPath moves it out)", lines)
    return ok(f"{tool}: no quota exceeded", None, lines)


def check_permissions(ctx: DoctorContext, t: Target) -> Finding:
    out = remote(ctx, t, 'stat -c "%a %n" "$HOME" "$HOME/.ssh" 2>/dev/null')
    if out is None:
        return _not_connected()
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
        return fail("; ".join(bad) + ": writable by group or others, so sshd may refuse your key (JSC blocks SSH access)",
                    f"ssh {t.alias} 'chmod go-w ~ ~/.ssh'", tuple(out.splitlines()))
    return ok("home and ~/.ssh are not writable by group or others", None, tuple(out.splitlines()))


def check_glibc(ctx: DoctorContext, t: Target) -> Finding:
    out = remote(ctx, t, "ldd --version 2>&1 | head -n 1")
    if out is None:
        return _not_connected()
    m = re.search(r"(\d+)\.(\d+)\s*$", out.strip())
    if "musl" in out.lower() or not m:
        return warn(f"cannot tell the C library version: {out.strip()[:80]!r}",
                    "the VS Code server needs glibc >= 2.28")
    version = (int(m[1]), int(m[2]))
    if version < GLIBC_MIN:
        return fail(f"glibc {m[1]}.{m[2]} is older than 2.28: the VS Code server does not run there",
                    "use an older VS Code server (1.85) or another host")
    return ok(f"glibc {m[1]}.{m[2]} (the VS Code server needs >= 2.28)")


def check_vscode_server(ctx: DoctorContext, t: Target) -> Finding:
    out = remote(ctx, t, 'd="$HOME/.vscode-server"; if [ -L "$d" ]; then echo "link $(readlink -f "$d")"; fi; '
                         'if [ -d "$d" ]; then echo "files $(find "$d"/ -xdev 2>/dev/null | wc -l)"; else echo none; fi')
    if out is None:
        return _not_connected()
    link = next((ln[5:] for ln in out.splitlines() if ln.startswith("link ")), None)
    m = re.search(r"^files (\d+)", out, re.MULTILINE)
    if m is None:
        return ok("no ~/.vscode-server yet")
    n = int(m[1])
    where = f" (a symlink to {link}, outside $HOME)" if link else ""
    if link is None and n >= HOME_FILES_QUOTA // 2:
        return (fail if n >= HOME_FILES_QUOTA else warn)(f"~/.vscode-server holds {n} files of the {HOME_FILES_QUOTA}-file $HOME quota",
                           "move it out of $HOME: set remote.SSH.serverInstallPath for this host (sshsetup init), then delete ~/.vscode-server")
    return ok(f"~/.vscode-server holds {n} files{where}")


_NEEDS = ("auth.probe",)
CHECKS: tuple[Check, ...] = (
    Check.each_host("remote.shell-output", "the remote shell prints nothing for non-interactive commands", check_shell_output, needs=_NEEDS),
    Check.each_host("remote.quota", "the home quota is not exceeded (jutil / quota)", check_quota, needs=_NEEDS),
    Check.each_host("remote.permissions", "remote home and ~/.ssh are not writable by group or others", check_permissions, needs=_NEEDS),
    Check.each_host("remote.glibc", "the remote glibc is >= 2.28 (VS Code server)", check_glibc, needs=_NEEDS),
    Check.each_host("remote.vscode-server", "the VS Code server in $HOME stays below the file quota", check_vscode_server, needs=_NEEDS),
)
