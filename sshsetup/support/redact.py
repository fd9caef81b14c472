"""Redaction for the support report (``sshsetup doctor --report``).

What is masked, in this order:

* private keys: any ``-----BEGIN ... PRIVATE KEY-----`` block (to its END line, or to the
  end of the text when cut off), PuTTY ``Private-Lines``, and lines holding the base64 of
  ``openssh-key-v1``. ``check_clean`` refuses a text in which one is still visible;
* secrets: exact strings given by the caller, and the value after ``passphrase:``,
  ``password=`` and similar;
* key comments (often ``user@host``): after a public key blob, in ``ssh-add -l`` /
  ``ssh-keygen -l`` lines, and the exact comments the caller knows;
* the home directories (``~``), other ``/home/NAME`` style paths, the local user names
  (``<user>``) and the local host name (``<host>``);
* public addresses: IPv4 cut to /16, IPv6 to /48 (``93.199.55.163`` → ``93.199.0.0/16``);
  loopback, private, link-local and documentation addresses are kept (they say nothing
  about the user and help the diagnosis).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sshsetup.errors import Refused
from sshsetup.judoor.cidr import classify

PRIVATE_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL)
_PRIVATE_MARK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|b3BlbnNzaC1rZXktdjE|Private-Lines:\s*\d")
_OPENSSH_V1 = re.compile(r"^.*b3BlbnNzaC1rZXktdjE.*$", re.MULTILINE)  # base64("openssh-key-v1")
_PUTTY_PRIVATE = re.compile(r"Private-Lines:\s*(\d+)\s*\n((?:[A-Za-z0-9+/=]+\s*\n?)*)(Private-MAC:.*)?")
_SECRET_KV = re.compile(r"(?i)\b(passphrase|password|passwd|pass|pin|otp|totp|secret|token)(\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\r\n]+)")  # to the end of the line
_KEY_TYPES = r"(?:ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp\d+|sk-[a-z0-9-]+@openssh\.com)(?:-cert-v01@openssh\.com)?"
_PUBKEY_COMMENT = re.compile(rf"({_KEY_TYPES}[ \t]+AAAA[0-9A-Za-z+/]+=*)[ \t]+[^\r\n\"]+")
_FP_COMMENT = re.compile(r"(SHA256:[0-9A-Za-z+/]{43}|MD5(?::[0-9a-f]{2}){16})[ \t]+([^\r\n]+?)[ \t]+(\((?:ED25519|RSA|DSA|ECDSA|ED25519-SK|ECDSA-SK)\))")
_OTHER_HOMES = re.compile(r"(/home/|/Users/|/u/|[A-Za-z]:\\Users\\|[A-Za-z]:/Users/)([^/\\\s\"':]+)")
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,2})?(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(/\d{1,3})?(?![\w:])")
PREFIX = {4: 16, 6: 48}
MASK_USER, MASK_HOST, MASK_SECRET, MASK_COMMENT = "<user>", "<host>", "<secret>", "<key comment>"
MASK_PRIVATE = "[private key removed]"


def _network(address: str, given: str | None) -> str | None:
    """The replacement for a public address (None: keep it as it is)."""
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        return None
    if not classify(addr).is_public:
        return None
    plen = PREFIX[addr.version]
    if given is not None and int(given[1:]) <= plen:
        plen = int(given[1:])
    return str(ipaddress.ip_network(f"{addr}/{plen}", strict=False))


def _ip(m: re.Match[str]) -> str:
    new = _network(m.group(1), m.group(2))
    return m.group(0) if new is None else new


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
            s = s.replace(secret, MASK_SECRET)
        s = _SECRET_KV.sub(lambda m: m.group(1) + m.group(2) + MASK_SECRET, s)
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
        s = _IPV4.sub(_ip, s)
        return _IPV6.sub(_ip, s)

    def value(self, v: object) -> object:
        """Redact every string inside a JSON-like value (dict keys too)."""
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return {self.text(str(k)): self.value(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.value(x) for x in v]
        return v


def check_clean(text: str, secrets: Iterable[str] = ()) -> None:
    """Refuse a text that still shows a private key or one of the ``secrets``."""
    m = _PRIVATE_MARK.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise Refused(f"the report still contains what looks like a private key (line {line}); nothing was written",
                      hint="please report this; never send a private key to anyone, including support")
    for s in secrets:
        if s and s in text:
            raise Refused("the report still contains a secret; nothing was written", hint="please report this")
