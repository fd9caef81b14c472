"""doctor's ``auth.probe`` and the host key (issue 18 item 5), against the real loopback sshd as the test user:
a key it learns is shown once with its fingerprint and how to compare it (as ``wait`` shows it), a changed key
is never accepted and is a fail whose hint is the exact fix. Text and ``--json``, exact."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sshsetup.commands.doctor import DoctorOptions
from tests.support.doctor.test_staged_failures import Setup, doctor_as
from tests.testbed.sshd import Sshd, make_host_key
from tests.testbed.users import TestUser

NET = ("net.dns", "net.tcp", "net.banner")


def fingerprint(public_line: str) -> tuple[str, str]:
    """(key type as ssh names it, SHA256 fingerprint) of ``ssh-ed25519 AAAA...``."""
    out = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=public_line + "\n", capture_output=True, text=True,
                         check=True).stdout.split()
    return out[-1].strip("()"), out[1]


def _ready(user: TestUser, sshd: Sshd, known_hosts: str) -> Setup:
    s = Setup(user, sshd)
    key = s.key()
    s.init(key, ["127.0.0.0/8", "::1/128"])
    user.write(".ssh/known_hosts", known_hosts, mode=0o644)
    return s


def _options(s: Setup, **kw: object) -> DoctorOptions:
    return DoctorOptions(ids=("auth.probe",), sites=("tb",), sites_file=s.sites, probe_timeout=2, **kw)  # type: ignore[arg-type]


@pytest.mark.sshd
def test_a_new_host_key_is_shown_once_with_how_to_compare_it(test_user: TestUser, sshd: Sshd) -> None:
    s = _ready(test_user, sshd, "")  # the host was never seen
    kind, fp = fingerprint(sshd.host_key)
    host = f"[127.0.0.1]:{sshd.port}"
    notes = [f"new host key of tb: {kind} {fp} (now in known_hosts as {host})",
             f"compare it with the fingerprint the site's support gives you; if it differs, do not log in: "
             f"remove it (ssh-keygen -R '{host}') and tell the support."]
    res = doctor_as(test_user, _options(s))
    assert (res["rc"], res["err"]) == (0, "".join(f"{n}\n" for n in notes))
    assert res["out"].splitlines()[3:] == ["[ok] auth.probe (tb): login accepted using \"publickey\"",
                                           "0 failed, 0 warnings, 4 ok, 0 skipped"]
    learned_line = (test_user.ssh_dir / "known_hosts").read_text()  # HashKnownHosts: the name is hashed
    assert learned_line.split()[1:] == sshd.host_key.split() and learned_line.count("\n") == 1

    again = doctor_as(test_user, _options(s, json_out=True))  # known now: nothing more to show
    probe = json.loads(again["out"])["checks"][-1]
    assert (again["rc"], again["err"], probe["id"], probe["status"], probe["details"]) == (0, "", "auth.probe", "ok", [])

    test_user.write(".ssh/known_hosts", "", mode=0o644)
    learned = doctor_as(test_user, _options(s, json_out=True))
    probe = json.loads(learned["out"])["checks"][-1]
    assert learned["err"] == "".join(f"{n}\n" for n in notes)
    assert (probe["status"], probe["summary"], probe["hint"], probe["details"]) == (
        "ok", 'login accepted using "publickey"', None, notes)

    test_user.write(".ssh/known_hosts", "", mode=0o644)
    verbose = doctor_as(test_user, _options(s, verbose=True))  # -v: under the probe's line, not twice
    assert verbose["err"] == ""
    assert verbose["out"].splitlines()[-4:] == ["[ok] auth.probe (tb): login accepted using \"publickey\"",
                                               *(f"    {n}" for n in notes), "0 failed, 0 warnings, 4 ok, 0 skipped"]


@pytest.mark.sshd
def test_a_changed_host_key_fails_with_the_exact_fix_and_is_never_accepted(test_user: TestUser, sshd: Sshd, tmp_path: Path) -> None:
    other = make_host_key(tmp_path / "other")
    wrong = f"[127.0.0.1]:{sshd.port} {other}\n[::1]:{sshd.port} {other}\n"
    s = _ready(test_user, sshd, wrong)
    docs = "https://docs.example.org/tb/access.html"  # the catalogue's docs_url: where the site publishes its fingerprints
    s.sites.write_text(s.sites.read_text() + f'docs_url = "{docs}"\n')
    kind, fp = fingerprint(sshd.host_key)
    host = f"[127.0.0.1]:{sshd.port}"
    summary = "the server's host key differs from the one in known_hosts (REMOTE HOST IDENTIFICATION HAS CHANGED)"
    hint = (f"compare {kind} {fp} (what {host} presents now) with the one the site publishes "
            f"(look in the system's documentation, {docs}, or ask its support); "
            f"only if it matches, remove the old entry: ssh-keygen -R '{host}' -f {test_user.ssh_dir}/known_hosts, "
            "then run sshsetup doctor again; if it differs, do not log in and tell the support")
    res = doctor_as(test_user, _options(s))
    assert (res["rc"], res["err"]) == (1, "")
    assert res["out"].splitlines()[3:] == [f"[XX] auth.probe (tb): {summary}", f"    hint: {hint}",
                                           "1 failed, 0 warnings, 3 ok, 0 skipped"]
    doc = doctor_as(test_user, _options(s, json_out=True))
    probe = json.loads(doc["out"])["checks"][-1]
    assert (doc["rc"], doc["err"], probe["status"], probe["summary"], probe["hint"]) == (1, "", "fail", summary, hint)
    assert f"Host key for {host} has changed and you have requested strict checking." in probe["details"]
    assert (test_user.ssh_dir / "known_hosts").read_text() == wrong  # nothing was replaced or added
