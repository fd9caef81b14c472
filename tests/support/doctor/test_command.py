"""``doctor.command``: the whole path from a sites file to the printed report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sshsetup.errors import BadInput
from sshsetup.paths import Paths
from sshsetup.support import doctor
from sshsetup.support.doctor.model import Check, CheckResult, DoctorContext, Status
from tests.support.doctor.servers import RealSshd
from tests.timing import scaled


def sites_file(tmp_path: Path, port: int, host: str = "127.0.0.1") -> Path:
    f = tmp_path / "sites.toml"
    f.write_text(f'[sites.tb]\nhostname = "{host}"\nport = {port}\nalias = "tb"\n')
    return f


@pytest.mark.sshd
def test_healthy_loopback_is_all_ok(real_sshd: RealSshd, tmp_path: Path, fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ssh_dir = fake_home / ".ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "known_hosts").write_text(f"[127.0.0.1]:{real_sshd.port} {real_sshd.key_line()}\n")
    net = [c.id for c in doctor.CHECKS if c.id.startswith("net.")]  # the all-✓ run of every check: test_staged_failures
    rc = doctor.command(net, site_ids=["tb"], sites_file=sites_file(tmp_path, real_sshd.port), probe_timeout=scaled(2))
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    assert [ln.split(":")[0] for ln in lines[:-1]] == [f"✓ {c} (tb)" for c in net]
    assert lines[-1] == f"0 failed, 0 warnings, {len(net)} ok, 0 skipped"


def test_refused_port_json_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.doctor.servers import free_port

    rc = doctor.command(["net.tcp"], site_ids=["tb"], sites_file=sites_file(tmp_path, free_port()), json_out=True, probe_timeout=1)
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1 and doc["status"] == "fail" and doc["version"] == 1
    assert [(c["id"], c["status"], c["subject"]) for c in doc["checks"]] == [("net.dns", "ok", "tb"), ("net.tcp", "fail", "tb")]


def test_list_and_unknown_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.command(list_only=True) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in listed] == [c.id for c in (*doctor.CHECKS, *doctor.REMOTE_CHECKS)]
    with pytest.raises(BadInput):
        doctor.command(["no.such.check"], list_only=True)


def test_ascii_fallback_and_on_exit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SSHSETUP_ASCII", "1")
    undone: list[str] = []

    def run(c: DoctorContext, t: object) -> CheckResult:
        c.on_exit.append(lambda: undone.append("master stopped"))
        return CheckResult("x.y", Status.WARN, "meh", "do this")

    rc = doctor.doctor(DoctorContext(paths=Paths.from_env()), checks=(Check("x.y", "X", run),))
    assert rc == 0 and undone == ["master stopped"]
    assert capsys.readouterr().out == "[!!] x.y: meh\n    hint: do this\n0 failed, 1 warnings, 0 ok, 0 skipped\n"
    assert "NO_COLOR" not in os.environ
