"""Redaction for the support report (``sshsetup doctor --report``).

What is masked, in this order:

* private keys: any ``-----BEGIN ... PRIVATE KEY-----`` block (to its END line, or to the
  end of the text when cut off), PuTTY ``Private-Lines``, and lines holding the base64 of
  ``openssh-key-v1``. ``check_clean`` refuses a text in which one is still visible;
* commands: ``ProxyCommand``, ``LocalCommand`` and ``KnownHostsCommand`` (config lines,
  ``ssh -G`` lines, ``-o NAME=...``, ssh's ``Executing proxy command:`` and ``Executing
  SHELL -c "..."``) are reduced to their program name (``exec``, ``env`` and ``NAME=value``
  before it are skipped): ``ProxyCommand nc <arguments removed>``;
* secrets: exact strings given by the caller, also JSON-escaped, URL-encoded or base64; URL credentials (``scheme://user:pass@`` ->
  ``scheme://<secret>@``); every ``SetEnv``/``setenv`` value and ssh's ``setting env NAME =
  "value"`` / ``Sending env NAME = value``; any ``NAME=value`` whose NAME contains SECRET,
  TOKEN, PASS, KEY or AUTH (any case; ``yes``/``no``/``ask``/``accept-new`` and similar option
  words are kept: ``StrictHostKeyChecking=accept-new``); ``Bearer``/``Basic``/``token``
  values; well-known token shapes (``ghp_…``, ``github_pat_…``, ``glpat-…``, ``xox?-…``,
  ``AKIA…``, JWTs); the value after ``passphrase:``, ``password=`` and similar;
* key comments (often ``user@host``): after a public key blob, in ``ssh-add -l`` /
  ``ssh-keygen -l`` lines, and the exact comments the caller knows;
* the home directories (``~``), other ``/home/NAME`` style paths, the local user names
  (``<user>``) and the local host name (``<host>``);
* public addresses: IPv4 cut to /16, IPv6 to /48 (``93.199.55.163`` → ``93.199.0.0/16``);
  loopback, private, link-local and documentation addresses are kept (they say nothing
  about the user and help the diagnosis). A public IPv4 address hidden in another form is
  cut too: zero-padded (``093.199.055.163``, also read as octal), IPv4-mapped and
  IPv4-compatible IPv6 (``::ffff:93.199.55.163``, ``::ffff:5dc7:37a3``), 6to4 (``2002:…``),
  Teredo (``2001:0:…``, the client address) and NAT64 (``64:ff9b::…``) become
  ``<6to4 93.199.0.0/16>`` and so on.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from sshsetup.errors import Refused
from sshsetup.judoor.cidr import classify

PRIVATE_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL)
_PRIVATE_MARK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|b3BlbnNzaC1rZXktdjE|Private-Lines:\s*\d")
_OPENSSH_V1 = re.compile(r"^.*b3BlbnNzaC1rZXktdjE.*$", re.MULTILINE)  # base64("openssh-key-v1")
_PUTTY_PRIVATE = re.compile(r"Private-Lines:\s*(\d+)\s*\n((?:[A-Za-z0-9+/=]+\s*\n?)*)(Private-MAC:.*)?")
_COMMAND_KEYWORDS = r"(?:proxycommand|localcommand|knownhostscommand)"
_COMMAND_LINE = re.compile(rf"(?im)\b({_COMMAND_KEYWORDS})(\s*=\s*|[ \t]+)(\S[^\r\n]*)")
_EXECUTING = re.compile(r"(?m)(Executing proxy (?:dialer )?command: )([^\r\n]*)")
_EXECUTING_SHELL = re.compile(r"(?m)(Executing \S+ -c )(\"[^\r\n]*\"|[^\r\n]*)")
_URL_CREDENTIALS = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://)[^\s@\"'<>]+@")  # a raw / in a password too
_SETENV_LINE = re.compile(r"(?im)^([ \t]*setenv(?:[ \t]*=[ \t]*|[ \t]+))([^\r\n]*)")
_ENV_ASSIGNMENT = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"?|'[^']*'?|\S*)")
_SSH_SENDS_ENV = re.compile(r"(?im)((?:setting|sending) env \S+ = )([^\r\n]*)")
_OPTION_WORDS = r"(?:yes|no|ask|confirm|accept-new|off|on|true|false|none|auto|autoask)"
_ASSIGNMENT = re.compile(r"(?<![\w-])(-*[A-Za-z_][\w-]*)=(\"[^\"]*\"?|'[^']*'?|[^\s\"',;&|]+)")  # starts at a word's start: linear
_SECRET_WORD = re.compile(r"(?i)secret|token|pass|key|auth")
_OPTION_WORD = re.compile(rf"(?i){_OPTION_WORDS}")
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)([\w.~+/=-]{6,})")
_BASIC = re.compile(r"\b(Basic|basic|BASIC)(\s+)([A-Za-z0-9+/]{6,}={0,2})(?![\w+/=])")
_TOKEN_WORD = re.compile(r"(?i)\b(token)([ \t]+)(?=[\w.~+/=-]*\d)([\w.~+/=-]{8,})")
_TOKEN_SHAPES = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|xox[abposr]-[\w-]{10,}"
                           r"|AKIA[0-9A-Z]{16}|eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]+)")
_SECRET_KV = re.compile(r"(?i)\b(passphrase|password|passwd|pass|pin|otp|totp|secret|token)(\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\r\n]+)")  # to the end of the line
_KEY_TYPES = r"(?:ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp\d+|sk-[a-z0-9-]+@openssh\.com)(?:-cert-v01@openssh\.com)?"
_PUBKEY_COMMENT = re.compile(rf"({_KEY_TYPES}[ \t]+AAAA[0-9A-Za-z+/]+=*)[ \t]+[^\r\n\"]+")
_FP_COMMENT = re.compile(r"(SHA256:[0-9A-Za-z+/]{43}|MD5(?::[0-9a-f]{2}){16})[ \t]+([^\r\n]+?)[ \t]+(\((?:ED25519|RSA|DSA|ECDSA|ED25519-SK|ECDSA-SK)\))")
_OTHER_HOMES = re.compile(r"(/home/|/Users/|/u/|[A-Za-z]:\\Users\\|[A-Za-z]:/Users/)([^/\\\s\"':]+)")
_QUAD = r"0*\d{1,3}(?:\.0*\d{1,3}){3}"  # zero padding allowed: 093.199.055.163, 0177.0.0.1
_IPV4 = re.compile(rf"(?<![\w.])({_QUAD})(/\d{{1,2}})?(?![\w]|\.\d)")
_IPV6 = re.compile(rf"(?<![\w:.])([0-9A-Fa-f]{{0,4}}(?::[0-9A-Fa-f]{{0,4}}){{1,7}}(?::{_QUAD})?)(/\d{{1,3}})?(?![\w:]|\.\d)")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
PREFIX = {4: 16, 6: 48}
MASK_USER, MASK_HOST, MASK_SECRET, MASK_COMMENT = "<user>", "<host>", "<secret>", "<key comment>"
MASK_PRIVATE = "[private key removed]"
MASK_ARGUMENTS = "<arguments removed>"
_SKIPPED_WORDS = ("exec", "env", "command", "nohup")


def _masked(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, given: str | None) -> str:
    plen = PREFIX[addr.version]
    if given is not None and given[1:].isdigit() and int(given[1:]) <= plen:
        plen = int(given[1:])
    return str(ipaddress.ip_network(f"{addr}/{plen}", strict=False))


def _public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return classify(addr).is_public


def _quad(text: str) -> tuple[ipaddress.IPv4Address, bool] | None:
    """A dotted quad as decimal, and whether it is zero-padded (then also public when read as octal)."""
    parts = text.split(".")
    if len(parts) != 4 or any(int(p) > 255 for p in parts):
        return None
    addr = ipaddress.IPv4Address(".".join(str(int(p)) for p in parts))
    padded = any(len(p) > 1 and p.startswith("0") for p in parts)
    if padded and all(set(p) <= set("01234567") for p in parts):
        octal = ipaddress.IPv4Address(".".join(str(int(p, 8)) for p in parts))
        return (octal if _public(octal) and not _public(addr) else addr), True
    return addr, padded


def _ipv4(m: re.Match[str]) -> str:
    found = _quad(m.group(1))
    if found is None:
        return m.group(0)
    addr, padded = found
    if _public(addr):
        return _masked(addr, m.group(2))
    return m.group(0)


def _embedded(addr: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address carries (the Teredo client's, not its server's)."""
    if addr.ipv4_mapped is not None:
        return "IPv4-mapped", addr.ipv4_mapped
    if addr.sixtofour is not None:
        return "6to4", addr.sixtofour
    if addr.teredo is not None:
        return "Teredo", addr.teredo[1]
    if addr in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if int(addr) >> 32 == 0 and int(addr) > 0xFFFF:  # ::a.b.c.d, deprecated IPv4-compatible
        return "IPv4-compatible", ipaddress.IPv4Address(int(addr))
    return None


