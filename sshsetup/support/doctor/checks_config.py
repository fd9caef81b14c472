"""Config checks: encoding, Include problems, the managed block, ``ssh -G`` per alias, what
each alias resolves to (naming the block that shadows ours), ControlMaster on Windows.

Read-only; ``ssh -G`` only parses the config (no connection). ``resolved(ctx, target)``
is the parsed ``ssh -G`` output, computed once per host and run; the from= range check
and the report read it too.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from sshsetup.ssh import verify as sshcheck
from sshsetup.support.doctor.checks_local import managed, once, windows_openssh
from sshsetup.support.doctor.model import Check, DoctorContext, Finding, Target, fail, ok, skip, warn

MAX_INCLUDE_DEPTH = 16  # ssh: "Too many recursive configuration includes"



@dataclass(frozen=True)
class Resolved:
    alias: str
    options: dict[str, list[str]] | None  # ssh -G: keyword -> values (None when it failed)
    error: str | None = None

    def first(self, key: str, default: str = "") -> str:
        vals = (self.options or {}).get(key, [])
        return vals[0] if vals else default


def resolved(ctx: DoctorContext, alias: str) -> Resolved:
    def make() -> Resolved:
        try:
            return Resolved(alias, ctx.ssh().dump(alias, timeout=max(ctx.probe_timeout, 5.0)))
        except (RuntimeError, ValueError) as exc:
            return Resolved(alias, None, str(exc))
        except Exception as exc:  # noqa: BLE001 - e.g. a timeout; becomes the check's failure
            return Resolved(alias, None, repr(exc))

    return once(ctx, "ssh -G", alias, make)


def real_targets(ctx: DoctorContext) -> tuple[Target, ...]:
    """What ssh will really connect to (``ssh -G``: HostName, Port, AddressFamily), not what the catalogue says."""
    out = []
    for t in ctx.targets:
        r = resolved(ctx, t.alias)  # memoised: config.ssh-g reuses it
        if r.options is None or (r.first("hostname") == t.alias.lower() != t.hostname.lower()):
            out.append(t)  # ssh -G failed, or no config knows the alias yet: the catalogue is all we have
            continue
        port = r.first("port", str(t.port))
        out.append(Target(t.alias, r.first("hostname", t.hostname), int(port) if port.isdigit() else t.port,
                          r.first("addressfamily", t.address_family), t.site_id))
    return tuple(out)


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class IncludeScan:
    files: tuple[Path, ...]  # the config and every file it includes (that exists)
    missing: tuple[str, ...]  # "FILE:LINE: Include PATTERN matches nothing"
    cycle: str | None  # "a -> b -> a" or a depth problem


def _expand(pattern: str, ctx: DoctorContext) -> str:
    if pattern.startswith("~/") or pattern == "~":
        return str(ctx.paths.pw_home / pattern[2:])
    if not os.path.isabs(pattern):
        return str(ctx.paths.ssh_dir / pattern)  # relative to ~/.ssh for a user config
    return pattern


def scan_includes(ctx: DoctorContext) -> IncludeScan:
    files: list[Path] = []
    missing: list[str] = []
    cycle: list[str] = []

    def walk(path: Path, stack: list[Path]) -> None:
        if cycle:
            return
        if path in stack:
            cycle.append(" -> ".join(str(p) for p in [*stack[stack.index(path):], path]))
            return
        if len(stack) > MAX_INCLUDE_DEPTH:
            cycle.append(f"Include nesting deeper than {MAX_INCLUDE_DEPTH} at {path}")
            return
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return
        if path not in files:
            files.append(path)
        for n, line in enumerate(text.splitlines(), 1):
            words = line.replace("=", " ", 1).split()
            if len(words) < 2 or words[0].lower() != "include":
                continue
            for pat in words[1:]:
                pat = pat.strip('"')
                found = sorted(glob.glob(_expand(pat, ctx)))
                if not found and not glob.has_magic(pat):
                    missing.append(f"{path}:{n}: Include {pat} (no such file; ssh skips it silently)")
                for inc in found:
                    walk(Path(inc), [*stack, path])

    if ctx.paths.ssh_config.is_file():
        walk(ctx.paths.ssh_config, [])
    return IncludeScan(tuple(files), tuple(missing), cycle[0] if cycle else None)


def check_encoding(ctx: DoctorContext) -> Finding:
    scan = scan_includes(ctx)
    if not scan.files:
        return skip(f"{ctx.paths.ssh_config} does not exist")
    for f in scan.files:
        data = f.read_bytes()
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return fail(f"{f} is UTF-16: ssh cannot read it",
                        f"save it as UTF-8 without BOM (PowerShell's > writes UTF-16; VS Code: Save with Encoding > UTF-8): {f}")
        if data.startswith(b"\xef\xbb\xbf"):
            return fail(f"{f} starts with a UTF-8 byte-order mark: ssh reports a bad option on line 1",
                        f"save it as UTF-8 without BOM: {f}")
        if b"\x00" in data:
            return fail(f"{f} contains NUL bytes", f"check the file by hand: {f}")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            return warn(f"{f} is not valid UTF-8 (line {line})", f"re-save it as UTF-8: {f}")
    return ok(f"{len(scan.files)} file(s), UTF-8 without BOM",
              None, tuple(str(f) for f in scan.files))


def check_include(ctx: DoctorContext) -> Finding:
    scan = scan_includes(ctx)
    if not scan.files:
        return skip(f"{ctx.paths.ssh_config} does not exist")
    if scan.cycle:
        return fail(f"Include loop: {scan.cycle} (ssh stops: Too many recursive configuration includes)",
                    "remove the Include line that points back to an including file")
    if scan.missing:
        return warn(f"{len(scan.missing)} Include line(s) name a file that does not exist",
                    "fix the path or delete the line: " + scan.missing[0], scan.missing)
    n = len(scan.files) - 1
    return ok(f"{n} included file(s), no loops, none missing", None, tuple(map(str, scan.files[1:])))


def check_block(ctx: DoctorContext) -> Finding:
    m = managed(ctx)
    if m.block is None or m.error:
        return fail(m.error or "no managed block", m.hint)
    sites = ", ".join(m.remembered.sites) or "none"
    lines = m.block.count("\n")
    return ok(f"managed block intact ({lines} lines; sites {sites}; key {m.remembered.key or '?'})")


def check_ssh_g(ctx: DoctorContext, t: Target) -> Finding:
    r = resolved(ctx, t.alias)
    if r.options is None:
        lines = (r.error or "").splitlines() or ["no message"]  # the first names the file and line, the last says "terminating"
        return fail(f"ssh -G {t.alias} fails: {lines[0]}", f"fix the line ssh names (see: ssh -G {t.alias})", lines)
    return ok(f"ssh -G {t.alias}: {r.first('user')}@{r.first('hostname')}:{r.first('port')}")


def _norm(ctx: DoctorContext, key: str, value: str) -> str:
    if key == "identityfile":
        if value.startswith("~/"):
            return str(ctx.paths.pw_home / value[2:])
        return value.replace("%%", "%")
    return value


def check_resolves(ctx: DoctorContext, t: Target) -> Finding:
    m = managed(ctx)
    if t.site_id is not None and m.remembered.sites and t.site_id not in m.remembered.sites:
        return fail(f"{t.alias} is not in the managed block",
                    f"add it: sshsetup init --site {t.site_id} (with your other sites)")
    r = resolved(ctx, t.alias)
    want = {"hostname": t.hostname, "port": str(t.port)}
    if m.remembered.user:
        want["user"] = m.remembered.user
    if m.remembered.key:
        want["identityfile"] = ctx.paths.ssh_tilde(m.remembered.key)
    if m.block is not None and "IdentitiesOnly yes" in m.block:
        want["identitiesonly"] = "yes"
    bad = []
    for key, value in want.items():
        got = r.first(key)
        if _norm(ctx, key, got) != _norm(ctx, key, value):
            culprit = sshcheck.find_culprit(ctx.paths.ssh_config, t.alias, key, ctx.paths.ssh_dir)
            bad.append((key, value, got, culprit))
    if not bad:
        return ok(f"{t.alias} resolves as written: " + ", ".join(f"{k} {v}" for k, v in want.items()))
    key, value, got, culprit = bad[0]
    details = tuple(f"{k}: want {v!r}, ssh uses {g!r}" + (f" (set at {c})" if c else "") for k, v, g, c in bad)
    summary = f"{t.alias}: ssh uses {key} {got!r}, not {value!r}" + (f", set at {culprit}" if culprit else "")
    hint = (f"ssh takes the first value it finds: remove or narrow the {key} line at {culprit}, or move it below the sshsetup block"
            if culprit else f"something before the sshsetup block overrides it (a Match block, or /etc/ssh/ssh_config); see: ssh -G {t.alias}")
    return fail(summary, hint, details)


def check_controlmaster(ctx: DoctorContext) -> Finding:
    if not windows_openssh(ctx):
        return skip("not Windows' own OpenSSH (ControlMaster works here)")
    bad = []
    for t in ctx.targets:
        value = resolved(ctx, t.alias).first("controlmaster", "false")
        if value not in ("false", "no"):
            bad.append(f"{t.alias}: ControlMaster {value}")
    if bad:
        return fail("ControlMaster is set for Windows' OpenSSH, which does not support it (getsockname failed: Not a socket)",
                    "remove ControlMaster/ControlPath/ControlPersist for these hosts (sshsetup init --client windows does)", tuple(bad))
    return ok("no ControlMaster for Windows' OpenSSH")


def check_handwritten(ctx: DoctorContext) -> Finding:
    """The user's own Host entries (outside the block) for a managed host: named, compared, never edited."""
    import tempfile

    from sshsetup.ssh import block as sshconfig
    from sshsetup.ssh import handwritten

    m = managed(ctx)
    if m.text is None or m.block is None:
        return skip("no managed block to compare with")
    mine = sshconfig.remove(m.text, ctx.paths.ssh_config)
    hostnames = {s.hostname.lower() for s in ctx.sites}
    ssh_dir = ctx.paths.pw_home / ".ssh"
    if not handwritten.candidates(mine, ctx.paths.ssh_config, ssh_dir, hostnames):
        return ok("no entry of yours reaches a managed host")
    user = m.remembered.user or ""
    key = ctx.paths.ssh_tilde(m.remembered.key) if m.remembered.key else ""
    with tempfile.TemporaryDirectory(prefix="sshsetup-doctor-") as tmp:  # your part alone, outside ~/.ssh; nothing of yours is written
        copy = Path(tmp) / "config"
        copy.write_text(mine, encoding="utf-8")
        found = handwritten.find(copy, ctx.paths.ssh_config, ctx.sites, user, key, ssh_dir)
    if not found:
        return ok("no entry of yours reaches a managed host")
    differ = [h for h in found if not h.adopted and not (h.same_user and h.same_key)]
    summary = f"{len(found)} entr{'y' if len(found) == 1 else 'ies'} of yours reach{'es' if len(found) == 1 else ''} a managed host"
    details = tuple(h.note().removeprefix("note: ") for h in found)
    if differ:
        return warn(summary + " with another user or key than sshsetup's",
                    f"use one name: sshsetup init --alias {differ[0].site_id}={differ[0].alias}, or edit your entry", details)
    return ok(summary + " (same user and key)", None, details)


CHECKS: tuple[Check, ...] = (
    Check.once("config.encoding", "~/.ssh/config is UTF-8 without BOM (not UTF-16)", check_encoding),
    Check.once("config.include", "Include lines name existing files and do not loop", check_include),
    Check.once("config.block", "the sshsetup block in ~/.ssh/config is intact", check_block),
    Check.each_host("config.ssh-g", "ssh -G succeeds for the host", check_ssh_g),
    Check.each_host("config.resolves", "the host resolves to what sshsetup wrote (nothing shadows it)", check_resolves, needs=("config.block", "config.ssh-g")),
    Check.once("config.controlmaster", "no ControlMaster for Windows' own OpenSSH", check_controlmaster),
    Check.once("config.handwritten", "no entry of yours reaches a managed host with another user or key", check_handwritten,
               needs=("config.block",)),
)
