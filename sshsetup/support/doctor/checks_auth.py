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
with the range verdict. The transcript goes into ``ctx.shared`` ("auth.transcript"). As ``wait``'s
probe it connects with ``StrictHostKeyChecking=accept-new``: a host key it learns is shown (a detail
of the result, and a note of the command) with its fingerprint and where to compare it; a changed
one is refused by ssh and is a fail whose hint is the exact fix (``sshsetup.ssh.hostkey``).
"""

from __future__ import annotations

import ipaddress
import math
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

from sshsetup.judoor import cidr
from sshsetup.judoor import records as keyline_state
from sshsetup.ssh import hostkey, master
from sshsetup.ssh.client import Master
from sshsetup.support import sshlog
from sshsetup.support.doctor import logins
from sshsetup.support.doctor.checks_config import resolved
from sshsetup.support.doctor.checks_local import key_path, once, run
from sshsetup.support.doctor.model import Check, DoctorContext, Finding, Target, fail, ok, skip, warn

# What "the key works" means, for doctor as for ``sshsetup wait`` (its WORKS): the server accepts the
# key, and the user can log in, through the agent or by typing the passphrase in a terminal.
LOGGED_IN = ("accepted", "partial-success-2fa")
WORKS = (*LOGGED_IN, "passphrase-needed")
PROPAGATION = 15 * 60  # seconds; "Wait ~15 min after adding SSH key" (github.com/Loki-Hackathons/cispa_final)
NO_RETRY = "do not retry in a loop: JSC's firewall blocks addresses that connect too often"



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
            inside = any(n.version == 4 and isinstance(n, ipaddress.IPv4Network) and cidr.INTERNAL.subnet_of(n) for n in nets)
            return Verdict(rec, str(cidr.INTERNAL), f"through ProxyJump {jump}: a login node's internal address", inside, 4)
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


def check_from_range(ctx: DoctorContext, t: Target) -> Finding:
    v = verdict(ctx, t)
    if v.record is None:
        return skip("no key line recorded for this site (sshsetup key-line records one)")
    ranges = ", ".join(v.record.ranges)
    details: tuple[str, ...] = (f"key line generated {v.record.generated} for {v.record.fingerprint}", f"ranges: {ranges}")
    if v.seen is None:
        return warn(f"cannot tell which address the server sees: {v.error}",
                    "check your network; give your ranges by hand if needed: sshsetup key-line --from CIDR", details)
    details += (f"address: {v.seen}, {v.how}",)
    accepted = _accepted(ctx, t)  # the probe ran first (after=): the server's answer outranks the records
    if not v.covered:
        if accepted:
            return warn(f"the server accepted the key, although {v.seen} ({v.how}) is outside the from= ranges sshsetup recorded ({ranges})",
                        "the key line in JuDoor is not the one key-line recorded last; to keep them in step: sshsetup key-line", details)
        if v.family == 6 and not any(n.version == 6 for n in v.networks):
            return fail(f"ssh connects over IPv6 ({v.seen}) but the from= ranges are IPv4 only ({ranges})",
                        f"set AddressFamily inet for {t.alias} (sshsetup init), or add your IPv6 range: sshsetup key-line", details)
        if v.how.startswith("through ProxyJump"):
            return fail(f"hops from a login node come from {v.seen}, which the from= ranges ({ranges}) exclude",
                        "add 10.0.0.0/8 to the key line: sshsetup key-line --internal, then update it in JuDoor", details)
        return fail(f"the server sees {v.seen} ({v.how}), outside the from= ranges {ranges}",
                    "your address changed (new network, VPN?): make a new key line with sshsetup key-line and update it in JuDoor", details)
    age = v.age_minutes() or 0.0
    if accepted:
        return ok(f"{v.seen} ({v.how}) is inside the from= ranges {ranges}, and the server accepted the key", None, details)
    if age * 60 < PROPAGATION:
        return warn(f"{v.seen} is inside {ranges}; the line was generated {age:.0f} min ago",
                    "propagation takes minutes (up to ~15) after the upload to JuDoor; " + NO_RETRY, details)
    return ok(f"{v.seen} ({v.how}) is inside the from= ranges {ranges}", None, details)


def _accepted(ctx: DoctorContext, t: Target) -> bool:
    """Did this run's probe show that the server accepts the key?"""
    p = ctx.shared.get("auth.transcript", t.alias, AuthProbe)
    return p is not None and p.server_accepts_key


