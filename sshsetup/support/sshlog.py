"""Classify an ``ssh -v``/``-vvv`` transcript or a VS Code "Remote-SSH: Show Log" output.

``classify(text)`` returns findings: a stable cause id, the evidence line numbers (1-based),
the evidence lines themselves and a one-line hint. Nothing is redacted here, and nothing is
made terminal-safe: callers show every string through ``sshsetup.sanitize``.

It prefers "no known cause" to a wrong guess: a line is evidence for a cause only in the
context that makes it one (``read_passphrase: can't open /dev/tty`` means "key passphrase"
only after a key line), and a consequence of a cause (the "Permission denied" after a changed
host key, VS Code's "Failed to parse remote port" after a refused key) is not a second cause.

Normalised before matching, so the way a log was pasted does not matter (``normalise``):
CRLF and bare CR, ANSI/OSC escape sequences and other control characters, Unicode spaces,
VS Code's timestamps in each of its formats (``[10:02:11.700]``, ``[2025-04-24 01:36:16]``,
``2025-04-24 01:36:16.123 [info]``), ``> `` quotes and continuation prefixes, ``stderr> ``,
``local-server-1> ``, ``Tunnel(123) stderr: ``. A phrase that VS Code's terminal wrapped
onto a ``> `` continuation line is matched across the break.

Linear time and bounded memory on any input: text is processed in blocks of lines, each line
is examined up to ``MAX_LINE`` characters, every pattern has bounded repetitions, and each
cause keeps at most ``MAX_EVIDENCE`` evidence lines.

Two refusals look the same from the client: a key that is not (yet) uploaded and a key
whose from= ranges exclude the client's address print byte-identical output (tests/data/sshlogs/
README.md); the ``publickey-refused`` hint names both and points to ``sshsetup doctor``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

JSON_VERSION = 1
MAX_LINE = 4096  # characters of one line that are examined
MAX_EVIDENCE = 20  # evidence lines kept per cause
BLOCK = 1 << 20  # characters classified at once
_DOCTOR = "run: sshsetup doctor (it compares your source address with the recorded from= ranges)"
_NO_RETRY = "stop retrying for a few minutes: JSC's firewall blocks addresses that connect too often"
_TERMINAL = ("log in once from a terminal (ssh ALIAS) and type the code there; with sshsetup login the code is asked once "
             "per working session; in VS Code set \"remote.SSH.showLoginTerminal\": true")


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    hint: str


# Ordered as the README lists them: the login, then the causes real users hit most often first.
CAUSES: dict[str, Cause] = {c.id: c for c in (
    Cause("accepted", "authentication succeeded", "nothing to fix for the login itself"),
    Cause("publickey-refused", "the server refused the key (Permission denied (publickey))",
          "either the key is not uploaded for this system in JuDoor or not yet active (allow up to 15 minutes), or your "
          "address is outside the key's from= ranges (new network, VPN, IPv6); the client output is the same for both: " + _DOCTOR),
    Cause("algorithm-refused", "client and server share no algorithm for the key, host key or signature (an old key type, or an old server or client)",
          "make a new ed25519 key (sshsetup init) and upload its key line in JuDoor; if the server offers only ssh-rsa host keys, "
          "update the client or allow it for that host only: HostKeyAlgorithms +ssh-rsa"),
    Cause("partial-success-2fa", "the key was accepted, then a second factor (keyboard-interactive, e.g. TOTP) was required",
          "log in from a terminal (ssh ALIAS) to answer the prompt; in VS Code set \"remote.SSH.showLoginTerminal\": true "
          "and use a ControlMaster so the code is asked once"),
    Cause("proxy-spawn-failed", "ssh could not start the ProxyJump/ProxyCommand program (Windows: CreateProcessW failed error:2)",
          "Windows' ssh looks for a plain \"ssh\" to run the jump: instead of ProxyJump use "
          "ProxyCommand C:\\Windows\\System32\\OpenSSH\\ssh.exe -W %h:%p JUMPHOST, or update Win32-OpenSSH (8.1 or newer); "
          "elsewhere check that the ProxyCommand program exists"),
    Cause("vscode-server-download", "the remote host could not download the VS Code server (no internet access, no curl or wget)",
          "let VS Code download the server on your computer and copy it over: set \"remote.SSH.localServerDownload\": \"always\", then reconnect"),
    Cause("vscode-glibc", "the remote system is older than this VS Code server needs (glibc 2.28 and libstdc++ 3.4.25 since VS Code 1.99)",
          "connect to a newer system or login node, or use VS Code 1.98 or older for this host; the VS Code Remote FAQ describes a workaround for old distributions"),
    Cause("forwarding-refused", "the server refused a forwarded channel (administratively prohibited)",
          "VS Code and ProxyJump need TCP forwarding: if it happens on every connection the server forbids it (AllowTcpForwarding no), "
          "ask the site's support; if it starts after a while, kill the remote server (Remote-SSH: Kill VS Code Server on Host) and reconnect"),
    Cause("password-rejected", "a password (or the user name) was not accepted (Permission denied, please try again.)",
          "check the user name: ssh -G ALIAS | grep '^user ' must show your JuDoor user name; JSC systems accept keys, not passwords, "
          "so a password prompt there means the key was not offered or was refused: run sshsetup doctor"),
    Cause("no-terminal-prompt", "ssh had to ask for a password or a keyboard-interactive answer but had no terminal (read_passphrase: can't open /dev/tty)",
          "run the command in a terminal; in VS Code set \"remote.SSH.showLoginTerminal\": true; a server asking for a password "
          "usually means the key was not offered or was refused: run sshsetup doctor"),
    Cause("no-key-offered", "ssh had no key to offer (no IdentityFile found, no key in the agent)",
          "check that IdentityFile in ssh -G ALIAS names your private key and that the file exists (sshsetup init writes it), "
          "then run sshsetup doctor"),
    Cause("putty-key", "the private key is a PuTTY .ppk file, which OpenSSH cannot read (invalid format)",
          "convert it with PuTTYgen (Conversions > Export OpenSSH key) and point IdentityFile at the exported file, "
          "or make a new key with sshsetup init"),
    Cause("key-invalid-format", "ssh could not read the private key file (Load key: invalid format)",
          "IdentityFile must name the private key (not the .pub file), unchanged (no CRLF line endings, no missing lines); "
          "check with: ssh-keygen -y -f KEYFILE"),
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
          "remove ControlMaster/ControlPath/ControlPersist for this host (sshsetup does not write them on Windows); "
          "for one code per session on Windows use WSL"),
    Cause("controlmaster-failed", "ssh could not use its shared connection (ControlMaster socket)",
          "close the master and retry: ssh -O exit ALIAS (or delete the socket named by ControlPath); on WSL keep ControlPath "
          "inside the Linux file system, not under /mnt/c"),
    Cause("2fa-accepted", "the key and the second factor (one-time code) were accepted",
          "nothing to fix for the login itself"),
    Cause("2fa-rejected", "the one-time code was not accepted (wrong, or already used within its 30 s window)",
          "wait for the next code (a code is valid once), check your phone's clock is exact, and type it within 30 s"),
    Cause("2fa-wrong-code", "the one-time code was wrong",
          "check that the authenticator entry is the one for this site and that your phone's clock is exact, then use the next code"),
    Cause("2fa-code-reused", "the one-time code was already used (a code is valid once)",
          "wait for the next code (up to 30 s) and use it; let one login open a ControlMaster (sshsetup login) instead of logging in again"),
    Cause("2fa-unanswered", "the one-time code prompt was never answered (timeout, or no terminal to type it in)", _TERMINAL),
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

_HINT_HOSTKEY_ALGO = ("the server offers only old host key or key exchange types that this client no longer accepts: update the "
                      "server or, for that host only, allow its type: HostKeyAlgorithms +ssh-rsa (the type named after \"Their offer:\")")
_HINT_IPV6 = "this connection used IPv6: a from= list with only IPv4 ranges refuses it (AddressFamily inet avoids it); "

# One alternation, one pass over each block; a named group is an event. Every alternative starts
# with a literal character that is rare in logs (a capital, "\n" for a message at a line start,
# "_", "'", "\\"), so sre skips most positions by their first character; alternatives with the
# same first character share one branch. Every repetition is bounded. A lookbehind after the
# first character checks the words before it.
_EVENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("load_key", (r"Load key ",)),  # what follows on the line is read in _State.event: linear on any line
    ("ppk", (r"PuTTY-User-Key-File",)),
    ("unprotected", (r"UNPROTECTED PRIVATE KEY FILE",)),
    ("accepted", (r"Authenticated to ", r"Authentication succeeded \(")),
    ("success2", (r"Success\. Logging you in",)),
    ("toomany", (r"Too many authentication failures",)),
    ("partial", (r'Authenticated using "[^"\n]{1,40}" with partial success', r"Authenticated with partial success")),
    ("denied_kbd", (r"Permission denied \((?:[a-z-]{1,30},){0,6}keyboard-interactive",)),
    ("denied_pk", (r"Permission denied \((?:publickey|[a-z-]{1,30},publickey)",)),
    ("pw_retry", (r"Permission denied, please try again",)),
    ("prompt", (r"Verification code", r"Verification Code", r"VERIFICATION CODE", r"One-time password", r"OTP\)", r"TOTP",
                r"Duo two-factor", r"Passcode or option", r"Enter a passcode", r"Passcode:", "\npasscode:")),
    ("wrong_code", (r"Invalid (?:verification code|one-time|OTP|passcode|code)", r"Incorrect (?:verification |pass)?code",
                    r"Wrong (?:verification )?code")),
    ("reused_code", (r"OTP replayed", r"OTP already used", r"Code already used", r"Token already used", r"Reused (?:code|token)",
                     r"REPLAYED")),
    ("can_continue", (r"Authentications that can continue: [a-z,-]{0,200}",)),
    ("no_more", (r"No more authentication methods to try",)),
    ("ctx_key", (r"Enter passphrase for key", r"Trying private key", r"Server accepts key", r"Offering public key",
                 r"Offering RSA public key", r"Offering ECDSA public key", r"Offering ED25519 public key", r"Offering DSA public key")),
    ("pk_method", (r"Next authentication method: publickey",)),
    ("no_identity", ("\nno such identity: ",)),
    ("remote_ran", (r"Acquiring lock on", r"Found existing installation at", r"Installing to ", r"Remote server is listening",
                    r"Parsed server configuration")),
    ("ctx_kbd", (r"Next authentication method: keyboard-interactive",)),
    ("ctx_pw", (r"Next authentication method: password", r"'s password:", r"Password:", r"Got askpass request",
                r"Showing password prompt")),
    ("devtty", ("\nread_passphrase: can't open /dev/tty", r"'(?<=read_passphrase: can')t open /dev/tty")),
    ("algo_sig", ("\nsign_and_send_pubkey: no mutual signature", "\nsend_pubkey_test: no mutual signature", r"Skipping ssh-dss key",
                  r"P(?<=not in P)ubkeyAcceptedAlgorithms")),
    ("algo_host", (r"Unable to negotiate ",)),  # with "no matching ... found" on the line (_State.event)
    ("banner_timeout", (r"Connection timed out during banner exchange",)),
    ("refused", (r"Connection refused",)),
    ("resolve", (r"Could not resolve hostname",)),
    ("hostkey_changed", (r"REMOTE HOST IDENTIFICATION HAS CHANGED", r"Host key for [^\s]{1,300} has changed")),
    ("hostkey_unknown", (r"No [^\s]{1,40} host key is known for", r"Host key verification failed")),
    ("bad_perms", (r"Bad owner or permissions on",)),
    ("mac", (r"Corrupted MAC on input",)),
    ("mux_win", (r"N(?<=getsockname failed: N)ot a socket", r"B(?<=getsockname failed: B)ad file descriptor",
                 r"ControlMaster is not supported", "\nchannel_send_open: channel [0-9]{1,6}: unexpected internal error",
                 r"U(?<=muxclient socket\(\): U)nknown error")),
    # a healthy shared connection logs mux_client_* lines too, and a stale socket makes ssh connect directly:
    # only the failures count (_State.event)
    ("mux", ("\nmuxclient: ", "\nmux_client_", r"Failed to connect to new control master")),
    ("windows", (r"OpenSSH_for_Windows", "\nwin32 x64", r"\\\\.\\pipe\\", r"\\Users\\")),
    ("proxy_spawn", (r"CreateProcessW failed error:\d", "\nposix_spawn: No such file or directory",
                     "\nposix_spawnp: No such file or directory", r"\(posix_spawnp?: No such file or directory")),
    ("download", ("\nwget download failed", "\ncurl download failed", r"Neither curl nor wget is installed",
                  r"Neither wget nor curl is installed", r"Downloading VS Code Server failed", "\nwget: unable to resolve host address")),
    ("glibc", (r"V(?<=meet V)isual Studio Code Server's prerequisites", r"V(?<=meet V)S Code Server's prerequisites",
               r"V(?<=prerequisites for running V)S Code Server", r"Missing GLIBC(?:XX)? >=", r"G(?<=find G)LIBC >= ")),
    ("forwarding", ("\nchannel [0-9]{1,6}: open failed: administratively prohibited", r"ADMINISTRATIVELY_PROHIBITED",
                    "\nstdio forwarding failed")),
    ("timeout_any", (r"Timeout before authentication", r"Connection timed out", r"Operation timed out", r"Connecting with SSH timed out",
                     r"Timed out while waiting for")),
    ("closed", ("\nkex_exchange_identification: ", "\nssh_exchange_identification: ")),
    ("closed_any", (r"Connection closed by ", r"Connection reset by ", r"Received disconnect from ")),
    ("v6", (r"Connecting to [^\s]{1,300} \[[0-9a-fA-F:]{0,40}:[0-9a-fA-F:]{0,40}\]",)),
    ("vscode_pipe", (r"The process tried to write to a nonexistent pipe",)),
    ("lock", (r"Installation already in progress", "\nflock: ", r"No locks available")),
    ("quota", (r"Disk quota exceeded", r"No space left on device")),
    ("parse_port", (r"Failed to parse remote port from server output",)),
    ("no_connection", (r"Could not establish connection to",)),
)


def _first(rx: str) -> tuple[str, str]:
    """The literal first character of an alternative (as regex text) and the rest."""
    if rx.startswith("\\") and len(rx) > 1 and not rx[1].isalnum():
        return rx[:2], rx[2:]
    if rx[0] in "[(.^$*+?{|" or rx[0].isspace() and rx[0] != "\n":
        raise ValueError(f"an alternative must start with a literal character: {rx!r}")
    return ("\\n" if rx[0] == "\n" else re.escape(rx[0])), rx[1:]


def _scanner() -> tuple[re.Pattern[str], dict[str, str]]:
    """The alternatives as a two-level tree by their first two characters (sre checks a literal
    first character of a branch before it enters it)."""
    tree: dict[str, dict[str, list[str]]] = {}
    groups: dict[str, str] = {}
    for name, alts in _EVENTS:
        for k, rx in enumerate(alts):
            first, rest = _first(rx)
            try:
                second, rest = _first(rest) if rest else ("", rest)
            except ValueError:
                second = ""
            group = f"{name}__{k}"
            groups[group] = name
            tree.setdefault(first, {}).setdefault(second, []).append(f"(?P<{group}>{rest})")
    branches = []
    for first, seconds in tree.items():
        inner = "|".join(f"{second}(?:{'|'.join(alts)})" for second, alts in seconds.items())
        branches.append(f"{first}(?:{inner})")
    return re.compile("|".join(branches)), groups


_SCAN, _GROUP_EVENT = _scanner()


# -- normalisation ------------------------------------------------------------------------------
_TIME = r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
_DATE_TIME = r"\d{4}-\d{2}-\d{2}[ T]" + _TIME + r"(?:Z|[+-]\d{2}:?\d{2})?"
_LEVEL = r"\[(?:trace|debug|info|warning|warn|error|critical|TRACE|DEBUG|INFO|WARNING|WARN|ERROR)\s{0,4}\]"
_ONE_PREFIX = (r"[ \t]|>|\[" + _TIME + r"\]|\[" + _DATE_TIME + r"\]|" + _DATE_TIME + r"|" + _LEVEL
               + r"|debug[1-3]: |std(?:err|out)>|local-server(?:-\d{1,6})?>|Tunnel\(\d{1,9}\) std(?:err|out):"
               + r"|#\d{1,6} \d{1,6}\.\d{1,6} ")
# each line's prefixes, on the text with a "\n" put before its first line
_PREFIX = re.compile(r"\n(?:" + _ONE_PREFIX + r")(?:" + _ONE_PREFIX + r"){0,64}")
_ONE_SHOWN = _ONE_PREFIX.replace(r"|debug[1-3]: ", "")  # clean_lines keeps ssh's own "debug1: "
_PREFIX_SHOWN = re.compile(r"\n(?:" + _ONE_SHOWN + r")(?:" + _ONE_SHOWN + r"){0,64}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ESCAPES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f](?:(?<=\x1b)(?:\[[0-?]{0,64}[ -/]{0,16}[@-~]?|\][^\x07\x1b\n]{0,4096}"
                      r"(?:\x07|\x1b\\)?|[@-Z\\-_]))?")
_SPACES: dict[int, str | None] = {n: " " for n in (0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000, 0x85, 0x2028, 0x2029)}
_SPACES.update({n: None for n in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)})
_LONG = re.compile(r"\n([^\n]{" + str(MAX_LINE) + r"})[^\n]+")
# a line a terminal wrapped, then a "> " continuation line (no timestamp)
_CONTINUATION = re.compile(r"\n[ \t]{0,8}>")
_WRAPPED = 60  # a shorter line was not wrapped
_WRAP_SPAN = 160


def _lines_only(text: str) -> str:
    """One ``\\n`` per line: CRLF, and a bare CR (a line overwritten on a terminal) starts a new line;
    the escaped line ends of a JSON-quoted stderr (Ansible, AWX: a literal ``\\r\\n``) too."""
    if "\\r" in text:
        text = text.replace("\\\\r\\\\n", "\n").replace("\\r\\n", "\n")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _normalised(text: str, prefix: re.Pattern[str] = _PREFIX) -> str:
    """``text`` (lines only) as it is matched, with a "\\n" before its first line."""
    text = "\n" + text
    if _CONTROL.search(text):
        text = _ESCAPES.sub("", text)
    if not text.isascii():
        text = text.translate(_SPACES)
    text = _LONG.sub(r"\n\1", text)
    return prefix.sub("\n", text)


def normalise(text: str) -> str:
    """The text as it is matched: no escape sequences, control characters, prefixes (timestamps,
    quotes, ``debug1:``, ``stderr>``...), indentation or odd spaces; lines cut at ``MAX_LINE``.
    Every line of ``_lines_only(text)`` stays where it is."""
    return _normalised(_lines_only(text))[1:]


def clean_lines(text: str) -> list[str]:
    """The transcript's lines as ``normalise`` makes them, but with ssh's own ``debug1:`` kept
    (callers tell ssh's lines from the server's by it), without trailing blanks."""
    return [ln.rstrip() for ln in _normalised(_lines_only(text), _PREFIX_SHOWN)[1:].splitlines()]


# -- findings -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    cause: str
    title: str
    hint: str
    lines: tuple[int, ...]
    evidence: tuple[str, ...] = field(default=(), compare=False)  # the first evidence lines, normalised

    def to_json(self) -> dict[str, Any]:
        return {"cause": self.cause, "title": self.title, "hint": self.hint, "lines": list(self.lines),
                "evidence": list(self.evidence)}


def _keep(lines: list[int], n: int) -> None:
    if len(lines) < MAX_EVIDENCE and (not lines or lines[-1] != n):
        lines.append(n)


class _State:
    """What one pass has seen so far, in order; every list is bounded by MAX_EVIDENCE."""

    def __init__(self) -> None:
        self.hits: dict[str, list[int]] = {}
        self.texts: dict[int, str] = {}
        self.auth_phase = False
        self.closed: list[int] = []
        self.denied_pk: list[int] = []
        self.no_more_pk: list[int] = []  # "No more authentication methods" after "can continue: publickey"
        self.accepts: list[int] = []
        self.context = ""  # what ssh asked for last: "key", "kbd" or "pw"
        self.only_publickey = 0  # line of "can continue: publickey" while it is the last list seen
        self.prompt = 0  # line of the first second-factor prompt
        self.twofa: dict[str, list[int]] = {}  # outcome after the prompt -> lines
        self.partial = 0
        self.windows = False
        self.v6 = False
        self.algo_host = False
        self.offered = 0  # keys offered to the server
        self.tried = 0  # key files tried ...
        self.missing = 0  # ... of which did not exist ("no such identity")
        self.pk_method = 0
        self.asked_other = False  # a password or keyboard-interactive attempt is in the log
        self.devtty = 0
        self.askpass = False
        self.tty_outcomes: set[int] = set()  # "unanswered" outcomes that are a /dev/tty line

    def _text(self, n: int, text: str) -> None:
        if len(self.texts) < 64 * MAX_EVIDENCE:
            self.texts.setdefault(n, text[:300])

    def add(self, cause: str, n: int, text: str) -> None:
        _keep(self.hits.setdefault(cause, []), n)
        self._text(n, text)

    def outcome(self, what: str, n: int, text: str) -> None:
        _keep(self.twofa.setdefault(what, []), n)
        self._text(n, text)

    def event(self, name: str, n: int, text: str, at_start: bool) -> None:  # noqa: C901, PLR0912 - one dispatch of the events
        cause = _DIRECT.get(name)
        if cause is not None:
            self.add(cause, n, text)
        elif name in ("accepted", "success2", "remote_ran"):
            if name == "accepted" and not at_start:
                return
            self.auth_phase = True
            if self.prompt or (self.partial and name == "accepted"):
                self.outcome("accepted", n, text)
            if name == "accepted":
                self.add("accepted", n, text)
        elif name == "partial":
            self.auth_phase = True
            self.partial = self.partial or n
            self.add("partial-success-2fa", n, text)
        elif name == "denied_kbd":
            self.auth_phase = True
            if self.prompt:
                self.outcome("rejected", n, text)
            elif self.partial:
                self.add("partial-success-2fa", n, text)
            elif "publickey" in text:
                _keep(self.denied_pk, n)
                self._text(n, text)
        elif name == "denied_pk":
            self.auth_phase = True
            _keep(self.denied_pk, n)
            self._text(n, text)
        elif name == "prompt":
            self.prompt = self.prompt or n
            self.add("partial-success-2fa", n, text)
        elif name in ("wrong_code", "reused_code"):
            if self.prompt:
                self.outcome("wrong" if name == "wrong_code" else "reused", n, text)
        elif name == "can_continue":
            self.auth_phase = True
            methods = text.split("continue:", 1)[-1].strip().split(",")
            self.only_publickey = n if methods == ["publickey"] else 0
            if self.prompt and "keyboard-interactive" in methods:
                self.outcome("rejected", n, text)
        elif name == "no_more":
            if self.only_publickey and not self.partial:
                _keep(self.no_more_pk, n)
                self._text(n, text)
        else:
            self._other(name, n, text, at_start)

    def _load_key(self, n: int, text: str) -> None:
        """``Load key PATH: REASON`` (substring tests: linear whatever the line holds)."""
        if "incorrect passphrase" in text:
            self.add("passphrase-needed", n, text)
        elif "bad permissions" in text:
            self.add("unprotected-key", n, text)
        elif "invalid format" in text:
            self.add("putty-key" if ".ppk" in text else "key-invalid-format", n, text)

    def _other(self, name: str, n: int, text: str, at_start: bool) -> None:  # noqa: C901, PLR0912 - the rest of the dispatch
        if name in ("ctx_key", "load_key", "ppk", "unprotected"):
            self.context = "key"
            if text.startswith(("Offering", "Server accepts key")):
                self.offered += 1
            elif text.startswith("Trying private key"):
                self.tried += 1
            if "Server accepts key" in text:
                _keep(self.accepts, n)
            if name == "load_key":
                self._load_key(n, text)
        elif name == "ctx_kbd":
            self.context = "kbd"
            self.asked_other = True
        elif name == "ctx_pw":
            if text.startswith("Password:") and text.strip() != "Password:":
                return
            self.context = "pw"
            self.asked_other = True
            if self.devtty and text.startswith(("Got askpass request", "Showing password prompt")):
                self.askpass = True  # VS Code asks instead of the missing terminal: no failure
                if set(self.twofa.get("unanswered", ())) <= self.tty_outcomes:
                    self.twofa.pop("unanswered", None)
        elif name == "no_identity":
            self.missing += 1
        elif name == "pk_method":
            self.pk_method = self.pk_method or n
        elif name == "pw_retry":
            self.auth_phase = True
            self.add("password-rejected", n, text)
        elif name == "devtty":
            self.devtty = self.devtty or n
            if self.context == "key":
                self.add("passphrase-needed", n, text)
            elif self.context in ("kbd", "pw"):
                if self.prompt or self.partial:
                    self.outcome("unanswered", n, text)
                    if len(self.tty_outcomes) < MAX_EVIDENCE:
                        self.tty_outcomes.add(n)
                else:
                    self.add("no-terminal-prompt", n, text)
        elif name == "algo_host" and "no matching" not in text:
            return
        elif name in ("algo_sig", "algo_host"):
            self.add("algorithm-refused", n, text)
            self.algo_host = self.algo_host or name == "algo_host"
        elif name == "mux":
            if "failed" in text:
                self.add("controlmaster-failed", n, text)
        elif name == "windows":
            self.windows = True
        elif name in ("timeout_any", "closed_any", "closed"):
            if self.prompt and not self.twofa:
                self.outcome("unanswered", n, text)
            if (name == "closed" or (at_start and name == "closed_any" and _PORT_CLOSED.match(text))) and not self.auth_phase:
                _keep(self.closed, n)
                self._text(n, text)
        elif name == "v6":
            self.v6 = True


_PORT_CLOSED = re.compile(r"Connection (?:closed|reset) by [^\s]{1,300} port \d{1,5}")
_DIRECT = {"toomany": "too-many-failures", "banner_timeout": "banner-timeout", "connect_timeout": "connect-timeout",
           "refused": "connection-refused", "resolve": "resolve-failed", "hostkey_changed": "hostkey-changed",
           "hostkey_unknown": "hostkey-unknown", "bad_perms": "bad-permissions", "mac": "corrupted-mac",
           "mux_win": "controlmaster-windows", "proxy_spawn": "proxy-spawn-failed", "download": "vscode-server-download",
           "glibc": "vscode-glibc", "forwarding": "forwarding-refused", "vscode_pipe": "vscode-pipe", "lock": "vscode-lock",
           "quota": "disk-quota", "parse_port": "shell-output", "no_connection": "vscode-no-connection"}
_KEY_DIRECT = {"ppk": "putty-key", "unprotected": "unprotected-key"}


_CONNECT_TO = re.compile(r"connect to (?:host|address) [^\s]{1,300} port \d{1,5}: ")


def _dispatch(state: _State, name: str, n: int, text: str, at_start: bool) -> None:
    if name in ("timeout_any", "refused") and _CONNECT_TO.search(text):
        name = "connect_timeout" if name == "timeout_any" else name
    elif name == "refused":
        return
    key_cause = _KEY_DIRECT.get(name)
    if key_cause is not None:
        state.add(key_cause, n, text)
    state.event(name, n, text, at_start)


def _scan(state: _State, norm: str, first_line: int) -> None:
    """Every event of one normalised block (it starts with "\\n"), with its line number."""
    nl_count = 0
    pos = 0
    last = (-1, "")
    for m in _SCAN.finditer(norm):
        start = m.start()
        if norm[start] == "\n":
            start += 1
        nl_count += norm.count("\n", pos, start)
        pos = start
        n = first_line - 1 + nl_count
        name = _GROUP_EVENT[m.lastgroup or ""]
        if (n, name) == last:
            continue
        last = (n, name)
        ls = norm.rfind("\n", 0, start) + 1
        le = norm.find("\n", start)
        _dispatch(state, name, n, norm[ls:le if le >= 0 else len(norm)], ls == start)


def _scan_wraps(state: _State, raw: str, first_line: int) -> None:
    """Phrases split by a terminal wrap onto a "> " continuation line, matched across the break.
    ``raw`` is the block (lines only) with a "\\n" before its first line."""
    for m in _CONTINUATION.finditer(raw):
        le = m.start()
        ls = raw.rfind("\n", 0, le) + 1
        if le - ls < _WRAPPED or ls == 0:
            continue
        ne = raw.find("\n", le + 1)
        tail = _normalised(raw[max(ls, le - _WRAP_SPAN):le])[1:]
        head = _normalised(raw[le + 1:ne if ne >= 0 else len(raw)][:_WRAP_SPAN + 16])[1:]
        joined = "\n" + tail + head
        for j in _SCAN.finditer(joined):
            if j.start() < len(tail) + 1 < j.end():
                n = first_line - 1 + raw.count("\n", 0, le + 1)
                _dispatch(state, _GROUP_EVENT[j.lastgroup or ""], n, joined[1:], False)


def _blocks(text: str) -> Iterator[str]:
    """``text`` (whole lines) in pieces of about BLOCK characters, each ending at a line end."""
    start = 0
    while start < len(text):
        end = text.rfind("\n", start, start + BLOCK) + 1
        if end <= start:
            end = text.find("\n", start + BLOCK) + 1 or len(text)
        yield text[start:end]
        start = end


class Classifier:
    """Feed a log in pieces (``feed``), then read ``findings()``: memory stays bounded by BLOCK."""

    def __init__(self) -> None:
        self._state = _State()
        self._pending = ""  # the start of a line whose end has not come yet
        self._skipping = False  # inside a line longer than MAX_LINE: drop the rest of it
        self._cr = False  # the last piece ended with a CR
        self._next_line = 1

    def feed(self, piece: str) -> None:
        if self._cr:
            piece, self._cr = "\r" + piece, False
        if piece.endswith("\r"):  # it may be the first half of a CRLF
            piece, self._cr = piece[:-1], True
        piece = _lines_only(piece)
        if self._skipping:
            nl = piece.find("\n")
            if nl < 0:
                return
            piece, self._skipping = piece[nl:], False
        text = self._pending + piece
        cut = text.rfind("\n") + 1
        if cut:
            for block in _blocks(text[:cut]):
                self._block(block)
            text = text[cut:]
        if len(text) > MAX_LINE:
            text, self._skipping = text[:MAX_LINE], True
        self._pending = text

    def _block(self, raw: str) -> None:
        raw = _lines_only(raw)
        _scan(self._state, _normalised(raw), self._next_line)
        _scan_wraps(self._state, "\n" + raw, self._next_line)
        self._next_line += raw.count("\n")

    @property
    def lines(self) -> int:
        """Lines read so far (a last line without its newline counts)."""
        return self._next_line - 1 + (1 if self._pending or self._skipping else 0)

    def findings(self) -> list[Finding]:
        if self._cr:
            self._cr = False
            self.feed("\n")
        if self._pending:
            pending, self._pending = self._pending, ""
            self._block(pending + "\n")
        self._skipping = False
        return _decide(self._state)


_SUPPRESSES = {
    "hostkey-changed": ("hostkey-unknown", "publickey-refused", "password-rejected", "partial-success-2fa", "no-terminal-prompt",
                        "2fa-rejected", "2fa-unanswered", "passphrase-needed"),
    "unprotected-key": ("passphrase-needed", "publickey-refused"),
    "putty-key": ("publickey-refused", "key-invalid-format", "no-key-offered"),
    "key-invalid-format": ("publickey-refused", "no-key-offered"),
    "algorithm-refused": ("publickey-refused", "password-rejected", "no-key-offered"),
    "too-many-failures": ("publickey-refused",),
    "controlmaster-windows": ("controlmaster-failed",),
    "no-terminal-prompt": ("password-rejected",),
}
_TWOFA = {"accepted": "2fa-accepted", "wrong": "2fa-wrong-code", "reused": "2fa-code-reused", "rejected": "2fa-rejected",
          "unanswered": "2fa-unanswered"}
_SILENT = {"banner-timeout", "connect-timeout", "connection-refused", "resolve-failed", "proxy-spawn-failed", "controlmaster-windows"}
_CONSEQUENCES = ("vscode-no-connection", "vscode-pipe", "shell-output")
_BEFORE_LOGIN = ("algorithm-refused", "key-invalid-format", "putty-key", "passphrase-needed", "unprotected-key", "no-key-offered",
                 "publickey-refused", "password-rejected", "no-terminal-prompt", "controlmaster-failed")
_NOT_SPECIFIC = {"accepted", "2fa-accepted", *_CONSEQUENCES}


def _decide(st: _State) -> list[Finding]:  # noqa: C901, PLR0912 - the precedence rules in one place
    hits = {k: list(v) for k, v in st.hits.items()}
    if st.twofa:
        # the last outcome after the prompt decides; a stated reason beats a bare refusal
        final = max(st.twofa, key=lambda k: st.twofa[k][-1])
        if final == "rejected":
            final = next((k for k in ("reused", "wrong") if k in st.twofa), final)
        hits[_TWOFA[final]] = [*([st.prompt] if st.prompt else []), *st.twofa[final]]
        hits.pop("partial-success-2fa", None)
        if final == "accepted":
            hits.pop("accepted", None)
    if not st.auth_phase and st.closed and not (_SILENT & set(hits)):
        hits["closed-before-auth"] = st.closed
    has_2fa = "partial-success-2fa" in hits or any(c.startswith("2fa-") for c in hits)
    denied = st.denied_pk or st.no_more_pk
    if denied and not has_2fa and "too-many-failures" not in hits:
        if st.accepts and "unprotected-key" not in hits:
            hits.setdefault("passphrase-needed", []).extend([*st.accepts[-1:], *denied])
        elif st.offered or st.tried > st.missing or not (st.pk_method or st.asked_other):
            # a key was offered, or the log shows no other attempt: the refusal is of the key
            hits["publickey-refused"] = denied
        elif st.pk_method:
            hits["no-key-offered"] = [st.pk_method, *denied]
    if st.askpass:
        hits.pop("no-terminal-prompt", None)
    if {"accepted", "2fa-accepted"} & set(hits):
        # the login succeeded: a key or prompt problem on the way (an extra key, a typo) is not the cause of anything
        for before in _BEFORE_LOGIN:
            if before != "algorithm-refused" or not st.algo_host:
                hits.pop(before, None)
    if "controlmaster-failed" in hits and st.windows:
        hits.setdefault("controlmaster-windows", []).extend(hits.pop("controlmaster-failed"))
    for strong, weak in _SUPPRESSES.items():
        if strong in hits:
            for w in weak:
                hits.pop(w, None)
    if set(hits) - _NOT_SPECIFIC:
        for consequence in _CONSEQUENCES:
            hits.pop(consequence, None)
    findings = []
    for cid, ns in hits.items():
        c = CAUSES[cid]
        hint = c.hint
        if cid == "publickey-refused" and st.v6:
            hint = _HINT_IPV6 + hint
        if cid == "algorithm-refused" and st.algo_host:
            hint = _HINT_HOSTKEY_ALGO
        lines = tuple(sorted(set(ns)))[:MAX_EVIDENCE]
        findings.append(Finding(cid, c.title, hint, lines, tuple(st.texts.get(n, "") for n in lines[:5])))
    return sorted(findings, key=lambda f: (f.lines[0], f.cause))


def classify(text: str) -> list[Finding]:
    """The causes in one log given whole; ``Classifier`` takes it in pieces."""
    c = Classifier()
    c.feed(text)
    return c.findings()


def classify_stream(pieces: Iterable[str]) -> tuple[list[Finding], int]:
    """The causes, and the number of lines, of a log read in pieces."""
    c = Classifier()
    for piece in pieces:
        c.feed(piece)
    n = c.lines
    return c.findings(), n


def to_json(findings: list[Finding]) -> dict[str, Any]:
    return {"version": JSON_VERSION, "causes": [f.to_json() for f in findings]}
