from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sshsetup.judoor import records as keyline_state
from tests.helpers import run_cli, snapshot
from tests.testbed.httpd import EchoMode, echo_factory, rdap_server  # noqa: F401 - fixtures


@pytest.fixture
def pub(fake_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SSHSETUP_NO_CLIPBOARD", "1")
    ssh = fake_home / ".ssh"
    ssh.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-C", "me@laptop",
                    "-f", str(ssh / "id_ed25519_jsc")], check=True)
    return (ssh / "id_ed25519_jsc.pub").read_text().strip()


def echo_urls(monkeypatch: pytest.MonkeyPatch, *servers: Any) -> None:
    monkeypatch.setenv("SSHSETUP_IP_ECHO_URLS", ",".join(s.url for s in servers))


def test_from_ranges_are_normalised(capsys: pytest.CaptureFixture[str], pub: str, fake_home: Path) -> None:
    r = run_cli(capsys, "key-line", "--from", "93.199.55.163/16", "--from", "93.199.1.0/24", "--from", "2001:db8::/48")
    assert r.rc == 0, r.err
    assert r.out == f'from="93.199.0.0/16,2001:db8::/48" {pub}\n'
    assert "note: 93.199.55.163/16 has host bits set (sshd would never match it); using 93.199.0.0/16" in r.err
    assert "note: dropped 93.199.1.0/24: already covered by 93.199.0.0/16" in r.err
    assert "JUWELS Booster (jsc-booster)" in r.err and "https://judoor.fz-juelich.de" in r.err
    assert "134.94.0.0/16" in r.err  # the FZJ hint
    state = fake_home / ".local" / "state" / "sshsetup" / "keylines.json"
    assert not state.exists()  # nothing is set up (no block): no state is created for it


def test_a_line_for_a_set_up_config_is_recorded(capsys: pytest.CaptureFixture[str], pub: str, fake_home: Path) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--from", "192.0.2.0/24", "--no-vscode").rc == 0
    r = run_cli(capsys, "key-line", "--from", "93.199.55.163/16", "--from", "2001:db8::/48")
    assert r.rc == 0, r.err
    rec = keyline_state.load(fake_home / ".local" / "state" / "sshsetup" / "keylines.json")
    assert sorted(rec) == ["jusuf", "juwels-booster"]
    assert rec["jusuf"].ranges == ("93.199.0.0/16", "2001:db8::/48") and rec["jusuf"].line == r.out.strip()
    # the config says AddressFamily inet (init's line was IPv4 only); the new line covers IPv6 too: no warning
    assert "IPv4 only: ssh is told AddressFamily inet for jsc-booster, jsc-jusuf, so an IPv6 connection cannot miss these ranges." in r.err


def test_after_remove_key_line_states_nothing_about_a_config_that_is_gone(capsys: pytest.CaptureFixture[str], pub: str,
                                                                          fake_home: Path) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--from", "192.0.2.0/24", "--no-vscode").rc == 0
    state = fake_home / ".local" / "state" / "sshsetup" / "keylines.json"
    assert state.exists()
    r = run_cli(capsys, "remove", "--yes")
    assert r.rc == 0, r.err
    fp = keyline_state.load(state) if state.exists() else {}
    assert not fp and not state.exists()
    r = run_cli(capsys, "key-line", "--from", "192.0.2.0/24")
    assert r.rc == 0, r.err
    assert "AddressFamily" not in r.err
    assert f"note: {fake_home / '.ssh' / 'config'} has no sshsetup block: no host is set up for this key yet; run: sshsetup init" in r.err.splitlines()
    assert not state.exists()  # remove deleted it; key-line does not re-create it


def test_remove_reminds_of_the_key_in_judoor(capsys: pytest.CaptureFixture[str], pub: str, fake_home: Path) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--from", "192.0.2.0/24", "--no-vscode").rc == 0
    fp = subprocess.run(["ssh-keygen", "-l", "-f", str(key) + ".pub"], capture_output=True, text=True, check=True).stdout.split()[1]
    r = run_cli(capsys, "remove", "--yes")
    assert r.rc == 0, r.err
    assert r.err.splitlines()[-1] == (f"JuDoor still accepts the key {fp} for JUWELS Booster, JUSUF: delete it there too "
                                      "(JuDoor > Manage SSH keys, https://judoor.fz-juelich.de) if you no longer use it.")
    r = run_cli(capsys, "remove", "--yes")
    assert "JuDoor" not in r.err  # nothing removed, nothing to remind of