@dataclass(frozen=True)
class AuthProbe:
    alias: str
    argv: tuple[str, ...]
    returncode: int
    stdout: str  # what the remote shell printed for "true" (should be nothing)
    stderr: str  # the -v transcript
    cause: str  # sshlog cause id, "accepted" or "unknown"
    master: bool  # a ControlMaster is up for the remote checks

    @property
    def server_accepts_key(self) -> bool:
        """The server took the key: logged in, asked for a second factor, or said "Server accepts key"."""
        return self.cause in LOGGED_IN or (self.cause == "passphrase-needed" and "Server accepts key" in self.stderr)

    @property
    def logged_in(self) -> bool:
        return self.cause in LOGGED_IN

    def new_host_key(self) -> tuple[str, str, str] | None:
        """(host, key type, fingerprint) when this probe's ``accept-new`` added the host key to known_hosts."""
        return hostkey.new_host_key(self.stderr)


_ORDER = ("hostkey-changed", "hostkey-unknown", "bad-permissions", "unprotected-key", "resolve-failed", "connection-refused",
          "connect-timeout", "banner-timeout", "closed-before-auth", "too-many-failures", "partial-success-2fa",
          "passphrase-needed", "no-key-offered", "putty-key", "key-invalid-format", "algorithm-refused", "publickey-refused",
          "proxy-spawn-failed", "controlmaster-failed", "corrupted-mac", "controlmaster-windows")


def probe(ctx: DoctorContext, t: Target) -> AuthProbe:
    n = max(1, math.ceil(ctx.probe_timeout))
    ssh = ctx.ssh()
    if t.alias in ctx.live:  # issue 13: over the live login, no new authentication (none at all if it vanished)
        argv = ssh.argv(t.alias, "true", verbose=1, connect_timeout=n, master=Master.REUSE, options={"ProxyCommand": "false"})
        rc, out, err = _run_detached(argv, timeout=max(5.0, min(ctx.check_timeout - 1, 3 * n + 5)))
        return AuthProbe(t.alias, tuple(argv), rc, out, err, "accepted" if rc == 0 else "login-gone", rc == 0)
    cp = ctx.control_path(t)
    # With a socket of its own: the master the remote checks reuse (stopped in on_exit); never the user's.
    mux = {"ControlPath": str(cp), "ControlPersist": "30"} if cp else {}
    # As wait's probe: a new host key is learned (and shown), a changed one never accepted, whatever the config says.
    argv = ssh.argv(t.alias, "true", verbose=1, connect_timeout=n, master=Master.OPEN if cp else Master.NONE,
                    options={**mux, "StrictHostKeyChecking": "accept-new"})
    rc, out, err = _run_detached(argv, timeout=max(5.0, min(ctx.check_timeout - 1, 3 * n + 5)))
    found = {f.cause for f in sshlog.classify(err)}
    cause = "accepted" if rc == 0 else next((c for c in _ORDER if c in found), "unknown")
    master = bool(cp and rc == 0 and cp.exists())
    if master:
        stop = ssh.control_argv(t.alias, "exit", options={"ControlPath": str(cp)})

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


def _refused(ctx: DoctorContext, t: Target) -> Finding:
    """A publickey refusal, told apart with the range verdict and the last accepted login (guesses say so)."""
    v = verdict(ctx, t)
    key = key_path(ctx)
    last = logins.last_accepted(ctx.paths, t.site_id) if t.site_id else None
    if last is not None and v.record is not None and last < v.record.generated_at().timestamp():
        last = None  # accepted before the current line existed: says nothing about this line
    worked = f"; it accepted the key at {master.clock(last, time.time())}" if last else ""
    if v.record is None or v.covered is None:
        if last:
            return fail(f"the server refused the key{worked}: it was probably removed or replaced in JuDoor, or your address changed",
                        "check the key in JuDoor (sshsetup key-line prints its line again); " + NO_RETRY)
        return fail("the server refused the key (Permission denied (publickey))", sshlog.CAUSES["publickey-refused"].hint)
    if not v.covered:
        return fail(f"the server refused the key{worked}: your address {v.seen} is outside the key's from= ranges {', '.join(v.record.ranges)}",
                    "make a new key line for your current network (sshsetup key-line) and update the key in JuDoor")
    if last:
        return fail(f"the server refused the key{worked}, and your address {v.seen} is still inside its from= ranges: "
                    "the key was probably removed or replaced in JuDoor",
                    f"check the key in JuDoor (keys are per system); fingerprint of {key}: {v.record.fingerprint}; " + NO_RETRY)
    age = v.age_minutes() or 0.0
    if age * 60 < PROPAGATION:
        return fail(f"the server refused the key; your address {v.seen} is in range and the key line is {age:.0f} min old: "
                    "probably not yet propagated",
                    "wait up to 15 minutes after the JuDoor upload, then run sshsetup doctor once more; " + NO_RETRY)
    return fail(f"the server refused the key although your address {v.seen} is inside its from= ranges: "
                "most likely the key is not uploaded for this system",
                f"upload the key line for this system in JuDoor (keys are per system): sshsetup key-line; fingerprint of {key}: {v.record.fingerprint}")


