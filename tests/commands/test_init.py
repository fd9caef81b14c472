from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_cli, snapshot


@pytest.fixture
def pwfile(tmp_path: Path) -> Path:
    p = tmp_path / "pw"
    p.write_text("correct horse battery\n")
    return p


def config(home: Path) -> Path:
    return home / ".ssh" / "config"


def ssh_g(home: Path, alias: str) -> dict[str, str]:
    out = subprocess.run(["ssh", "-T", "-G", "-F", str(config(home)), alias], capture_output=True, text=True, check=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_new_key_config_and_key_line(capsys: pytest.CaptureFixture[str], fake_home: Path, pwfile: Path) -> None:
    r = run_cli(capsys, "init", "--user", "smith1", "--passphrase-file", str(pwfile), "--yes")
    assert r.rc == 0, r.err
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((fake_home / ".ssh").stat().st_mode) == 0o700
    assert stat.S_IMODE(config(fake_home).stat().st_mode) == 0o600
    pub = Path(str(key) + ".pub").read_text()
    assert pub.strip() in r.out
    assert "Checked with ssh -G: jsc-booster, jsc-jusuf resolve as intended." in r.err
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(key) + ".pub"], capture_output=True, text=True).stdout.strip()
    assert f"Key: {key}  {listed}" in r.err
    g = ssh_g(fake_home, "jsc-booster")
    assert (g["hostname"], g["user"], g["port"], g["identityfile"]) == ("juwels-booster.fz-juelich.de", "smith1", "22", str(key))
    assert (g["identitiesonly"], g["addressfamily"], g["forwardagent"]) == ("yes", "inet", "no")
    # pytest's tmp path is too long for a unix socket path: no ControlMaster, and it says why
    assert g["controlmaster"] == "false"
    assert f"note: no ControlMaster: the socket path under {fake_home / '.ssh' / 'cm'} would exceed 108 bytes" in r.err
    assert "ForwardAgent" not in config(fake_home).read_text()
    assert "JUWELS Booster" in r.err and "JUSUF" in r.err and "judoor.fz-juelich.de" in r.err


