"""The from= range check and the one authentication probe per host.

``auth.from-range``: the address the server will see, against the ranges key-line
recorded (``keyline_state``). For a public host that is the public egress address of the
family ssh uses (``ipecho``, honouring ``SSHSETUP_IP_ECHO_URLS``); for a host on loopback
or a private network it is the local source address of the route (a UDP socket is
connected to host:port and ``getsockname`` read: no packet is sent), bound to ssh's
``BindAddress`` when the config sets one. A host reached through ``ProxyJump`` sees a
login node's internal address, judged against 10.0.0.0/8.

``auth.probe``: ONE ``ssh -v -o BatchMode=yes`` run per host (JSC's firewall blocks
addresses that connect too often) that leaves a ControlMaster behind for the remote
checks (``ssh -O exit`` is registered in ``ctx.on_exit``). Its stderr is classified with
``sshlog``; a "publickey" refusal, which looks the same from the client whether the key
is missing or the address is outside the from= ranges (tests/data/sshlogs/), is told apart
with the range verdict. The transcript goes into ``ctx.shared`` ("auth.transcript").
"""

from __future__ import annotations

import ipaddress
import math
import socket
import subprocess
import tempfile
from dataclasses import dataclass

from sshsetup.judoor import cidr
from sshsetup.judoor import records as keyline_state
from sshsetup.support import sshlog
from sshsetup.support.doctor.checks_config import resolved
from sshsetup.support.doctor.checks_local import key_path, once, run, ssh_cmd
from sshsetup.support.doctor.model import Check, CheckResult, DoctorContext, Status, Target

PROPAGATION = 15 * 60  # seconds; "Wait ~15 min after adding SSH key" (github.com/Loki-Hackathons/cispa_final)
NO_RETRY = "do not retry in a loop: JSC's firewall blocks addresses that connect too often"


def _need(t: Target | None) -> Target:
    if t is None:
        raise TypeError("a per-host check was run without a target")
    return t


@dataclass(frozen=True)
class Verdict:
    record: keyline_state.KeyLineRecord | None
    seen: str | None  # the address (or network, for ProxyJump) the server sees
    how: str  # how ``seen`` was found
    covered: bool | None  # None: unknown
    family: int | None = None
    error: str | None = None

    @property
    def networks(self) -> tuple[cidr.Network, ...]:
        if self.record is None:
            return ()
        return tuple(ipaddress.ip_network(r, strict=False) for r in self.record.ranges)

    def age_minutes(self) -> float | None:
        return None if self.record is None else self.record.age_seconds() / 60


def _record(ctx: DoctorContext, t: Target) -> keyline_state.KeyLineRecord | None:
    recs = keyline_state.load(ctx.paths.keylines)
    if t.site_id and t.site_id in recs:
        return recs[t.site_id]
    return next((r for r in recs.values() if r.alias == t.alias), None)


def _destination(host: str, port: int, family: str) -> tuple[int, str]:
    fam = {"inet": socket.AF_INET, "inet6": socket.AF_INET6}.get(family, socket.AF_UNSPEC)
    infos = socket.getaddrinfo(host.strip("[]"), port, fam, socket.SOCK_STREAM)
    af, _, _, _, sa = infos[0]  # ssh tries the addresses in getaddrinfo's order
    return af, str(sa[0])


def source_address(dest: str, port: int, af: int, bind: str | None) -> str:
    """The local address a connection to dest:port leaves from (UDP connect: nothing is sent)."""
    with socket.socket(af, socket.SOCK_DGRAM) as s:
        if bind:
            s.bind((bind, 0))
        s.connect((dest, port))
        return str(s.getsockname()[0]).split("%")[0]


def verdict(ctx: DoctorContext, t: Target) -> Verdict:
    def make() -> Verdict:
        rec = _record(ctx, t)
        if rec is None:
            return Verdict(None, None, "", None)
        nets = tuple(ipaddress.ip_network(r, strict=False) for r in rec.ranges)
        r = resolved(ctx, t.alias)
        jump = r.first("proxyjump", "none")
        if jump not in ("", "none"):
            ok = any(n.version == 4 and isinstance(n, ipaddress.IPv4Network) and cidr.INTERNAL.subnet_of(n) for n in nets)
            return Verdict(rec, str(cidr.INTERNAL), f"through ProxyJump {jump}: a login node's internal address", ok, 4)
        host, port = r.first("hostname", t.hostname), int(r.first("port", str(t.port)) or t.port)
        try:
            af, dest = _destination(host, port, r.first("addressfamily", t.address_family))
        except (OSError, UnicodeError) as exc:
            return Verdict(rec, None, "", None, error=f"cannot resolve {host}: {exc}")
        fam = 6 if af == socket.AF_INET6 else 4
        bind = r.first("bindaddress") or None
        if not cidr.classify(dest).is_public:
            try:
                seen = source_address(dest, port, af, bind)
            except OSError as exc:
                return Verdict(rec, None, "", None, fam, f"no route to {dest}: {exc.strerror or exc}")
            how = f"the local source address towards {dest}" + (f" (BindAddress {bind})" if bind else "")
            return Verdict(rec, seen, how, cidr.covers(nets, seen), fam)
        from sshsetup.judoor import ipecho

        echo = ipecho.detect(fam, timeout=min(ipecho.DEFAULT_TIMEOUT, ctx.probe_timeout))
        if echo.address is None:
            return Verdict(rec, None, "", None, fam, echo.error)
        return Verdict(rec, str(echo.address), f"your public IPv{fam} address (from {echo.url})", cidr.covers(nets, echo.address), fam)

    return once(ctx, "from-range verdict", t.alias, make)


