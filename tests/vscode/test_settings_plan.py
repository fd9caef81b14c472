from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli, snapshot

SETTINGS = (
    "// my settings\r\n"
    "{\r\n"
    "\t\"editor.fontSize\": 14, // big\r\n"
    "\t/* hosts */\r\n"
    "\t\"remote.SSH.remotePlatform\": {\"mac-mini\": \"macOS\",},\r\n"
    "\t\"remote.SSH.connectTimeout\": 15,\r\n"
    "}"
)


@pytest.fixture
def user_dir(fake_home: Path) -> Path:
    d = fake_home / ".config" / "Code" / "User"
    d.mkdir(parents=True)
    return d


def parse(path: Path) -> dict[str, object]:
    import pyjson5

    return pyjson5.loads(path.read_text())  # type: ignore[no-any-return]


def test_settings_are_merged_and_removed_exactly(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path,
                                                 fake_home: Path) -> None:
    settings = user_dir / "settings.json"
    settings.write_bytes(SETTINGS.encode())
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--project-dir", "/p/project1/myproj")
    assert r.rc == 0, r.err
    got = parse(settings)
    assert got == {
        "editor.fontSize": 14,
        "remote.SSH.remotePlatform": {"mac-mini": "macOS", "jsc-booster": "linux", "jsc-jusuf": "linux"},
        "remote.SSH.connectTimeout": 60,
        "remote.SSH.showLoginTerminal": True,
        "remote.SSH.lockfilesInTmp": True,
        "remote.SSH.useFlock": False,
        "remote.SSH.maxReconnectionAttempts": 3,
        "remote.SSH.serverInstallPath": {"jsc-booster": "/p/project1/myproj/smith1", "jsc-jusuf": "/p/project1/myproj/smith1"},
    }
    text = settings.read_bytes().decode()
    assert text.startswith("// my settings\r\n{\r\n\t\"editor.fontSize\": 14, // big\r\n\t/* hosts */\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert f"update           {settings}" in r.err
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--yes", "--project-dir", "/p/project1/myproj")
    assert "Nothing changed" in r.err and snapshot(fake_home) == before
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert settings.read_bytes() == SETTINGS.encode()


def test_new_settings_file_is_deleted_by_remove(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--site", "jusuf").rc == 0
    settings = user_dir / "settings.json"
    assert parse(settings)["remote.SSH.remotePlatform"] == {"jsc-jusuf": "linux"}
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert not settings.exists()


@pytest.mark.parametrize(
    "before",
    [
        pytest.param(b"", id="zero-bytes"),
        pytest.param(b"\xef\xbb\xbf", id="bom-only"),
        pytest.param(b"{}", id="empty-object"),
        pytest.param(b"\xef\xbb\xbf{}\r\n", id="bom-empty-object-crlf"),
        pytest.param(b"// nothing yet\n", id="comment-only"),
        pytest.param(b'{\n    "editor.fontSize": 14,\n    "files.autoSave": "off"}\n', id="brace-on-last-members-line"),
        pytest.param(b'{\n\t"editor.fontSize": 14 }', id="brace-after-blank-no-newline"),
    ],
)
def test_a_pre_existing_settings_file_is_restored_exactly(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path,
                                                         before: bytes) -> None:
    settings = user_dir / "settings.json"
    settings.write_bytes(before)
    settings.chmod(0o644)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--site", "jusuf")
    assert r.rc == 0, r.err
    assert parse(settings)["remote.SSH.remotePlatform"] == {"jsc-jusuf": "linux"}
    assert run_cli(capsys, "init", "--yes", "--site", "jusuf", "--site", "juwels-booster").rc == 0  # a second record merges
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert settings.read_bytes() == before
    assert settings.stat().st_mode & 0o777 == 0o644


def test_user_change_is_left_alone_on_remove(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path) -> None:
    settings = user_dir / "settings.json"
    settings.write_text("{}\n")
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--site", "jusuf").rc == 0
    settings.write_text(settings.read_text().replace('"remote.SSH.connectTimeout": 60', '"remote.SSH.connectTimeout": 120'))
    r = run_cli(capsys, "remove", "--yes")
    assert r.rc == 0
    assert "left remote.SSH.connectTimeout as it is: it was changed after sshsetup set it" in r.err
    assert parse(settings) == {"remote.SSH.connectTimeout": 120}


def test_broken_settings_refused_and_nothing_written(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path,
                                                     fake_home: Path) -> None:
    (user_dir / "settings.json").write_text('{\n  "a": 1\n  "b": 2\n}\n')
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes")
    assert r.rc == 1
    assert r.err.splitlines()[0].startswith(f"error: {user_dir / 'settings.json'}: line 3 column 3")
    assert snapshot(fake_home) == before


def test_no_vscode_and_not_found(capsys: pytest.CaptureFixture[str], key: Path, fake_home: Path) -> None:
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes")
    assert "note: VS Code was not found" in r.err
    (fake_home / ".config" / "Code" / "User").mkdir(parents=True)
    r = run_cli(capsys, "init", "--yes", "--no-vscode")
    assert not (fake_home / ".config" / "Code" / "User" / "settings.json").exists()
    assert "VS Code" not in r.err


def test_windows_client_and_insiders(capsys: pytest.CaptureFixture[str], key: Path, fake_home: Path) -> None:
    for product in ("Code", "Code - Insiders"):
        (fake_home / ".config" / product / "User").mkdir(parents=True)
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--client", "windows").rc == 0
    for product in ("Code", "Code - Insiders"):
        doc = parse(fake_home / ".config" / product / "User" / "settings.json")
        assert doc["remote.SSH.useLocalServer"] is False


@pytest.mark.parametrize("bad", ["p/project1", "$PROJECT", "~/proj", "/p/x'y"])
def test_bad_project_dir(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path, bad: str) -> None:
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--project-dir", bad)
    assert r.rc == 2 and "must be a literal absolute path" in r.err


def test_manifest_json_is_versioned(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path, fake_home: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes").rc == 0
    doc = json.loads((fake_home / ".local" / "state" / "sshsetup" / "manifest.json").read_text())
    assert doc["version"] == 1 and str(user_dir / "settings.json") in doc["vscode_settings"]


def test_account_lookup_failure_is_a_note(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path, tmp_path: Path,
                                          refused_port: int) -> None:
    sf = tmp_path / "s.toml"
    sf.write_text(f'[sites.local]\nhostname = "127.0.0.1"\nport = {refused_port}\n')
    r = run_cli(capsys, "init", "--user", "me", "--key", str(key), "--yes", "--site", "local", "--sites-file", str(sf),
                "--account", "myproj")
    assert r.rc == 0, r.err
    assert "note: could not read $PROJECT_myproj on local (is the key uploaded yet?)" in r.err
    assert "remote.SSH.serverInstallPath" not in parse(user_dir / "settings.json")


def test_dry_run_looks_nothing_up(capsys: pytest.CaptureFixture[str], key: Path, user_dir: Path, tmp_path: Path) -> None:
    """Issue 12 item 11: a dry run makes no connection; it says what it would look up."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    sf = tmp_path / "s.toml"
    sf.write_text(f'[sites.local]\nhostname = "127.0.0.1"\nport = {port}\n')
    r = run_cli(capsys, "init", "--user", "me", "--key", str(key), "--dry-run", "--site", "local", "--sites-file", str(sf),
                "--account", "myproj")
    assert r.rc == 0, r.err
    assert ("note: dry run: would read $PROJECT_myproj on local (one ssh call) for VS Code's serverInstallPath; "
            "nothing was looked up") in r.err
    with pytest.raises(TimeoutError):
        listener.accept()  # nobody connected
    listener.close()


def test_a_site_that_asks_for_a_code_is_not_contacted_without_a_login(capsys: pytest.CaptureFixture[str], key: Path,
                                                                       user_dir: Path, tmp_path: Path) -> None:
    """Issue 13: init's $PROJECT lookup never starts an authentication the user did not ask for."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    sf = tmp_path / "s.toml"
    sf.write_text(f'[sites.local]\nhostname = "127.0.0.1"\nport = {port}\n'
                  'two_factor = { value = "required", source = "test", confidence = "high" }\n')
    r = run_cli(capsys, "init", "--user", "me", "--key", str(key), "--yes", "--site", "local", "--sites-file", str(sf),
                "--account", "myproj")
    assert r.rc == 0, r.err
    assert ("note: $PROJECT_myproj on local not read: no live login (run: sshsetup login --site local (a TOTP code will "
            "be asked), then run sshsetup init again), or give the directory with --project-dir") in r.err
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
