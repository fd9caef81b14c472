"""The second-factor outcomes from ``ssh -v`` logs. The lines are OpenSSH 9.2's, as logged by
``sshsetup login`` against the TOTP testbed (tests/testbed/totp.py); the end-to-end cases are
in tests/commands/test_login.py."""

from __future__ import annotations

import pytest

from sshsetup.ssh.secondfactor import classify

HEAD = """debug1: Offering public key: /home/u/.ssh/id_ed25519_jsc ED25519 SHA256:9Ok4 explicit
debug1: Server accepts key: /home/u/.ssh/id_ed25519_jsc ED25519 SHA256:9Ok4 explicit
Authenticated using "publickey" with partial success.
debug1: Authentications that can continue: keyboard-interactive
debug1: Next authentication method: keyboard-interactive
"""
REFUSED = "debug1: Authentications that can continue: keyboard-interactive\n"
DENIED = "u@127.0.0.1: Permission denied (keyboard-interactive).\n"
ACCEPTED = 'Authenticated to 127.0.0.1 ([127.0.0.1]:55077) using "keyboard-interactive".\n'
T = 1_800_000_000.0  # a step boundary: 1_800_000_000 / 30 is whole


def test_accepted_after_one_refused_code() -> None:
    got = classify(HEAD + REFUSED + ACCEPTED, timed_out=False, now=T, last_accepted=None)
    assert (got.cause, got.ok, got.asked, got.refused_codes) == ("code-accepted", True, True, 1)


def test_no_second_factor() -> None:
    log = 'debug1: Server accepts key: k\nAuthenticated to h ([127.0.0.1]:22) using "publickey".\n'
    got = classify(log, timed_out=False, now=T, last_accepted=None)
    assert (got.cause, got.ok, got.asked) == ("no-second-factor", True, False)


def test_wrong_code_three_times() -> None:
    got = classify(HEAD + REFUSED * 2 + DENIED, timed_out=False, now=T, last_accepted=None)
    assert (got.cause, got.refused_codes, got.ok) == ("code-wrong", 3, False)
    assert got.title == "the server refused the code (wrong code)"


@pytest.mark.parametrize(("last", "cause"), [(T - 1, "code-reused"), (T - 29, "code-reused"), (T - 31, "code-wrong"),
                                             (T - 3600, "code-wrong")])
def test_refused_soon_after_an_accepted_code_is_the_same_code_again(last: float, cause: str) -> None:
    got = classify(HEAD + REFUSED * 2 + DENIED, timed_out=False, now=T + 5, last_accepted=last)
    assert got.cause == cause


@pytest.mark.parametrize(("said", "cause"), [("The OTP value was already used.", "code-reused"),
                                             ("wrong otp value", "code-wrong"), ("Invalid verification code", "code-wrong")])
def test_the_servers_own_words_decide(said: str, cause: str) -> None:
    got = classify(HEAD + said + "\n" + REFUSED + DENIED, timed_out=False, now=T, last_accepted=T - 3600 if cause == "code-reused" else T)
    assert got.cause == cause


def test_unanswered_prompt() -> None:
    got = classify(HEAD, timed_out=True, now=T, last_accepted=None)
    assert (got.cause, got.title) == ("prompt-unanswered", "the code prompt was not answered in time")


def test_key_refused_before_any_code_is_sshlogs_cause() -> None:
    log = ("debug1: Offering public key: k ED25519 SHA256:x explicit\n"
           "debug1: Authentications that can continue: publickey\nu@h: Permission denied (publickey).\n")
    got = classify(log, timed_out=False, now=T, last_accepted=None)
    assert (got.cause, got.asked) == ("publickey-refused", False)


def test_firewall_like_silence() -> None:
    got = classify("debug1: Connecting to h [10.0.0.1] port 22.\nConnection timed out during banner exchange\n",
                   timed_out=False, now=T, last_accepted=None)
    assert got.cause == "banner-timeout"