def check_from_range(ctx: DoctorContext, t: Target | None) -> CheckResult:
    t = _need(t)
    v = verdict(ctx, t)
    if v.record is None:
        return CheckResult("auth.from-range", Status.SKIP, "no key line recorded for this site (sshsetup key-line records one)")
    ranges = ", ".join(v.record.ranges)
    details: tuple[str, ...] = (f"key line generated {v.record.generated} for {v.record.fingerprint}", f"ranges: {ranges}")
    if v.seen is None:
        return CheckResult("auth.from-range", Status.WARN, f"cannot tell which address the server sees: {v.error}",
                           "check your network; give your ranges by hand if needed: sshsetup key-line --from CIDR", details)
    details += (f"address: {v.seen}, {v.how}",)
    if not v.covered:
        if v.family == 6 and not any(n.version == 6 for n in v.networks):
            return CheckResult("auth.from-range", Status.FAIL,
                               f"ssh connects over IPv6 ({v.seen}) but the from= ranges are IPv4 only ({ranges})",
                               f"set AddressFamily inet for {t.alias} (sshsetup init), or add your IPv6 range: sshsetup key-line", details)
        if v.how.startswith("through ProxyJump"):
            return CheckResult("auth.from-range", Status.FAIL, f"hops from a login node come from {v.seen}, which the from= ranges ({ranges}) exclude",
                               "add 10.0.0.0/8 to the key line: sshsetup key-line --internal, then update it in JuDoor", details)
        return CheckResult("auth.from-range", Status.FAIL, f"the server sees {v.seen} ({v.how}), outside the from= ranges {ranges}",
                           "your address changed (new network, VPN?): make a new key line with sshsetup key-line and update it in JuDoor", details)
    age = v.age_minutes() or 0.0
    if age * 60 < PROPAGATION:
        return CheckResult("auth.from-range", Status.WARN, f"{v.seen} is inside {ranges}; the line was generated {age:.0f} min ago",
                           "propagation takes minutes (up to ~15) after the upload to JuDoor; " + NO_RETRY, details)
    return CheckResult("auth.from-range", Status.OK, f"{v.seen} ({v.how}) is inside the from= ranges {ranges}", None, details)


@dataclass(frozen=True)
class AuthProbe:
    alias: str
    argv: tuple[str, ...]
    returncode: int
    stdout: str  # what the remote shell printed for "true" (should be nothing)
    stderr: str  # the -v transcript
    cause: str  # sshlog cause id, "accepted" or "unknown"
    master: bool  # a ControlMaster is up for the remote checks


_ORDER = ("hostkey-changed", "hostkey-unknown", "bad-permissions", "unprotected-key", "resolve-failed", "connection-refused",
          "connect-timeout", "banner-timeout", "closed-before-auth", "too-many-failures", "partial-success-2fa",
          "passphrase-needed", "publickey-refused", "corrupted-mac", "controlmaster-windows")