def test_an_ipv4_line_with_a_config_that_allows_ipv6_is_a_warning(capsys: pytest.CaptureFixture[str], pub: str,
                                                                  fake_home: Path) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    sf = fake_home / "sites.toml"
    sf.write_text('[sites.mysite]\nname = "My cluster"\nhostname = "login.example.org"\n')
    args = ("init", "--user", "me", "--key", str(key), "--yes", "--site", "mysite", "--sites-file", str(sf), "--no-vscode")
    assert run_cli(capsys, *args, "--from", "192.0.2.0/24", "--from", "2001:db8::/48").rc == 0  # AddressFamily any
    r = run_cli(capsys, "key-line", "--from", "192.0.2.0/24")
    assert r.rc == 0, r.err
    assert ("warning: the line covers IPv4 only, but ssh may connect to mysite over IPv6 "
            "(the config does not say AddressFamily inet); run: sshsetup init") in r.err.splitlines()
    assert "ssh is told" not in r.err


def test_detected_public_ipv4_and_ipv6(capsys: pytest.CaptureFixture[str], pub: str, monkeypatch: pytest.MonkeyPatch,
                                       echo_factory: Any) -> None:
    v4 = echo_factory("127.0.0.1", EchoMode.FIXED, "93.199.55.163")
    v6 = echo_factory("::1", EchoMode.FIXED, "2003:e1:1234:5678::9")
    echo_urls(monkeypatch, v4, v6)
    r = run_cli(capsys, "key-line", "--json")
    assert r.rc == 0, r.err
    doc = json.loads(r.out)
    assert doc["line"] == f'from="93.199.0.0/16,2003:e1:1234::/48" {pub}'
    assert doc["detected"] == {"ipv4": "93.199.55.163", "ipv6": "2003:e1:1234:5678::9"}
    assert (doc["version"], doc["covers_ipv6"]) == (1, True)
    r = run_cli(capsys, "key-line", "--range", "exact", "--internal")
    assert r.out == f'from="93.199.55.163/32,2003:e1:1234:5678::9/128,10.0.0.0/8" {pub}\n'


def test_loopback_answer_is_not_public(capsys: pytest.CaptureFixture[str], pub: str, monkeypatch: pytest.MonkeyPatch,
                                       echo_factory: Any) -> None:
    echo_urls(monkeypatch, echo_factory("127.0.0.1", EchoMode.NORMAL))  # answers 127.0.0.1: the client's real address
    r = run_cli(capsys, "key-line")
    assert r.rc == 1
    assert r.err.startswith("error: cannot determine your public address (ipv4: ")
    assert "loopback" in r.err
    assert "--from" in r.err.splitlines()[-1]


def test_offline_says_so(capsys: pytest.CaptureFixture[str], pub: str) -> None:
    r = run_cli(capsys, "key-line")  # conftest points the echo URLs at a closed port
    assert r.rc == 1
    assert r.err.splitlines()[0] == "error: cannot determine your public address (no network)"
    assert r.err.splitlines()[1].startswith("hint: ") and "--from" in r.err


def test_provider_range_from_rdap(capsys: pytest.CaptureFixture[str], pub: str, monkeypatch: pytest.MonkeyPatch,
                                  echo_factory: Any, rdap_server: Any) -> None:
    echo_urls(monkeypatch, echo_factory("127.0.0.1", EchoMode.FIXED, "93.199.55.163"))
    monkeypatch.setenv("SSHSETUP_RDAP_URL", rdap_server.url)
    r = run_cli(capsys, "key-line", "--range", "provider")
    assert r.rc == 0, r.err
    assert r.out == f'from="93.192.0.0/10" {pub}\n'


