"""``sshsetup doctor`` (``commands.doctor.run``): sites, selection, printing, and ``--report`` through the one writer."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from sshsetup.commands.doctor import DoctorOptions, run
from sshsetup.errors import BadInput, Refused
from sshsetup.paths import Paths
from sshsetup.render import show
from sshsetup.ssh import block as sshconfig
from sshsetup.support.doctor import CHECKS, REMOTE_CHECKS
from tests.helpers import run_cli
from tests.support.doctor.conftest import real_sshd, servers  # noqa: F401 - fixtures
from tests.support.doctor.servers import RealSshd, Server, free_port


def sites_file(tmp_path: Path, port: int, host: str = "127.0.0.1") -> Path:
    f = tmp_path / "sites.toml"
    f.write_text(f'[sites.tb]\nhostname = "{host}"\nport = {port}\nalias = "tb"\n')
    return f


def doctor(**kw: object) -> int:
    options = DoctorOptions(**kw)  # type: ignore[arg-type]
    return show(run(Paths.from_env(), options, confirm=None), as_json=options.prints_json)


def remember(home: Path, options: dict[str, object]) -> Path:
    """A managed block as init writes it, remembering ``options``."""
    cfg = home / ".ssh" / "config"
    cfg.parent.mkdir(mode=0o700, exist_ok=True)
    entries = [sshconfig.HostEntry("tb", (("HostName", "127.0.0.1"),))]
    cfg.write_text(sshconfig.upsert("", entries, options, "\n", cfg))
    cfg.chmod(0o600)
    return cfg


def test_options_are_exactly_the_command_line() -> None:
    assert list(DoctorOptions.__dataclass_fields__) == [
        "ids", "sites", "sites_file", "list_only", "json_out", "probe_timeout", "remote", "report_file", "from_report",
        "verbose", "yes",
    ]
    with pytest.raises(AttributeError):
        DoctorOptions().yes = True  # type: ignore[misc]


@pytest.mark.sshd
def test_healthy_loopback_is_all_ok(real_sshd: RealSshd, tmp_path: Path, fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ssh_dir = fake_home / ".ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "known_hosts").write_text(f"[127.0.0.1]:{real_sshd.port} {real_sshd.key_line()}\n")
    net = tuple(c.id for c in CHECKS if c.id.startswith("net."))  # the all-✓ run of every check: test_staged_failures
    rc = doctor(ids=net, sites=("tb",), sites_file=sites_file(tmp_path, real_sshd.port), probe_timeout=2)
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    assert [ln.split(":")[0] for ln in lines[:-1]] == [f"✓ {c} (tb)" for c in net]
    assert lines[-1] == f"0 failed, 0 warnings, {len(net)} ok, 0 skipped"


def test_refused_port_json_envelope_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = doctor(ids=("net.tcp",), sites=("tb",), sites_file=sites_file(tmp_path, free_port()), json_out=True, probe_timeout=1)
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1 and sorted(doc) == ["checks", "sshsetup", "status", "version"]
    assert (doc["sshsetup"], doc["version"], doc["status"]) == ("doctor", 1, "fail")
    assert [(c["id"], c["status"], c["subject"]) for c in doc["checks"]] == [("net.dns", "ok", "tb"), ("net.tcp", "fail", "tb")]


def test_list_shows_every_registered_check_and_refuses_an_unknown_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor(list_only=True) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in listed] == [c.id for c in (*CHECKS, *REMOTE_CHECKS)]
    assert listed[0] == "local.ssh             an ssh client is installed (ssh -V)"
    with pytest.raises(BadInput) as e:
        doctor(ids=("no.such.check",), list_only=True)
    assert e.value.message == "unknown check 'no.such.check'"


def test_ascii_output_of_one_real_check(fake_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SSHSETUP_ASCII", "1")
    pw = Paths.from_env().pw_home
    assert doctor(ids=("local.home",)) == 0
    assert capsys.readouterr().out == (
        f"[!!] local.home: $HOME is {fake_home}, but ssh takes ~ from the password database: {pw}\n"
        f"    hint: ssh (and VS Code) read {pw}/.ssh, not {fake_home}/.ssh; run sshsetup with HOME={pw}\n"
        "0 failed, 1 warnings, 0 ok, 0 skipped\n"
    )


def test_the_remembered_sites_and_sites_file_are_used(fake_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    remember(fake_home, {"sites": ["tb"], "sites_file": str(sites_file(tmp_path, free_port()))})
    assert doctor(ids=("net.dns",), json_out=True) == 0
    assert [c["subject"] for c in json.loads(capsys.readouterr().out)["checks"]] == ["tb"]


def test_an_unknown_remembered_site_is_refused_not_dropped(fake_home: Path) -> None:
    remember(fake_home, {"sites": ["jusuf", "gone-site"]})
    with pytest.raises(BadInput) as e:
        doctor(ids=("net.dns",))
    assert e.value.message == "unknown site 'gone-site'"
    assert e.value.hint is not None and e.value.hint.startswith("known sites: ")


def test_a_broken_block_still_runs_the_checks_on_the_defaults(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = fake_home / ".ssh" / "config"
    cfg.parent.mkdir(mode=0o700)
    cfg.write_bytes(b"\xef\xbb\xbfHost x\n")  # a BOM: remembered.load refuses it, config.encoding names it
    assert doctor(ids=("config.encoding", "config.ssh-g"), json_out=True) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["status"], c["subject"]) for c in doc["checks"]] == [
        ("config.encoding", "fail", None), ("config.ssh-g", "fail", "jsc-booster"), ("config.ssh-g", "fail", "jsc-jusuf"),
    ]
    cfg = remember(fake_home, {"sites": "tb"})  # hand-edited: a string where init writes a list
    assert doctor(ids=("config.block",), json_out=True) == 1
    (block,) = json.loads(capsys.readouterr().out)["checks"]
    assert (block["status"], block["summary"], block["hint"]) == (
        "fail", f"the sshsetup block in {cfg} has a malformed remembered option 'sites'",
        "run 'sshsetup init' again to rewrite the block (or 'sshsetup remove' to delete it)")


# --------------------------------------------------------------------------- --report: the one writer


def _report(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert doctor(ids=("local.home",), report_file=path, yes=True) == 0
    return capsys.readouterr().err


def test_a_new_report_is_created_0600_under_any_umask(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = fake_home / "ticket.json"
    old = os.umask(0)
    try:
        err = _report(path, capsys)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert err == text + f"--- end of the report; it has not been written yet ({path}) ---\n" \
                        f"wrote {path} (mode 0600): attach it to your support ticket\n"
    doc = json.loads(text)
    assert (doc["sshsetup"], doc["version"]) == ("doctor-report", 2)
    assert [c["id"] for c in doc["checks"]] == ["local.home"]


def test_an_earlier_report_is_replaced_and_kept_as_a_backup(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = fake_home / "ticket.json"
    path.write_text('{"sshsetup_report": 1, "checks": []}\n')  # a version 1 report
    path.chmod(0o600)
    err = _report(path, capsys)
    backups = sorted(fake_home.glob("ticket.json.sshsetup-backup-*"))
    assert len(backups) == 1 and backups[0].read_text() == '{"sshsetup_report": 1, "checks": []}\n'
    assert f"kept the earlier report as {backups[0]}\n" in err
    assert json.loads(path.read_text())["sshsetup"] == "doctor-report"


@pytest.mark.parametrize("content", [b"Host *\n    User me\n", b"", b'{"sshsetup": "doctor", "version": 1}', b"[" * 100_000])
def test_any_other_file_is_refused_and_kept(fake_home: Path, content: bytes) -> None:
    path = fake_home / "notes.txt"
    path.write_bytes(content)
    path.chmod(0o640)
    with pytest.raises(Refused) as e:
        doctor(ids=("local.home",), report_file=path, yes=True)
    assert (e.value.message, e.value.hint) == (f"{path} exists and is not an sshsetup report; it was not changed",
                                               "give a new file name, e.g. --report sshsetup-report.json")
    assert path.read_bytes() == content and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in fake_home.iterdir()) == ["notes.txt"]


def test_the_ssh_config_through_a_symlink_is_refused(fake_home: Path) -> None:
    cfg = remember(fake_home, {"sites": ["jusuf"]})
    before = cfg.read_bytes()
    (fake_home / "r.json").symlink_to(cfg)
    with pytest.raises(Refused, match="exists and is not an sshsetup report"):
        doctor(report_file=fake_home / "r.json", yes=True)
    assert cfg.read_bytes() == before


def test_a_missing_directory_a_directory_and_a_fifo_are_refused(fake_home: Path) -> None:
    with pytest.raises(BadInput) as e:
        doctor(report_file=fake_home / "nope" / "r.json", yes=True)
    assert (e.value.message, e.value.hint) == (
        f"cannot write the report to {fake_home}/nope/r.json: the directory {fake_home}/nope does not exist",
        f"create it first (mkdir -p {fake_home}/nope), or give a file in an existing directory")
    assert not (fake_home / "nope").exists()
    with pytest.raises(BadInput) as e:
        doctor(report_file=fake_home, yes=True)
    assert (e.value.message, e.value.hint) == (f"{fake_home} is a directory",
                                               f"give a file name in it, e.g. --report {fake_home}/sshsetup-report.json")
    os.mkfifo(fake_home / "fifo")
    with pytest.raises(Refused) as e:  # no hang: a FIFO is never opened
        doctor(report_file=fake_home / "fifo", yes=True)
    assert e.value.message == f"{fake_home}/fifo is not a regular file; it was not changed"


def test_through_the_cli_an_error_and_a_hint(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through cli.py, which builds DoctorOptions and calls commands.doctor.run."""
    r = run_cli(capsys, "doctor", "--report", str(fake_home / "nope" / "r.json"), "--yes")
    assert (r.rc, r.out) == (2, "")
    assert r.err.splitlines() == [
        f"error: cannot write the report to {fake_home}/nope/r.json: the directory {fake_home}/nope does not exist",
        f"hint: create it first (mkdir -p {fake_home}/nope), or give a file in an existing directory",
    ]