def _ipv6(m: re.Match[str]) -> str:
    text = m.group(1)
    head, sep, tail = text.rpartition(":")
    if "." in tail:  # an embedded dotted quad, perhaps zero-padded
        quad = _quad(tail)
        if quad is None:
            return m.group(0)
        text = f"{head}{sep}{quad[0]}"
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError:
        return m.group(0)
    inner = _embedded(addr)
    if inner is not None and _public(inner[1]):
        return f"<{inner[0]} {_masked(inner[1], None)}>"
    if _public(addr):
        return _masked(addr, m.group(2))
    return m.group(0)


def _program(command: str) -> str:
    """``ProxyCommand exec env A=b nc %h %p`` -> ``nc <arguments removed>``."""
    words = command.strip().strip('"').split()
    i = 0
    while i < len(words) and (words[i] in _SKIPPED_WORDS or re.fullmatch(r"[A-Za-z_]\w*=.*", words[i])
                              or (words[i].startswith("-") and i > 0 and words[i - 1] == "env")):
        i += 1
    if i >= len(words):
        return MASK_ARGUMENTS
    program = words[i].strip("'\"")
    return program if len(words) == i + 1 and i == 0 else f"{program} {MASK_ARGUMENTS}"


def _secret_assignment(m: re.Match[str]) -> str:
    """``NAME=value`` with SECRET, TOKEN, PASS, KEY or AUTH in the name: the value masked (ssh's option words kept)."""
    if _SECRET_WORD.search(m.group(1)) is None or _OPTION_WORD.fullmatch(m.group(2)):
        return m.group(0)
    return f"{m.group(1)}={MASK_SECRET}"


