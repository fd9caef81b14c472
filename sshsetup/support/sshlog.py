"""Classify an ``ssh -v``/``-vvv`` transcript or a VS Code "Remote-SSH: Show Log" output.

``classify(text)`` returns findings: a stable cause id, the evidence line numbers
(1-based) and a one-line hint. Nothing is redacted here. VS Code's timestamps and
``> `` prefixes are stripped before matching. The patterns were checked against
transcripts recorded from real OpenSSH runs (tests/data/sshlogs/README.md).

Two refusals look the same from the client: a key that is not (yet) uploaded and a key
whose from= ranges exclude the client's address print byte-identical output (tests/data/sshlogs/
README.md); the ``publickey-refused`` hint names both and points to ``sshsetup doctor``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

JSON_VERSION = 1
_DOCTOR = "run: sshsetup doctor (it compares your source address with the recorded from= ranges)"
_NO_RETRY = "stop retrying for a few minutes: JSC's firewall blocks addresses that connect too often"


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    hint: str


CAUSES: dict[str, Cause] = {c.id: c for c in (
    Cause("accepted", "authentication succeeded", "nothing to fix for the login itself"),
    Cause("publickey-refused", "the server refused the key (Permission denied (publickey))",
          "either the key is not uploaded for this system in JuDoor or not yet active (allow up to 15 minutes), or your "
          "address is outside the key's from= ranges (new network, VPN, IPv6); the client output is the same for both: " + _DOCTOR),
    Cause("partial-success-2fa", "the key was accepted, then a second factor (keyboard-interactive, e.g. TOTP) was required",
          "log in from a terminal (ssh ALIAS) to answer the prompt; in VS Code set \"remote.SSH.showLoginTerminal\": true "
          "and use a ControlMaster so the code is asked once"),
    Cause("too-many-failures", "the server disconnected: too many authentication failures",
          "ssh offered too many keys (agent or defaults) before the right one: add IdentitiesOnly yes and the IdentityFile to the host"),
    Cause("passphrase-needed", "the server accepts the key, but ssh could not use it: the key has a passphrase and no agent holds it",
          "add the key to your agent once: ssh-add KEYFILE (macOS: ssh-add --apple-use-keychain KEYFILE), then retry"),
    Cause("closed-before-auth", "the connection was closed or reset before authentication (no SSH banner)",
          "possibly a firewall block after too many connections, or the server is overloaded; " + _NO_RETRY),
    Cause("banner-timeout", "TCP connected but the server sent no SSH banner in time (accepted but silent)",
          "a firewall block or an overloaded host; " + _NO_RETRY),
    Cause("connect-timeout", "the TCP connection timed out",
          "the host is unreachable from this network (VPN? firewall dropping packets?); check with: sshsetup doctor net.tcp; " + _NO_RETRY),
    Cause("connection-refused", "the connection was refused",
          "wrong host name or port, the host is down, or a firewall rejects you; check HostName/Port: ssh -G ALIAS"),
    Cause("resolve-failed", "the host name could not be resolved",
          "check the spelling of HostName and that you are online; try: nslookup HOSTNAME"),
    Cause("hostkey-changed", "the server's host key differs from the one in known_hosts (REMOTE HOST IDENTIFICATION HAS CHANGED)",
          "compare the new fingerprint with the one the site publishes; only if it matches, remove the old entry with the "
          "ssh-keygen -R command printed in the log"),
    Cause("hostkey-unknown", "the host key is not in known_hosts and strict checking (or BatchMode) forbids asking",
          "connect once in a terminal (ssh ALIAS), compare the fingerprint with the one the site publishes and accept it"),
    Cause("bad-permissions", "ssh refuses a config or key file because of its owner or permissions (Bad owner or permissions)",
          "chmod 600 ~/.ssh/config (on Windows: remove inherited ACLs so only you can read it)"),
    Cause("unprotected-key", "the private key file is readable by others (UNPROTECTED PRIVATE KEY FILE), so ssh ignores it",
          "chmod 600 KEYFILE (on Windows: remove inherited ACLs so only you can read it)"),
    Cause("corrupted-mac", "Corrupted MAC on input (a known bug of Windows' OpenSSH with some MACs)",
          "add to the host's ssh config: MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com"),
    Cause("controlmaster-windows", "ControlMaster is used with Windows' own OpenSSH, which does not support it",
          "remove ControlMaster/ControlPath/ControlPersist for this host (sshsetup does not write them on Windows)"),
    Cause("vscode-pipe", "VS Code: \"The process tried to write to a nonexistent pipe\" (ssh exited early; the real error is in ssh's output)",
          "look at the other causes listed; if none, run ssh -v ALIAS true in a terminal and run sshsetup explain on its output"),
    Cause("vscode-lock", "VS Code server install is blocked by a lock (Installation already in progress / flock errors)",
          "set \"remote.SSH.useFlock\": false and \"remote.SSH.lockfilesInTmp\": true, then kill stale servers: "
          "Remote-SSH: Kill VS Code Server on Host"),
    Cause("disk-quota", "the remote disk quota is exceeded (space or number of files)",
          "free space in $HOME (check: jutil user dataquota, or quota), or move the VS Code server with remote.SSH.serverInstallPath"),
    Cause("shell-output", "the remote shell printed text that VS Code could not parse",
          "make ~/.bashrc (and similar) print nothing for non-interactive shells: wrap output in: if [[ $- == *i* ]]; then ...; fi"),
    Cause("vscode-no-connection", "VS Code: Could not establish connection (no more specific cause found in this log)",
          "open the Remote-SSH log (Remote-SSH: Show Log) or run ssh -v ALIAS true, and run sshsetup explain on it"),
)}

_RULES: tuple[tuple[str, str], ...] = (
    ("accepted", r"^Authenticated to |^Authentication succeeded \("),
    ("too-many-failures", r"Too many authentication failures"),
    ("partial-success-2fa", r'Authenticated using "\S+" with partial success|Permission denied \(keyboard-interactive|'
                            r"Verification code|\(OTP\)|TOTP"),
    ("passphrase-needed", r"Load key .*: incorrect passphrase|read_passphrase: can't open /dev/tty|Enter passphrase for key"),
    ("banner-timeout", r"Connection timed out during banner exchange"),
    ("connect-timeout", r"connect to (host|address) \S+ port \d+: (Connection|Operation) timed out"),
    ("connection-refused", r"connect to (host|address) \S+ port \d+: Connection refused"),
    ("resolve-failed", r"Could not resolve hostname"),
    ("hostkey-changed", r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed"),
    ("hostkey-unknown", r"No \S+ host key is known for|Host key verification failed"),
    ("bad-permissions", r"Bad owner or permissions on"),
    ("unprotected-key", r"UNPROTECTED PRIVATE KEY FILE|Load key .*: bad permissions"),
    ("corrupted-mac", r"Corrupted MAC on input"),
    ("controlmaster-windows", r"getsockname failed: Not a socket|ControlMaster is not supported"),
    ("vscode-pipe", r"The process tried to write to a nonexistent pipe"),
    ("vscode-lock", r"Installation already in progress|flock: |flock failed|No locks available"),
    ("disk-quota", r"Disk quota exceeded|No space left on device"),
    ("shell-output", r"Failed to parse remote port from server output"),
    ("vscode-no-connection", r"Could not establish connection to"),
)
_COMPILED = tuple((cid, re.compile(rx)) for cid, rx in _RULES)
_DENIED_KEY = re.compile(r"Permission denied \((publickey|[a-z-]*,publickey)")
_ACCEPTS = re.compile(r"Server accepts key:")
_AUTH_PHASE = re.compile(r"Authentications that can continue|Permission denied|^Authenticated to ")
_CLOSED = re.compile(r"kex_exchange_identification: |ssh_exchange_identification: |^Connection (closed|reset) by \S+ port \d+")
_CONNECTING_V6 = re.compile(r"Connecting to \S+ \[[0-9a-fA-F:]*:[0-9a-fA-F:]*\]")
_VSCODE_PREFIX = re.compile(r"^\[\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\]\s?|^>\s?")
_SUPPRESSES = {
    "hostkey-changed": ("hostkey-unknown",),
    "unprotected-key": ("passphrase-needed",),
}
_SPECIFIC = set(CAUSES) - {"accepted", "vscode-pipe", "vscode-no-connection"}


@dataclass(frozen=True)
class Finding:
    cause: str
    title: str
    hint: str
    lines: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"cause": self.cause, "title": self.title, "hint": self.hint, "lines": list(self.lines)}


def clean_lines(text: str) -> list[str]:
    """The transcript's lines without VS Code's timestamps and ``> `` prefixes."""
    out = []
    for line in text.splitlines():
        line = line.rstrip("\r")
        while True:
            stripped = _VSCODE_PREFIX.sub("", line, count=1)
            if stripped == line:
                break
            line = stripped
        out.append(line.strip())
    return out


def classify(text: str) -> list[Finding]:
    lines = clean_lines(text)
    hits: dict[str, list[int]] = {}
    for n, line in enumerate(lines, 1):
        for cid, rx in _COMPILED:
            if rx.search(line):
                hits.setdefault(cid, []).append(n)
    denied = [n for n, ln in enumerate(lines, 1) if _DENIED_KEY.search(ln)]
    accepts = [n for n, ln in enumerate(lines, 1) if _ACCEPTS.search(ln)]
    auth_phase = any(_AUTH_PHASE.search(ln) for ln in lines)
    if not auth_phase:
        closed = [n for n, ln in enumerate(lines, 1) if _CLOSED.search(ln)]
        if closed and not ({"banner-timeout", "connect-timeout", "connection-refused", "resolve-failed"} & set(hits)):
            hits["closed-before-auth"] = closed
    if denied and "partial-success-2fa" not in hits and "too-many-failures" not in hits:
        if accepts and "unprotected-key" not in hits:
            hits.setdefault("passphrase-needed", []).extend(accepts[-1:] + denied)
        elif not accepts:
            hits["publickey-refused"] = denied
    for strong, weak in _SUPPRESSES.items():
        if strong in hits:
            for w in weak:
                hits.pop(w, None)
    if _SPECIFIC & set(hits):
        hits.pop("vscode-no-connection", None)
    findings = []
    for cid, ns in hits.items():
        c = CAUSES[cid]
        hint = c.hint
        if cid == "publickey-refused" and any(_CONNECTING_V6.search(ln) for ln in lines):
            hint = "this connection used IPv6: a from= list with only IPv4 ranges refuses it (AddressFamily inet avoids it); " + hint
        findings.append(Finding(cid, c.title, hint, tuple(sorted(set(ns)))))
    return sorted(findings, key=lambda f: (f.lines[0], f.cause))


def to_json(findings: list[Finding]) -> dict[str, Any]:
    return {"version": JSON_VERSION, "causes": [f.to_json() for f in findings]}