def test_named_ranges_join_every_line(capsys: pytest.CaptureFixture[str], pub: str, fake_home: Path) -> None:
    assert run_cli(capsys, "key-line", "--from", "93.199.0.0/16", "--name", "home").rc == 0
    r = run_cli(capsys, "key-line", "--from", "134.94.0.0/16")
    assert r.out == f'from="134.94.0.0/16,93.199.0.0/16" {pub}\n'
    saved = json.loads((fake_home / ".config" / "sshsetup" / "ranges.json").read_text())
    assert saved == {"version": 1, "ranges": {"home": ["93.199.0.0/16"]}}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("1.2.3.4/33", "1.2.3.4/33"),
        pytest.param("example.org", "example.org"),
        pytest.param("*", "*"),
        pytest.param('1.2.3.4"', '1.2.3.4"'),
        pytest.param("1.2.3.4,5.6.7.8", "1.2.3.4,5.6.7.8"),
        pytest.param("0.0.0.0/0", "0.0.0.0/0"),
        pytest.param("10.0.0.0/7", "10.0.0.0/7"),
        pytest.param("2001::/16", "2001::/16"),
        pytest.param("", "empty"),
        pytest.param("!1.2.3.4", "!1.2.3.4"),
    ],
)
def test_bad_from_is_refused(capsys: pytest.CaptureFixture[str], pub: str, fake_home: Path, value: str, message: str) -> None:
    before = snapshot(fake_home)
    r = run_cli(capsys, "key-line", "--from", value)
    assert r.rc == 2
    lines = r.err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and message in lines[0] and lines[1].startswith("hint: ")
    assert snapshot(fake_home) == before


def test_bad_range_policy_and_name(capsys: pytest.CaptureFixture[str], pub: str) -> None:
    assert run_cli(capsys, "key-line", "--range", "8").rc == 2
    r = run_cli(capsys, "key-line", "--from", "93.199.0.0/16", "--name", "my home")
    assert (r.rc, r.err.splitlines()[0]) == (2, "error: range name 'my home' is not a valid ssh alias")


def _site_file(fake_home: Path, *hosts: tuple[str, str]) -> Path:
    sf = fake_home / "sites.toml"
    sf.write_text("".join(f'[sites.{name}]\nname = "{name}"\nhostname = "{host}"\nalias = "{name}"\n' for name, host in hosts))
    return sf


def test_a_loopback_host_gets_the_address_its_server_sees(capsys: pytest.CaptureFixture[str], pub: str, fake_home: Path,
                                                          echo_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No public address in a line for a host on loopback: the server sees the local source address."""
    public = echo_factory("127.0.0.1", EchoMode.FIXED, "93.199.55.163")
    echo_urls(monkeypatch, public)
    sf = _site_file(fake_home, ("testbed", "127.0.0.2"))
    r = run_cli(capsys, "key-line", "--site", "testbed", "--sites-file", str(sf))
    assert r.rc == 0, r.err
    assert r.out == f'from="127.0.0.1/32" {pub}\n'
    assert ("note: testbed is at 127.0.0.2, not on the public internet: its server sees 127.0.0.1 "
            "(the local source address towards it), so the line allows 127.0.0.1/32") in r.err.splitlines()
    assert "93.199" not in r.out + r.err


def test_a_host_name_on_loopback_is_resolved_like_ssh_does(capsys: pytest.CaptureFixture[str], pub: str,
                                                           fake_home: Path) -> None:
    sf = _site_file(fake_home, ("local", "localhost"))
    r = run_cli(capsys, "key-line", "--site", "local", "--sites-file", str(sf))
    assert r.rc == 0, r.err
    assert r.out in (f'from="127.0.0.1/32" {pub}\n', f'from="::1/128" {pub}\n')


def test_a_public_host_beside_a_loopback_one_still_needs_the_public_address(capsys: pytest.CaptureFixture[str], pub: str,
                                                                            fake_home: Path) -> None:
    """The echo services are unreachable: the line would miss the JSC host, so none is printed."""
    sf = _site_file(fake_home, ("testbed", "127.0.0.1"))
    r = run_cli(capsys, "key-line", "--site", "testbed", "--site", "jusuf", "--sites-file", str(sf))
    assert r.rc != 0 and r.out == ""
    assert r.err.startswith("error: cannot determine your public address")


def test_init_for_a_loopback_site_prints_a_line_that_can_work(capsys: pytest.CaptureFixture[str], pub: str,
                                                               fake_home: Path) -> None:
    sf = _site_file(fake_home, ("testbed", "127.0.0.1"))
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    r = run_cli(capsys, "init", "--user", "me", "--key", str(key), "--yes", "--site", "testbed", "--sites-file", str(sf),
                "--no-vscode")
    assert r.rc == 0, r.err
    assert r.out == f'from="127.0.0.1/32" {pub}\n'
    assert "from= covers: 127.0.0.1/32 (IPv4 only)" in r.err.splitlines()