def _setenv_values(m: re.Match[str]) -> str:
    return m.group(1) + _ENV_ASSIGNMENT.sub(lambda a: f"{a.group(1)}={MASK_SECRET}", m.group(2))


def _commands(s: str) -> str:
    s = _COMMAND_LINE.sub(lambda m: m.group(1) + m.group(2) + _program(m.group(3)), s)
    s = _EXECUTING.sub(lambda m: m.group(1) + _program(m.group(2)), s)
    return _EXECUTING_SHELL.sub(lambda m: m.group(1) + '"' + _program(m.group(2)) + '"', s)


def _secrets(s: str) -> str:
    s = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{MASK_SECRET}@", s)
    s = _SETENV_LINE.sub(_setenv_values, s)
    s = _SSH_SENDS_ENV.sub(lambda m: m.group(1) + MASK_SECRET, s)
    s = _ASSIGNMENT.sub(_secret_assignment, s)
    s = _BEARER.sub(lambda m: m.group(1) + m.group(2) + MASK_SECRET, s)
    s = _BASIC.sub(lambda m: m.group(0) if len(m.group(3)) % 4 or m.group(3).isalpha() and m.group(3).islower()
                   else m.group(1) + m.group(2) + MASK_SECRET, s)
    s = _TOKEN_WORD.sub(lambda m: m.group(1) + m.group(2) + MASK_SECRET, s)
    s = _TOKEN_SHAPES.sub(MASK_SECRET, s)
    return _SECRET_KV.sub(lambda m: m.group(1) + m.group(2) + MASK_SECRET, s)


