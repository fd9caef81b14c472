"""``doctor --report`` / ``--from-report``: a real run as the test user, planted secrets, offline re-analysis."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from sshsetup.commands.doctor import DoctorOptions, run
from sshsetup.errors import BadInput
from sshsetup.paths import Paths
from sshsetup.render import show
from sshsetup.support.doctor import from_report, report
from tests.rendered import rendered
from tests.support.doctor.test_staged_failures import Setup, doctor_as
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser

PASSPHRASE = "correct-horse-battery-staple"


def _report_as(user: TestUser, sites_file: Path, out_file: Path, *, yes: bool = True) -> Any:
    opts = DoctorOptions(sites=("tb",), sites_file=sites_file, probe_timeout=2, remote=True, report_file=out_file, yes=yes)
    res = doctor_as(user, opts)
    return {"rc": res["rc"], "shown": res["err"], "printed": res["out"]}


def _plant(user: TestUser, private_text: str) -> None:
    """Secrets inside the managed block (it is copied into the report) and beside it."""
    cfg = user.ssh_dir / "config"
    text = cfg.read_text()
    planted = ("# from 93.199.55.163 and 2a00:1450:4001:80b::200e (home network)\n"
               f"# passphrase: {PASSPHRASE}\n" + "".join(f"# {ln}\n" for ln in private_text.splitlines()))
    text = text.replace("# END sshsetup", planted + "# END sshsetup")
    user.write(".ssh/config", text)


@pytest.mark.sshd
def test_report_has_no_planted_secret(test_user: TestUser, sshd: Sshd) -> None:
    s = Setup(test_user, sshd)
    key = s.key(passphrase=None)
    s.init(key, ["127.0.0.0/8", "::1/128"])
    private_text = key.private.read_text()
    _plant(test_user, private_text)
    out_file = test_user.home / "report.json"
    res = _report_as(test_user, s.sites, out_file)
    text = out_file.read_text()
    assert res["shown"].startswith(text)  # what was shown is exactly what was written
    assert oct(out_file.stat().st_mode & 0o777) == "0o600"
    forbidden = ["PRIVATE KEY", *private_text.splitlines()[1:-1], PASSPHRASE, "93.199.55.163", "2a00:1450:4001:80b",
                 str(test_user.home), test_user.name, "alice@laptop", "alice"]
    assert [f for f in forbidden if f in text] == []
    doc = json.loads(text)
    assert "93.199.0.0/16" in doc["managed_block"] and "2a00:1450:4001::/48" in doc["managed_block"]
    assert "[private key removed]" in doc["managed_block"] and "passphrase: <secret>" in doc["managed_block"]
    assert "hostname 127.0.0.1" in doc["ssh_g"]["tb"] and "user <user>" in doc["ssh_g"]["tb"]
    assert "identityfile ~/.ssh/id_ed25519_jsc" in doc["ssh_g"]["tb"]
    assert "Authenticated to 127.0.0.1" in doc["transcripts"]["tb"]
    assert {c["id"] for c in doc["checks"]} >= {"auth.probe", "remote.glibc", "key.type"}
    assert res["rc"] == 0 and res["printed"].splitlines()[-1].startswith("0 failed")


@pytest.mark.sshd
def test_from_report_reanalyses_the_transcript(test_user: TestUser, sshd: Sshd, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    s = Setup(test_user, sshd)
    key = s.key(authorize_from=None)  # not uploaded
    s.init(key, ["127.0.0.0/8", "::1/128"])
    out_file = test_user.home / "report.json"
    res = _report_as(test_user, s.sites, out_file)
    assert res["rc"] == 1
    copy = tmp_path / "ticket.json"
    copy.write_bytes(out_file.read_bytes())
    assert show(run(Paths.from_env(), DoctorOptions(from_report=copy), confirm=None)) == 1
    text = capsys.readouterr().out
    assert "✗ auth.probe (tb): the server refused the key although your address 127.0.0.1 is inside" in text
    assert "transcript (tb), analysed again:\n  publickey-refused: the server refused the key" in text
    doc = json.loads(_json(copy))
    assert doc["transcripts"]["tb"]["causes"][0]["cause"] == "publickey-refused"


def _json(path: Path) -> str:
    return rendered(from_report.from_report(path), as_json=True).out


def test_declined_report_is_not_written(tmp_path: Path) -> None:
    shown = io.StringIO()
    path = tmp_path / "r.json"
    assert report.write_report('{"x": 1}\n', path, yes=False, confirm=lambda q: False, show=shown) is None
    assert not path.exists()
    assert shown.getvalue() == f'{{"x": 1}}\n--- end of the report; it has not been written yet ({path}) ---\n'


def test_from_report_refuses_other_files(tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text('{"version": 1, "checks": []}')
    with pytest.raises(BadInput, match="is not an sshsetup report"):
        from_report.from_report(f)
    with pytest.raises(BadInput, match="does not exist"):
        from_report.from_report(tmp_path / "missing.json")


def test_from_report_offline_from_a_hand_written_report(tmp_path: Path) -> None:
    transcript = (Path(__file__).parents[2] / "data" / "sshlogs" / "too-many-failures.log").read_text()
    f = tmp_path / "r.json"
    f.write_text(json.dumps({"sshsetup_report": 1, "created": "2026-11-29T14:30:00+00:00", "sshsetup": "0.1.0", "ssh": "OpenSSH_9.2p1",
                             "os": "Linux", "checks": [{"id": "local.ssh", "status": "ok", "summary": "OpenSSH_9.2p1", "hint": None,
                                                        "details": [], "subject": None}],
                             "transcripts": {"jureca": transcript}}))
    printed = rendered(from_report.from_report(f, ascii_only=True))
    assert printed.rc == 0
    assert printed.out.splitlines()[1:] == [
        "[ok] local.ssh: OpenSSH_9.2p1", "0 failed, 0 warnings, 1 ok, 0 skipped", "transcript (jureca), analysed again:",
        "  too-many-failures: the server disconnected: too many authentication failures",
        "    hint: ssh offered too many keys (agent or defaults) before the right one: add IdentitiesOnly yes and the IdentityFile to the host",
    ]


def test_unconfirmed_without_a_prompt_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="needs a confirmation"):
        report.write_report("{}\n", tmp_path / "r.json", yes=False, confirm=None, show=io.StringIO())
    assert not (tmp_path / "r.json").exists()
