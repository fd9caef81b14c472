"""Classify how a login with a second factor (keyboard-interactive, e.g. TOTP) ended.

Input: the client's own ``ssh -v`` log of one login attempt (``ssh -E FILE -v``), whether
sshsetup's deadline ended it, and when the last code was accepted for the site. The
server's words reach the client as keyboard-interactive instructions (ssh logs them as
plain lines); where a server says why it refused a code, that decides. Where it says
nothing (Debian's pam_oath says nothing), a code refused in the same or the next 30 s
step as the last accepted one is most likely that code again: a code works once.

Failures before any code was asked (key refused, firewall-like silence, ...) are
sshlog's causes; they are passed through with sshlog's ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sshsetup.support import sshlog

STEP = 30  # seconds: RFC 6238's default time step; no public JSC source gives another, so the default is assumed
_WAIT_CODE = "wait for the next code (up to 30 s), then run sshsetup login again"


Cause = sshlog.Cause  # one shape of a cause for explain and for login's own classification

CAUSES: dict[str, Cause] = {c.id: c for c in (
    Cause("code-accepted", "the key and the code were accepted", "nothing to fix"),
    Cause("no-second-factor", "the key was accepted; no second factor was asked", "nothing to fix"),
    Cause("code-wrong", "the server refused the code (wrong code)",
          "check that the authenticator app shows the code of this account and that the device's clock is right; "
          "then run sshsetup login again (each refused code counts towards a lock-out: do not retry in a loop)"),
    Cause("code-reused", "the server refused the code: it is the code already used for the last login (a code works once)",
          _WAIT_CODE),
    Cause("prompt-unanswered", "the code prompt was not answered in time",
          "run sshsetup login again in a terminal and type the code when 'Verification code' is asked"),
)}

PARTIAL = re.compile(r'Authenticated using "publickey" with partial success')
KBDINT = re.compile(r"Next authentication method: keyboard-interactive")
CONTINUE = re.compile(r"Authentications that can continue: \S*keyboard-interactive")
DONE_KBDINT = re.compile(r'^Authenticated to \S+ .*using "keyboard-interactive"')
DONE_OTHER = re.compile(r'^Authenticated to \S+ .*using "(?!keyboard-interactive)[^"]+"')
DENIED = re.compile(r"Permission denied \([^)]*keyboard-interactive")
SAYS_REUSED = re.compile(r"(?i)already (been )?used|replay|used before|re-?used")
SAYS_WRONG = re.compile(r"(?i)\b(wrong|invalid|incorrect|bad|failed)\b.{0,40}\b(code|otp|token|pin|verification)"
                        r"|\b(code|otp|token)\b.{0,40}\b(wrong|invalid|incorrect|not valid|failed)\b")
_NOISE = re.compile(r"^(debug\d|Authenticated |Authentications |Permission denied|Connection |Transferred|Warning: )")


@dataclass(frozen=True)
class Outcome:
    cause: str
    title: str
    hint: str
    asked: bool  # a second factor was asked
    refused_codes: int  # codes the server refused on the way

    @property
    def ok(self) -> bool:
        return self.cause in ("code-accepted", "no-second-factor")


def _outcome(cause: str, asked: bool, refused: int) -> Outcome:
    c = CAUSES[cause]
    return Outcome(c.id, c.title, c.hint, asked, refused)


def server_words(lines: list[str]) -> list[str]:
    """What the server said to the user (keyboard-interactive name/instruction), not ssh's own lines."""
    return [ln for ln in lines if ln and not _NOISE.match(ln)]


def classify(log: str, *, timed_out: bool, now: float, last_accepted: float | None) -> Outcome:
    """The outcome of one login attempt from its ``ssh -v`` log."""
    lines = sshlog.clean_lines(log)
    asked = any(PARTIAL.search(ln) for ln in lines) or any(KBDINT.search(ln) for ln in lines)
    start = next((n for n, ln in enumerate(lines) if KBDINT.search(ln)), None)
    after = lines[start + 1:] if start is not None else []
    refused = sum(1 for ln in after if CONTINUE.search(ln)) + (1 if any(DENIED.search(ln) for ln in after) else 0)
    if any(DONE_KBDINT.search(ln) for ln in lines):
        return _outcome("code-accepted", True, refused)
    if any(DONE_OTHER.search(ln) for ln in lines):
        return _outcome("no-second-factor", asked, 0)
    if asked and timed_out:
        return _outcome("prompt-unanswered", True, refused)
    if asked and refused:
        words = server_words(after)
        if any(SAYS_REUSED.search(w) for w in words):
            return _outcome("code-reused", True, refused)
        if any(SAYS_WRONG.search(w) for w in words):
            return _outcome("code-wrong", True, refused)
        if last_accepted is not None and 0 <= now // STEP - last_accepted // STEP <= 1:
            return _outcome("code-reused", True, refused)
        return _outcome("code-wrong", True, refused)
    if asked:
        return _outcome("prompt-unanswered", True, refused)
    return _before_code(lines, log, timed_out)


def _before_code(lines: list[str], log: str, timed_out: bool) -> Outcome:
    findings = sshlog.classify(log)
    ids = [f.cause for f in findings]
    for wanted in ("hostkey-changed", "hostkey-unknown", "too-many-failures", "passphrase-needed", "publickey-refused",
                   "banner-timeout", "connect-timeout", "closed-before-auth", "connection-refused", "resolve-failed"):
        if wanted in ids:
            f = findings[ids.index(wanted)]
            return Outcome(f.cause, f.title, f.hint, False, 0)
    if findings and findings[0].cause != "accepted":
        f = findings[0]
        return Outcome(f.cause, f.title, f.hint, False, 0)
    if timed_out:
        return Outcome("prompt-unanswered", "no answer within the time limit (a passphrase or host-key prompt?)",
                       "run sshsetup login again in a terminal and answer ssh's prompts", False, 0)
    last = next((ln for ln in reversed(lines) if ln and not ln.startswith("debug")), "no output")
    return Outcome("unknown", f"ssh failed: {last}", "run: sshsetup doctor", False, 0)