def test_second_run_changes_nothing(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes").rc == 0
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--yes")  # remembered options
    assert r.rc == 0
    assert "\nNothing changed: everything is already set up as asked.\n" in r.err
    assert snapshot(fake_home) == before


def test_dry_run_shows_diff_and_writes_nothing(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--dry-run")
    assert r.rc == 0
    assert r.out.startswith(f"--- /dev/null\n+++ {config(fake_home)}\n@@ -0,0 +1,29 @@\n+# BEGIN sshsetup")
    assert "would create" in r.err
    assert snapshot(fake_home) == before


def test_no_tty_without_yes_is_refused(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key))
    assert (r.rc, r.err.splitlines()[-2:]) == (
        2,
        ["error: sshsetup init needs confirmation to write", "hint: re-run with --yes, or with --dry-run to only show the changes"],
    )
    assert snapshot(fake_home) == before


USER_CONFIG = (
    "# my global settings\r\n"
    "ServerAliveInterval=30\r\n"
    "Include conf.d/*.conf\r\n"
    "\r\n"
    "Match host *.corp exec \"true\"\r\n"
    "\tUser corpuser\r\n"
    "Host github.com\r\n"
    "  IdentityFile \"~/.ssh/my key\"\r\n"
    "Host *\r\n"
    "    User nobody\r\n"
    "    IdentityFile ~/.ssh/other\r\n"
)


def test_complex_config_survives_round_trip(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    cfg = config(fake_home)
    (cfg.parent / "conf.d").mkdir()
    (cfg.parent / "conf.d" / "a.conf").write_text("Host unrelated\n  HostName example.org\n")
    cfg.write_bytes(USER_CONFIG.encode())
    cfg.chmod(0o644)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--compute-nodes")
    assert r.rc == 0, r.err
    text = cfg.read_bytes().decode()
    assert text.startswith("# BEGIN sshsetup")
    assert text.endswith("Host *\r\n# END sshsetup\r\n" + USER_CONFIG)
    assert "\n" not in text.replace("\r\n", "")
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o644  # the file's mode is kept
    g = ssh_g(fake_home, "jwb0129i.juwels")
    assert (g["proxyjump"], g["stricthostkeychecking"], g["user"]) == ("jsc-booster", "accept-new", "smith1")
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert cfg.read_bytes() == USER_CONFIG.encode()


def test_symlinked_config_is_written_through(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    dot = fake_home / "dotfiles"
    dot.mkdir()
    (dot / "ssh_config").write_text("Host a\n  HostName a.org\n")
    config(fake_home).symlink_to(dot / "ssh_config")
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes").rc == 0
    assert config(fake_home).is_symlink()
    assert "# BEGIN sshsetup" in (dot / "ssh_config").read_text()
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert (dot / "ssh_config").read_text() == "Host a\n  HostName a.org\n" and config(fake_home).is_symlink()


def test_remove_deletes_a_config_it_created(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes").rc == 0
    r = run_cli(capsys, "remove", "--yes")
    assert r.rc == 0
    assert not config(fake_home).exists()
    assert f"  rm {key} {key}.pub" in r.err
    assert key.exists()
    r = run_cli(capsys, "remove", "--yes")
    assert r.err.startswith("Nothing to remove")


def test_top_level_options_of_the_user_no_longer_shadow_the_block(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    """Global options above the first Host once overrode the block; now it is read first."""
    cfg = config(fake_home)
    user = ("User someoneelse\nIdentityFile ~/.ssh/id_rsa\nHostName elsewhere.example.org\nServerAliveInterval 5\n"
            "AddKeysToAgent 1h\nHost *\n  Port 2222\nHost mine\n  HostName mine.example.org\n")
    cfg.write_text(user)
    before = ssh_g(fake_home, "mine")
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--site", "juwels-booster")
    assert r.rc == 0, r.err
    assert cfg.read_text().endswith("# END sshsetup\n" + user)
    out = subprocess.run(["ssh", "-T", "-G", "-F", str(cfg), "jsc-booster"], capture_output=True, text=True, check=True).stdout
    g = {k: [ln.split(" ", 1)[1] for ln in out.splitlines() if ln.split(" ", 1)[0] == k] for k in
         ("user", "hostname", "port", "serveraliveinterval", "addkeystoagent", "identityfile")}
    assert g == {"user": ["smith1"], "hostname": ["juwels-booster.fz-juelich.de"], "port": ["22"], "serveraliveinterval": ["60"],
                 "addkeystoagent": ["true"], "identityfile": [str(key), "~/.ssh/id_rsa"]}  # ours first
    assert ssh_g(fake_home, "mine") == before  # the user's own alias resolves as before


def test_an_include_of_the_user_no_longer_shadows_the_block(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    cfg = config(fake_home)
    extra = fake_home / "extra.conf"
    extra.write_text("Host jsc-*\n  HostName evil.example.org\n")
    cfg.write_text(f"Include {extra}\nHost x\n")
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--site", "jusuf")
    assert r.rc == 0, r.err
    assert ssh_g(fake_home, "jsc-jusuf")["hostname"] == "jusuf.fz-juelich.de"


def test_windows_client_has_no_controlmaster(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--client", "windows").rc == 0
    text = config(fake_home).read_bytes().decode()
    assert "Control" not in text
    assert "    MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com\r\n" in text


def test_sites_file_site(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path, tmp_path: Path) -> None:
    sf = tmp_path / "sites.toml"
    sf.write_text('[sites.mysite]\nname = "My cluster"\nhostname = "login.example.org"\nport = 2222\n')
    r = run_cli(capsys, "init", "--user", "me", "--key", str(key), "--yes", "--site", "mysite", "--sites-file", str(sf))
    assert r.rc == 0, r.err
    g = ssh_g(fake_home, "mysite")
    assert (g["hostname"], g["port"], g["user"]) == ("login.example.org", "2222", "me")
    assert "JuDoor" not in r.err


def test_controlmaster_with_a_short_home(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="sst-", dir="/tmp"))
    try:
        monkeypatch.setenv("HOME", str(home))
        (home / ".ssh").mkdir(mode=0o700)
        k = home / ".ssh" / "k"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-f", str(k)], check=True)
        assert run_cli(capsys, "init", "--user", "smith1", "--key", str(k), "--yes", "--site", "jusuf").rc == 0
        g = ssh_g(home, "jsc-jusuf")
        assert (g["controlmaster"], g["controlpersist"]) == ("auto", "600")
        assert g["controlpath"].startswith(str(home / ".ssh" / "cm") + "/") and len(g["controlpath"]) + 17 < 108
        assert stat.S_IMODE((home / ".ssh" / "cm").stat().st_mode) == 0o700
        assert run_cli(capsys, "remove", "--yes").rc == 0
        assert not (home / ".ssh" / "cm").exists()
    finally:
        shutil.rmtree(home)


def test_macos_client_keeps_the_passphrase_in_the_keychain(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--client", "macos", "--site", "jusuf").rc == 0
    text = config(fake_home).read_text()
    assert "    IgnoreUnknown UseKeychain\n    UseKeychain yes\n" in text
    g = ssh_g(fake_home, "jsc-jusuf")  # Debian's OpenSSH parses it (and ignores UseKeychain)
    assert g["ignoreunknown"] == "UseKeychain"


def test_a_block_below_user_lines_moves_to_the_top(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    cfg = config(fake_home)
    cfg.write_text("Host *.juwels\n  ProxyJump elsewhere\n")
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--site", "juwels-booster", "--compute-nodes")
    assert r.rc == 0, r.err
    cfg.write_text("ProxyJump elsewhere\n" + cfg.read_text())  # as an earlier version's placement (or a hand edit) left it
    r = run_cli(capsys, "init", "--yes")
    assert r.rc == 0, r.err
    assert r.err.count(f"note: moved the sshsetup block to the top of {cfg}, so that no line of yours overrides it\n") == 1
    assert ssh_g(fake_home, "jwb0129i.juwels")["proxyjump"] == "jsc-booster"
    assert cfg.read_text().endswith("# END sshsetup\nProxyJump elsewhere\nHost *.juwels\n  ProxyJump elsewhere\n")
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert cfg.read_text() == "ProxyJump elsewhere\nHost *.juwels\n  ProxyJump elsewhere\n"


def test_stale_temp_files_of_a_killed_run_are_cleaned(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    leftover = fake_home / ".ssh" / ".config.x1y2z3.sshsetup-tmp"
    leftover.write_text("half a config")
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes").rc == 0
    assert not leftover.exists()


@pytest.mark.parametrize("account", ["projét", "my proj", "a;b"])
def test_account_is_the_one_ascii_slurm_account_rule(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path,
                                                     account: str) -> None:
    """``init --account`` is checked by validate.account, as jobscript and vscode are: nothing is written."""
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--account", account)
    shown = repr(account) if " " in account else account
    assert (r.rc, r.err) == (2, f"error: --account {shown} is not a valid Slurm account\nhint: give your compute project "
                                "(budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500\n")
    assert snapshot(fake_home) == before


def test_outcomes_then_key_then_hand_off(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    """The order of what init says: outcomes, the key, the ssh -G check, then the line (stdout) and what next."""
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--site", "jusuf", "--from", "192.0.2.0/24",
                "--no-vscode")
    assert r.rc == 0, r.err
    assert r.out.startswith('from="192.0.2.0/24" ssh-ed25519 ') and r.out.count("\n") == 1
    lines = [line for line in r.err.splitlines() if not line.startswith("note: no ControlMaster")]  # long tmp paths
    assert lines[:2] == ["Done:", f"  create           {config(fake_home)}"]
    assert lines[2].startswith(f"Key: {key}  256 SHA256:")
    assert lines[3:5] == ["Checked with ssh -G: jsc-jusuf resolves as intended.", "from= covers: 192.0.2.0/24 (IPv4 only)"]
    assert lines[-1] == "Propagation takes a few minutes. Then check it with: sshsetup wait"


def test_every_command_refuses_a_malformed_remembered_option(capsys: pytest.CaptureFixture[str], fake_home: Path,
                                                            key: Path) -> None:
    """One owner (remembered.load): init, key-line, wait, vscode, jobscript and sites read the block alike."""
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode", "--from", "192.0.2.0/24").rc == 0
    cfg = config(fake_home)
    text = cfg.read_text()
    start = text.index("# sshsetup-options: ")
    line = text[start:text.index("\n", start)]
    cfg.write_text(text.replace(line, line.replace('"user":"smith1"', '"user":7')))
    before = snapshot(fake_home)
    for args in (["init", "--yes"], ["key-line"], ["wait"], ["vscode", "--dry-run"], ["sites"],
                 ["jobscript", "--site", "jusuf", "--account", "a"]):
        r = run_cli(capsys, *args)
        assert (r.rc, r.err.splitlines()) == (2, [
            f"error: the sshsetup block in {cfg} has a malformed remembered option 'user'",
            "hint: run 'sshsetup init' again to rewrite the block (or 'sshsetup remove' to delete it)",
        ]), args
    assert snapshot(fake_home) == before


def test_a_hand_written_entry_is_named_then_its_alias_adopted(capsys: pytest.CaptureFixture[str], fake_home: Path,
                                                               key: Path) -> None:
    """Issue 11 item 3 through the CLI: the course's 'Host booster' is named with file and line, never edited;
    --alias juwels-booster=booster gives it the managed settings first."""
    cfg = fake_home / ".ssh" / "config"
    cfg.parent.mkdir(mode=0o700, exist_ok=True)
    mine = "Host booster\n    HostName juwels-booster.fz-juelich.de\n    User other1\n    IdentityFile ~/.ssh/id_rsa\n"
    cfg.write_text(mine)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode", "--site", "juwels-booster")
    assert r.rc == 0, r.err
    assert (f"note: {cfg}:1: your own 'Host booster' reaches juwels-booster.fz-juelich.de too (user other1 (sshsetup: smith1), "
            f"key ~/.ssh/id_rsa (sshsetup: {key})); sshsetup leaves it alone and adds 'jsc-booster'. "
            "To use your name instead: --alias juwels-booster=booster") in r.err
    assert cfg.read_text().endswith(mine)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode", "--site", "juwels-booster",
                "--alias", "juwels-booster=booster")
    assert r.rc == 0, r.err
    assert cfg.read_text().endswith(mine) and "\nHost booster\n" in cfg.read_text().split("# END sshsetup")[0]
    from sshsetup.ssh.client import Ssh

    got = Ssh(cfg).dump("booster")
    assert got["user"] == ["smith1"] and got["identityfile"][0] == str(key)


@pytest.mark.parametrize("bad", ["booster", "=booster", "juwels-booster="])
def test_alias_needs_site_and_name(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path, bad: str) -> None:
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--alias", bad)
    assert r.rc == 2 and f"{bad!r} is not SITE=NAME (e.g. --alias juwels-booster=booster)" in r.err
    assert not (fake_home / ".ssh" / "config").exists()


def test_site_adds_to_the_sites_set_up_before(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    """``init --site X`` on an existing setup keeps the others: adding is the default."""
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode").rc == 0
    r = run_cli(capsys, "init", "--site", "jureca-dc", "--yes", "--no-vscode")
    assert r.rc == 0, r.err
    assert "Checked with ssh -G: jsc-booster, jsc-jusuf, jsc-jureca resolve as intended." in r.err
    assert "Dropping" not in r.err
    text = config(fake_home).read_text()
    assert '"sites":["juwels-booster","jusuf","jureca-dc"]' in text


def test_drop_site_names_every_dropped_alias_before_writing(capsys: pytest.CaptureFixture[str], fake_home: Path,
                                                            key: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode",
                   "--site", "juwels-booster", "--site", "jusuf", "--site", "jureca-dc").rc == 0
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--drop-site", "jusuf", "--drop-site", "juwels-booster", "--dry-run", "--no-vscode")
    assert r.rc == 0, r.err
    line = ("Dropping jsc-booster (juwels-booster), jsc-jusuf (jusuf): their Host entries leave the sshsetup block "
            "(the key, and the key in JuDoor, stay as they are).")
    assert line in r.err.splitlines()
    assert snapshot(fake_home) == before
    r = run_cli(capsys, "init", "--drop-site", "jusuf", "--yes", "--no-vscode")
    assert r.rc == 0, r.err
    assert r.err.splitlines()[0] == ("Dropping jsc-jusuf (jusuf): its Host entry leaves the sshsetup block "
                                     "(the key, and the key in JuDoor, stay as they are).")
    assert "Host jsc-jusuf" not in config(fake_home).read_text() and "Host jsc-jureca" in config(fake_home).read_text()


@pytest.mark.parametrize(("args", "error", "hint"), [
    (["--drop-site", "jureca-dc"], "error: --drop-site jureca-dc: jureca-dc is not one of the sites being set up (juwels-booster, jusuf)",
     "hint: name a site from the list, e.g. --drop-site juwels-booster"),
    (["--drop-site", "jusuf", "--drop-site", "juwels-booster"], "error: --drop-site would drop every site",
     "hint: to undo everything sshsetup wrote, run: sshsetup remove"),
    (["--drop-site", "jusuf", "--site", "jusuf"], "error: --drop-site jusuf: jusuf is also given with --site",
     "hint: give a site either to add or to drop"),
])
def test_drop_site_refusals(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path, args: list[str], error: str,
                            hint: str) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode").rc == 0
    before = snapshot(fake_home)
    r = run_cli(capsys, "init", "--yes", "--no-vscode", *args)
    assert (r.rc, r.err.splitlines()) == (2, [error, hint])
    assert snapshot(fake_home) == before