def docs_url(ctx: DoctorContext, t: Target) -> str | None:
    """The site's documentation page (the catalogue's ``docs_url``): where its host key fingerprints are published."""
    site = next((s for s in ctx.sites if s.id == t.site_id), None)
    url = site.get("docs_url") if site is not None else None
    return str(url) if url else None


def learned_key_notes(ctx: DoctorContext, t: Target) -> list[str]:
    """What to show once when this run's probe of ``t`` learned its host key: the fingerprint and how to compare it."""
    p = ctx.shared.get("auth.transcript", t.alias, AuthProbe)
    found = p.new_host_key() if p is not None else None
    return hostkey.new_key_notes(t.alias, found, docs_url(ctx, t)) if found is not None else []


def check_probe(ctx: DoctorContext, t: Target) -> Finding:
    """The probe's finding; a host key it learned is shown first among the details."""
    p = probe(ctx, t)
    ctx.shared.put("auth.transcript", t.alias, p)
    found = _classified(ctx, t, p)
    learned = learned_key_notes(ctx, t)
    return Finding(found.status, found.summary, found.hint, (*learned, *found.details)) if learned else found


def _classified(ctx: DoctorContext, t: Target, p: AuthProbe) -> Finding:
    tail = tuple(ln for ln in p.stderr.splitlines() if not ln.startswith("debug1:"))[-5:]
    if p.cause == "accepted" and t.alias in ctx.live:
        return ok("login accepted over a live ControlMaster (no new authentication; the key was not tried again)")
    if p.cause == "login-gone":
        return fail("the live login of sshsetup login went away during the run; doctor made no new connection",
                    f"log in again: sshsetup login --site {t.site_id or t.alias}, then run sshsetup doctor", tail)
    if p.cause == "accepted":
        how = next((ln.split("using", 1)[1].strip(" .") for ln in p.stderr.splitlines() if "Authenticated to" in ln and "using" in ln), "")
        return ok(f"login accepted{' using ' + how if how else ''}" + ("" if p.master else " (no ControlMaster)"))
    key = key_path(ctx)
    if p.cause in ("publickey-refused", "passphrase-needed", "no-key-offered") and not key.is_file():
        return fail(f"the login failed: the private key {key} does not exist, so ssh had none to use",
                    "create or restore the key (sshsetup init), then upload its key line: sshsetup key-line", tail)
    if p.cause == "publickey-refused":
        r = _refused(ctx, t)
        return Finding(r.status, r.summary, r.hint, tail)
    if p.cause == "partial-success-2fa":
        return warn("the key was accepted; the server then asks for a second factor (TOTP, keyboard-interactive)",
                    "log in from a terminal (ssh " + t.alias + ") to answer it; in VS Code set \"remote.SSH.showLoginTerminal\": true", tail)
    if p.cause == "too-many-failures":
        return fail("Too many authentication failures: ssh offered other keys (agent) before this one",
                    f"add IdentitiesOnly yes and IdentityFile {key} for {t.alias} (sshsetup init writes both)", tail)
    if p.cause == "passphrase-needed" and p.server_accepts_key:  # it works (as wait says): a terminal login asks for it
        return warn("the server accepts the key; it has a passphrase and no agent holds it, so ssh asks for it in a terminal "
                    "and VS Code cannot log in", f"add it to your agent once: ssh-add {key}", tail)
    if p.cause == "passphrase-needed":
        return fail("ssh could not use the key: it has a passphrase and no agent holds it (whether the server accepts it is not known)",
                    f"add it to your agent: ssh-add {key}, then run sshsetup doctor again", tail)
    if p.cause == "hostkey-changed" and (changed := hostkey.changed_host_key(p.stderr)) is not None:
        return fail(sshlog.CAUSES[p.cause].title, changed.fix(docs_url(ctx, t)), tail)
    if p.cause in ("closed-before-auth", "banner-timeout"):
        return fail(sshlog.CAUSES[p.cause].title + ": possibly a firewall block",
                    "stop retrying: " + NO_RETRY + "; wait some minutes, then run sshsetup doctor once", tail)
    if p.cause in sshlog.CAUSES:
        c = sshlog.CAUSES[p.cause]
        return fail(c.title, c.hint.replace("ALIAS", t.alias), tail)
    return fail(f"ssh exited with {p.returncode}: {tail[-1] if tail else 'no message'}",
                f"run ssh -v {t.alias} true once in a terminal and pass its output to sshsetup explain", tail)


CHECKS: tuple[Check, ...] = (
    Check.each_host("auth.from-range", "the address the server sees is inside the key's from= ranges", check_from_range,
                    after=("auth.probe",)),
    Check.each_host("auth.probe", "one ssh -v login (BatchMode), classified", check_probe, needs=("net.banner",)),
)