def probe(ctx: DoctorContext, t: Target) -> AuthProbe:
    n = max(1, math.ceil(ctx.probe_timeout))
    cp = ctx.control_path(t)
    mux = ["-o", "ControlMaster=auto", "-o", f"ControlPath={cp}", "-o", "ControlPersist=30"] if cp else ["-o", "ControlMaster=no"]
    argv = [*ssh_cmd(ctx), "-v", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={n}", *mux, t.alias, "true"]
    rc, out, err = _run_detached(argv, timeout=max(5.0, min(ctx.check_timeout - 1, 3 * n + 5)))
    found = {f.cause for f in sshlog.classify(err)}
    cause = "accepted" if rc == 0 else next((c for c in _ORDER if c in found), "unknown")
    master = bool(cp and rc == 0 and cp.exists())
    if master:
        stop = [*ssh_cmd(ctx), "-o", f"ControlPath={cp}", "-O", "exit", t.alias]

        def close_master() -> None:
            run(stop, 5)

        ctx.on_exit.append(close_master)
    return AuthProbe(t.alias, tuple(argv), rc, out, err, cause, master)


def _run_detached(argv: list[str], timeout: float) -> tuple[int, str, str]:
    """Run ssh with its output in files: with -v, a ControlPersist master keeps stderr open,
    so reading a pipe to its end would wait for the master to exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")


def _refused(ctx: DoctorContext, t: Target, p: AuthProbe) -> CheckResult:  # noqa: ARG001 - a handler of the auth probe table
    v = verdict(ctx, t)
    key = key_path(ctx)
    if v.record is None or v.covered is None:
        return CheckResult("auth.probe", Status.FAIL, "the server refused the key (Permission denied (publickey))",
                           sshlog.CAUSES["publickey-refused"].hint)
    if not v.covered:
        return CheckResult("auth.probe", Status.FAIL,
                           f"the server refused the key: your address {v.seen} is outside the key's from= ranges {', '.join(v.record.ranges)}",
                           "make a new key line for your current network (sshsetup key-line) and update the key in JuDoor")
    age = v.age_minutes() or 0.0
    if age * 60 < PROPAGATION:
        return CheckResult("auth.probe", Status.FAIL,
                           f"the server refused the key; your address {v.seen} is in range and the key line is {age:.0f} min old: not yet propagated",
                           "wait up to 15 minutes after the JuDoor upload, then run sshsetup doctor once more; " + NO_RETRY)
    return CheckResult("auth.probe", Status.FAIL,
                       f"the server refused the key although your address {v.seen} is inside its from= ranges: the key is not uploaded for this system",
                       f"upload the key line for this system in JuDoor (keys are per system): sshsetup key-line; fingerprint of {key}: {v.record.fingerprint}")


def check_probe(ctx: DoctorContext, t: Target | None) -> CheckResult:
    t = _need(t)
    p = probe(ctx, t)
    ctx.shared.put("auth.transcript", t.alias, p)
    tail = tuple(ln for ln in p.stderr.splitlines() if not ln.startswith("debug1:"))[-5:]
    if p.cause == "accepted":
        how = next((ln.split("using", 1)[1].strip(" .") for ln in p.stderr.splitlines() if "Authenticated to" in ln and "using" in ln), "")
        return CheckResult("auth.probe", Status.OK, f"login accepted{' using ' + how if how else ''}" + ("" if p.master else " (no ControlMaster)"))
    key = key_path(ctx)
    if p.cause in ("publickey-refused", "passphrase-needed") and not key.is_file():
        return CheckResult("auth.probe", Status.FAIL, f"the login failed: the private key {key} does not exist, so ssh had none to use",
                           "create or restore the key (sshsetup init), then upload its key line: sshsetup key-line", tail)
    if p.cause == "publickey-refused":
        r = _refused(ctx, t, p)
        return CheckResult(r.id, r.status, r.summary, r.hint, tail)
    if p.cause == "partial-success-2fa":
        return CheckResult("auth.probe", Status.WARN, "the key was accepted; the server then asks for a second factor (TOTP, keyboard-interactive)",
                           "log in from a terminal (ssh " + t.alias + ") to answer it; in VS Code set \"remote.SSH.showLoginTerminal\": true", tail)
    if p.cause == "too-many-failures":
        return CheckResult("auth.probe", Status.FAIL, "Too many authentication failures: ssh offered other keys (agent) before this one",
                           f"add IdentitiesOnly yes and IdentityFile {key} for {t.alias} (sshsetup init writes both)", tail)
    if p.cause == "passphrase-needed":
        return CheckResult("auth.probe", Status.FAIL, "the server accepts the key, but it has a passphrase and no agent holds it",
                           f"add it to your agent: ssh-add {key}", tail)
    if p.cause in ("closed-before-auth", "banner-timeout"):
        return CheckResult("auth.probe", Status.FAIL, sshlog.CAUSES[p.cause].title + ": possibly a firewall block",
                           "stop retrying: " + NO_RETRY + "; wait some minutes, then run sshsetup doctor once", tail)
    if p.cause in sshlog.CAUSES:
        c = sshlog.CAUSES[p.cause]
        return CheckResult("auth.probe", Status.FAIL, c.title, c.hint.replace("ALIAS", t.alias), tail)
    return CheckResult("auth.probe", Status.FAIL, f"ssh exited with {p.returncode}: {tail[-1] if tail else 'no message'}",
                       f"run ssh -v {t.alias} true once in a terminal and pass its output to sshsetup explain", tail)


CHECKS: tuple[Check, ...] = (
    Check("auth.from-range", "the address the server sees is inside the key's from= ranges", check_from_range, per_host=True),
    Check("auth.probe", "one ssh -v login (BatchMode), classified", check_probe, per_host=True, needs=("net.banner",)),
)
