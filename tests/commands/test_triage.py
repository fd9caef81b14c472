"""``sshsetup triage``: real ``doctor --report`` bundles from the loopback test bed in several broken
states, mixed with pasted logs and files that are neither; grouping, counts, the unexplained
group, refusals and the reply text."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sshsetup import render
from sshsetup.commands import doctor
from sshsetup.commands.triage import TriageOptions, run
from sshsetup.errors import BadInput
from sshsetup.paths import Paths
from tests.rendered import rendered
from tests.support.doctor.test_staged_failures import Setup, as_user, init_as
from tests.support.test_sshlog import DATA
from tests.testbed.sshd import Sshd, free_port
from tests.testbed.tarpit import Tarpit
from tests.testbed.users import TestUser


def _report(user: TestUser, sites_file: Path, name: str) -> Path:
    out_file = user.home / name

    def child() -> Any:
        printed, shown = io.StringIO(), io.StringIO()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = printed, shown
        try:
            options = doctor.DoctorOptions(ids=(), sites=("tb",), sites_file=sites_file, list_only=False, json_out=False,
                                           probe_timeout=2, remote=False, report_file=out_file, from_report=None,
                                           verbose=False, yes=True)
            return render.show(doctor.run(Paths.from_env(), options, confirm=lambda q: True))
        finally:
            sys.stdout, sys.stderr = old

    as_user(user, child)
    assert out_file.is_file(), name
    return out_file


def _other_host_key(tmp: Path, port: int) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "other")], check=True)
    pub = " ".join((tmp / "other.pub").read_text().split()[:2])
    return f"[127.0.0.1]:{port} {pub}\n[::1]:{port} {pub}\n"


def _triage(*sources: Path, json_out: bool = False, reply: bool = False) -> str:
    printed = rendered(run(None, TriageOptions(tuple(map(str, sources)), json_out, reply)), as_json=json_out)
    assert (printed.rc, printed.err) == (0, "")
    return printed.out


@pytest.mark.sshd
def test_triage_of_real_reports_and_pasted_logs(test_user: TestUser, sshd: Sshd, tmp_path: Path) -> None:
    box = tmp_path / "tickets"
    box.mkdir()
    s = Setup(test_user, sshd)
    key = s.key(authorize_from=None)  # the key is not (or no longer) in authorized_keys
    s.init(key, ["127.0.0.0/8", "::1/128"])
    reports = [_report(test_user, s.sites, "key-removed-1.json"), _report(test_user, s.sites, "key-removed-2.json")]
    sshd.authorize(test_user, key.public_line, from_="10.0.0.0/8")  # from= excludes 127.0.0.1
    s.init(key, ["10.0.0.0/8"])
    reports.append(_report(test_user, s.sites, "from-mismatch.json"))
    sshd.authorize(test_user, key.public_line, from_="127.0.0.0/8,::1")
    test_user.write(".ssh/known_hosts", _other_host_key(tmp_path, sshd.port), mode=0o644)
    reports.append(_report(test_user, s.sites, "hostkey-changed.json"))
    closed = Setup(test_user, None, port=free_port())
    init_as(test_user, closed.sites, key.private)
    reports.append(_report(test_user, closed.sites, "refused-port.json"))
    with Tarpit() as pit:
        silent = Setup(test_user, None, port=pit.port)
        init_as(test_user, silent.sites, key.private)
        reports.append(_report(test_user, silent.sites, "tarpit.json"))
    for r in reports:
        shutil.copy(r, box / r.name)
    for name in ("gh-vscode-wget-failed", "gh-vscode-neither-curl-wget", "gh-ppk-invalid-format"):
        shutil.copy(DATA / f"{name}.log", box / f"{name}.log")
    (box / "odd.txt").write_text("the login node says hello and nothing else\n")
    (box / "screenshot.png").write_bytes(bytes(range(256)) * 40)
    (box / "broken.json").write_text('{"sshsetup_report": 1, "checks": {"not": "a list"}}')

    doc = json.loads(_triage(box, json_out=True, reply=True))
    assert (doc["sshsetup"], doc["version"]) == ("triage", 1)
    by_file = {Path(t["source"]).name: t for t in doc["tickets"]}
    causes = {name: t["causes"] for name, t in by_file.items()}
    assert causes == {
        "broken.json": [],
        "from-mismatch.json": ["publickey-refused"],
        "gh-ppk-invalid-format.log": ["putty-key"],
        "gh-vscode-neither-curl-wget.log": ["vscode-server-download"],
        "gh-vscode-wget-failed.log": ["vscode-server-download"],
        "hostkey-changed.json": ["hostkey-changed"],
        "key-removed-1.json": ["publickey-refused"],
        "key-removed-2.json": ["publickey-refused"],
        "odd.txt": [],
        "refused-port.json": causes["refused-port.json"],
        "screenshot.png": [],
        "tarpit.json": causes["tarpit.json"],
    }
    assert causes["refused-port.json"] in ([], ["connection-refused"])  # the doctor may skip the probe after net.tcp failed
    assert causes["tarpit.json"] in ([], ["banner-timeout"])
    fails = {name: {c["id"] for c in t["checks"] if c["status"] == "fail"} for name, t in by_file.items()}
    assert "auth.from-range" in fails["from-mismatch.json"] and "auth.from-range" not in fails["key-removed-1.json"]
    assert "net.tcp" in fails["refused-port.json"] and "net.banner" in fails["tarpit.json"]
    groups = {g["label"]: g for g in doc["groups"]}
    removed = by_file["key-removed-1.json"]["group"]
    assert removed == by_file["key-removed-2.json"]["group"] and groups[removed]["count"] == 2
    assert removed == "publickey-refused [auth.probe] @ tb" and groups[removed]["explained"] is True
    assert by_file["from-mismatch.json"]["group"] == "publickey-refused [auth.from-range, auth.probe] @ tb"
    assert groups["vscode-server-download"]["count"] == 2
    assert groups["no rule explains this"]["files"] == [str(box / "odd.txt")]
    assert groups["not a log or report (refused)"]["files"] == [str(box / "broken.json"), str(box / "screenshot.png")]
    assert by_file["screenshot.png"]["problem"] == "not a text log (binary data)"
    assert by_file["broken.json"]["problem"] == "its checks are not a list"
    assert all(g["sshsetup"] in ([], [doctor_version()]) for g in doc["groups"])
    reply = by_file["key-removed-1.json"]["reply"]
    assert reply.startswith("<!-- draft reply for " + str(box / "key-removed-1.json") + " -->\n\n"
                            "**Cause:** The server refused the key (Permission denied (publickey)).\n")
    assert "    line " in reply and "Permission denied (publickey)." in reply
    assert reply.endswith("If this does not help, please reply with the report of `sshsetup doctor --report report.json` "
                          "(it is redacted and shown to you before it is written) and the output of `ssh -vvv ALIAS true 2>&1`, "
                          "run once in a terminal.\n")

    text = _triage(box, reply=True)
    assert text.startswith("cause ")
    assert f"refused: {box / 'screenshot.png'}: not a text log (binary data)\n" in text
    assert text.count("<!-- draft reply for ") == 12


def doctor_version() -> str:
    from sshsetup import __version__

    return __version__


def test_options_and_bad_paths(tmp_path: Path) -> None:
    o = TriageOptions(("a",), False, True)
    with pytest.raises(AttributeError):
        o.reply = False  # type: ignore[misc]
    with pytest.raises(BadInput) as e:
        _triage(tmp_path / "nope")
    assert (e.value.message, e.value.hint) == (f"{tmp_path / 'nope'} does not exist",
                                               "give report files (doctor --report), pasted logs, or folders of them")
    with pytest.raises(BadInput) as e:
        run(None, TriageOptions((), False, False))
    assert e.value.message == "give the reports and logs to triage"


def test_logs_only_and_hidden_files_skipped(tmp_path: Path) -> None:
    shutil.copy(DATA / "gh-ppk-invalid-format.log", tmp_path / "a.log")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01" * 100)
    text = _triage(tmp_path)
    assert text.splitlines()[1].startswith("putty-key ") and text.splitlines()[1].endswith(str(tmp_path / "a.log"))
    assert ".DS_Store" not in text


def test_reply_file_writes_the_answer_for_one_ticket(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16 item 7: --reply FILE writes one ticket's draft answer to a new file (mode 0600), through the writer."""
    from tests.helpers import run_cli

    log = tmp_path / "ticket.log"
    shutil.copy(DATA / "gh-ppk-invalid-format.log", log)
    out = tmp_path / "reply.md"
    r = run_cli(capsys, "triage", str(log), "--reply", str(out))
    assert r.rc == 0, r.err
    assert r.out.endswith(f"\nThe draft reply for {log} is in {out}.\n")
    text = out.read_text()
    assert text.startswith(f"<!-- draft reply for {log} -->\n\n**Cause:** ") and (out.stat().st_mode & 0o777) == 0o600
    again = run_cli(capsys, "triage", str(log), "--reply", str(out))
    assert (again.rc, again.err) == (1, f"error: {out} exists; a draft reply goes to a new file only\n"
                                        "hint: give another file name, or move that file away\n")
    assert out.read_text() == text
    many = run_cli(capsys, "triage", str(log), str(DATA / "gh-vscode-wget-failed.log"), "--reply", str(tmp_path / "r2.md"))
    assert (many.rc, many.err) == (2, "error: --reply FILE writes the answer for one ticket; 2 were given\n"
                                      "hint: give one report or log: sshsetup triage TICKET --reply FILE "
                                      "(without --reply: the table of all)\n")
    assert not (tmp_path / "r2.md").exists()