# --------------------------------------------------------------------------- terminal safety


def test_a_hostile_banner_reaches_the_terminal_escaped(tmp_path: Path, servers: list[Server],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """OSC 52 (clipboard), a screen clear, a window title and a CR that fakes a result, sent as the SSH banner."""
    evil = b"SSH-2.0-x\x1b]52;c;Y3VybCBldmlsfHNo\x07\x1b[2J\x1b]0;pwned\x07\r\x9b31m ok\r\n"
    s = Server(mode="close", greeting=b"\x1b[2Jnoise\r\n" + evil)
    servers.append(s)
    assert doctor(ids=("net.banner",), sites=("tb",), sites_file=sites_file(tmp_path, s.port), probe_timeout=1) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2] == ("✓ net.banner (tb): IPv4: SSH-2.0-x\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\x1b[2J\\x1b]0;pwned\\x07"
                                   "\\x0d\ufffd31m ok")
    assert not any(c in out for c in "\x1b\x07\r\x9b")


# --------------------------------------------------------------------------- through cli.py: render.show prints the Result


def test_cli_list_is_text_also_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "doctor", "--list", "--json", "local.home")
    assert (r.rc, r.out, r.err) == (0, "local.home  $HOME is the home ssh uses (password database)\n", "")


def test_cli_json_is_the_doctor_document_alone(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "doctor", "--json", "local.home")
    doc = json.loads(r.out)
    assert (r.rc, r.err, sorted(doc)) == (0, "", ["checks", "sshsetup", "status", "version"])
    assert (doc["sshsetup"], doc["version"], [c["id"] for c in doc["checks"]]) == ("doctor", 1, ["local.home"])


def test_a_report_nobody_can_confirm_is_refused_before_any_check(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "doctor", "local.home", "--report", str(fake_home / "r.json"))  # no terminal, no --yes
    assert (r.rc, r.out) == (2, "")
    assert r.err.splitlines() == [
        "error: writing the report needs a confirmation",
        "hint: run it in a terminal to read the report and answer, or add --yes (it is shown before it is written)",
    ]
    assert not (fake_home / "r.json").exists()