def _boundary(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(word)}(?![\w-])")


@dataclass(frozen=True)
class Redactor:
    homes: tuple[str, ...] = ()  # absolute home paths, replaced by "~"
    users: tuple[str, ...] = ()  # local user names
    hostnames: tuple[str, ...] = ()  # this machine's names
    comments: tuple[str, ...] = ()  # key comments known to the caller
    secrets: tuple[str, ...] = ()  # exact strings that must never appear

    @classmethod
    def create(cls, homes: Iterable[str], users: Iterable[str], hostnames: Iterable[str] = (),
               comments: Iterable[str] = (), secrets: Iterable[str] = ()) -> Redactor:
        def clean(xs: Iterable[str], minimum: int) -> tuple[str, ...]:
            return tuple(sorted({x for x in xs if x and len(x) >= minimum}, key=len, reverse=True))

        homes_ = clean((h.rstrip("/\\") for h in homes), 2)
        return cls(homes_, clean(users, 2), clean(hostnames, 2), clean(comments, 3), clean(secrets, 1))

    def text(self, s: str) -> str:
        s = PRIVATE_BLOCK.sub(MASK_PRIVATE, s)
        s = _OPENSSH_V1.sub(MASK_PRIVATE, s)
        s = _PUTTY_PRIVATE.sub("Private-Lines: " + MASK_PRIVATE + "\n", s)
        for secret in self.secrets:
            for form in encoded_forms(secret):
                s = s.replace(form, MASK_SECRET)
        s = _secrets(_commands(s))
        s = _PUBKEY_COMMENT.sub(lambda m: f"{m.group(1)} {MASK_COMMENT}", s)
        s = _FP_COMMENT.sub(lambda m: f"{m.group(1)} {MASK_COMMENT} {m.group(3)}", s)
        for comment in self.comments:
            s = s.replace(comment, MASK_COMMENT)
        for home in self.homes:
            s = re.sub(re.escape(home) + r"(?![\w.-])", "~", s)
        s = _OTHER_HOMES.sub(lambda m: m.group(1) + MASK_USER, s)
        for name in self.hostnames:
            s = _boundary(name).sub(MASK_HOST, s)
        for user in self.users:
            s = _boundary(user).sub(MASK_USER, s)
        s = _IPV6.sub(_ipv6, s)  # first: it may hold a dotted quad
        return _IPV4.sub(_ipv4, s)

    def value(self, v: object) -> object:
        """Redact every string inside a JSON-like value (dict keys too)."""
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return {self.text(str(k)): self.value(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.value(x) for x in v]
        return v


def encoded_forms(secret: str) -> tuple[str, ...]:
    """``secret`` as it may appear: plain, JSON-escaped, URL-encoded (``%20`` and ``+``), base64 (longest first)."""
    forms = {secret, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret), base64.b64encode(secret.encode()).decode().rstrip("=")}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def check_clean(text: str, secrets: Iterable[str] = ()) -> None:
    """Refuse a text that still shows a private key or one of the ``secrets`` (in any of its encoded forms)."""
    m = _PRIVATE_MARK.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise Refused(f"the report still contains what looks like a private key (line {line}); nothing was written",
                      hint="please report this; never send a private key to anyone, including support")
    for s in secrets:
        if s and any(form in text for form in encoded_forms(s)):
            raise Refused("the report still contains a secret; nothing was written", hint="please report this")
