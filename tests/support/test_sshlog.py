"""Each recorded transcript (tests/data/sshlogs/README.md) is classified as its cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.support import sshlog

DATA = Path(__file__).parents[1] / "data" / "sshlogs"

EXPECTED = {
    # recorded from real runs
    "accepted": ["accepted"],
    "accepted-vvv": ["accepted"],
    "publickey-not-uploaded": ["publickey-refused"],
    "publickey-from-mismatch": ["publickey-refused"],
    "ipv6-not-in-range": ["publickey-refused"],
    "hostkey-changed": ["hostkey-changed"],
    "hostkey-unknown": ["hostkey-unknown"],
    "passphrase-no-agent": ["passphrase-needed"],
    "passphrase-no-agent-vvv": ["passphrase-needed"],
    "bad-permissions-config": ["bad-permissions"],
    "unprotected-key": ["unprotected-key"],
    "too-many-failures": ["too-many-failures"],
    "partial-success-2fa": ["partial-success-2fa"],
    "connection-refused": ["connection-refused"],
    "banner-timeout": ["banner-timeout"],
    "closed-before-auth": ["closed-before-auth"],
    "reset-before-auth": ["closed-before-auth"],
    "connect-timeout": ["connect-timeout"],
    "resolve-failed": ["resolve-failed"],
    # composed in the formats of VS Code's log and Windows' OpenSSH (README)
    "vscode-pipe-publickey": ["publickey-refused", "vscode-pipe"],
    "vscode-no-connection": ["vscode-no-connection"],
    "vscode-lock": ["accepted", "vscode-lock"],
    "vscode-quota": ["accepted", "disk-quota"],
    "vscode-shell-output": ["accepted", "shell-output"],
    "windows-corrupted-mac": ["corrupted-mac"],
    "windows-controlmaster": ["controlmaster-windows"],
}


def test_every_saved_transcript_has_an_expectation() -> None:
    assert sorted(p.stem for p in DATA.glob("*.log")) == sorted(EXPECTED)


def test_every_cause_has_a_transcript() -> None:
    covered = {c for causes in EXPECTED.values() for c in causes}
    assert covered == set(sshlog.CAUSES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_classified(name: str) -> None:
    findings = sshlog.classify((DATA / f"{name}.log").read_text())
    assert [f.cause for f in findings] == EXPECTED[name]


def test_evidence_lines_point_at_the_evidence() -> None:
    text = (DATA / "publickey-from-mismatch.log").read_text()
    [f] = sshlog.classify(text)
    assert [text.splitlines()[n - 1] for n in f.lines] == ["root@127.0.0.1: Permission denied (publickey)."]


def test_key_refusal_names_both_causes_and_the_doctor() -> None:
    """not uploaded and from= mismatch print byte-identical client output (testbed.md 1.6)."""
    strip = lambda name: [ln for ln in (DATA / name).read_text().splitlines() if "debug1: Offering" not in ln and "SHA256" not in ln]  # noqa: E731
    assert strip("publickey-not-uploaded.log")[-4:] == strip("publickey-from-mismatch.log")[-4:]
    [f] = sshlog.classify((DATA / "publickey-from-mismatch.log").read_text())
    assert "not uploaded" in f.hint and "from= ranges" in f.hint and "sshsetup doctor" in f.hint
    assert not f.hint.startswith("this connection used IPv6")
    [f6] = sshlog.classify((DATA / "ipv6-not-in-range.log").read_text())
    assert f6.hint.startswith("this connection used IPv6: a from= list with only IPv4 ranges refuses it")


def test_stop_retrying_hints() -> None:
    for name in ("closed-before-auth", "banner-timeout", "connect-timeout"):
        [f] = sshlog.classify((DATA / f"{name}.log").read_text())
        assert "stop retrying" in f.hint and "firewall" in f.hint


def test_vscode_prefixes_are_stripped() -> None:
    assert sshlog.clean_lines("[10:02:11.700] > > Permission denied (publickey).\r\n") == ["Permission denied (publickey)."]


def test_nothing_recognised() -> None:
    assert sshlog.classify("hello\nworld\n") == []


def test_json_envelope() -> None:
    findings = sshlog.classify((DATA / "windows-corrupted-mac.log").read_text())
    assert sshlog.to_json(findings) == {"version": 1, "causes": [{
        "cause": "corrupted-mac", "title": sshlog.CAUSES["corrupted-mac"].title,
        "hint": sshlog.CAUSES["corrupted-mac"].hint, "lines": [8],
    }]}
