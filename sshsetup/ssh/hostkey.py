"""What an ``ssh -v`` transcript says about the server's host key, and what to tell the user about it.

Both probes that connect with ``StrictHostKeyChecking=accept-new`` (``sshsetup wait`` and doctor's
``auth.probe``) use this one owner. A host key that ssh has just learned is shown once, with its
fingerprint and where to compare it (the site's documentation: the catalogue's ``docs_url``). A
changed host key is never accepted (ssh refuses it under ``accept-new``); the fix names the
fingerprint the server presents now and the exact ``ssh-keygen -R`` for the offending entry, to
run only after the fingerprint matched.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_ADDED = re.compile(r"Permanently added '([^']{1,300})' \((\w{1,40})\) to the list of known hosts")
_SERVER_KEY = re.compile(r"Server host key: (\S{1,60}) (SHA256:[A-Za-z0-9+/=]{1,100})")
_CHANGED = re.compile(r"Host key for (\S{1,300}) has changed and you have requested strict checking")
_SENT = re.compile(r"The fingerprint for the (\w{1,40}) key sent by the remote host is\s{1,4}(SHA256:[A-Za-z0-9+/=]{1,100})")
_REMOVE = re.compile(r"""ssh-keygen -f (["'])([^"'\n]{1,1000})\1 -R (["'])([^"'\n]{1,300})\3""")


def new_host_key(transcript: str) -> tuple[str, str, str] | None:
    """What ``accept-new`` just added: (host as known_hosts names it, key type, SHA256 fingerprint).

    A changed key is never added: ssh refuses it (see ``changed_host_key``)."""
    added, key = _ADDED.search(transcript), _SERVER_KEY.search(transcript)
    if added is None or key is None:
        return None
    return added.group(1), added.group(2), key.group(2)


def _where(compare: str | None) -> str:
    """Where the user finds the fingerprints to compare with (``compare``: the site's documentation page)."""
    if compare:
        return f"the one the site publishes (look in the system's documentation, {compare}, or ask its support)"
    return "the fingerprint the site's support gives you"


def new_key_notes(alias: str, found: tuple[str, str, str], compare: str | None) -> list[str]:
    """Shown once, when the host key is new: the fingerprint and how to compare it."""
    host, kind, fingerprint = found
    return [f"new host key of {alias}: {kind} {fingerprint} (now in known_hosts as {host})",
            f"compare it with {_where(compare)}; if it differs, do not log in: remove it (ssh-keygen -R '{host}') and tell the support."]


def host_key_lines(alias: str, found: tuple[str, str, str], compare: str | None) -> list[str]:
    """``new_key_notes`` as ``wait`` prints them, under its probe lines."""
    return [f"  {line}" for line in new_key_notes(alias, found, compare)]


@dataclass(frozen=True)
class ChangedKey:
    """A host key that differs from the one known_hosts holds (ssh refused to connect)."""

    host: str  # as known_hosts names it, e.g. [127.0.0.1]:2222
    kind: str  # ED25519, ECDSA, RSA
    fingerprint: str  # SHA256:... of the key the server presents now
    known_hosts: str | None  # the file with the offending entry, when ssh named it

    def remove_command(self) -> str:
        where = f" -f {shlex.quote(self.known_hosts)}" if self.known_hosts else ""
        return f"ssh-keygen -R {shlex.quote(self.host)}{where}"

    def fix(self, compare: str | None) -> str:
        """One next step: compare first; remove the old entry only when the fingerprint matches."""
        return (f"compare {self.kind} {self.fingerprint} (what {self.host} presents now) with {_where(compare)}; "
                f"only if it matches, remove the old entry: {self.remove_command()}, then run sshsetup doctor again; "
                "if it differs, do not log in and tell the support")


def changed_host_key(transcript: str) -> ChangedKey | None:
    """The changed host key ssh refused ("REMOTE HOST IDENTIFICATION HAS CHANGED"), or None."""
    changed, sent = _CHANGED.search(transcript), _SENT.search(transcript)
    if changed is None or sent is None:
        return None
    host = changed.group(1)
    remove = next((m for m in _REMOVE.finditer(transcript) if m.group(4) == host), None)
    return ChangedKey(host, sent.group(1), sent.group(2), remove.group(2) if remove else None)
