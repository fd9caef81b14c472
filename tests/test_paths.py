"""sshsetup.paths: every location comes from the environment, ~ as ssh expands it."""

from __future__ import annotations

from pathlib import Path

from sshsetup.paths import Paths


def test_locations_under_home_and_the_xdg_dirs(fake_home: Path) -> None:
    p = Paths.from_env({"HOME": str(fake_home)})
    assert p.home == fake_home
    assert (p.ssh_dir, p.ssh_config, p.default_key) == (fake_home / ".ssh", fake_home / ".ssh" / "config", fake_home / ".ssh" / "id_ed25519_jsc")
    # conftest points XDG_CONFIG_HOME / XDG_STATE_HOME into the fake home
    assert p.config_dir == fake_home / ".config" / "sshsetup"
    assert p.sites_file == fake_home / ".config" / "sshsetup" / "sites.toml"
    state = fake_home / ".local" / "state" / "sshsetup"
    assert p.state_dir == state
    assert (p.manifest, p.keylines, p.lock_file, p.log_dir) == (
        state / "manifest.json", state / "keylines.json", state / "sshsetup.lock", state / "log")


def test_userprofile_when_home_is_unset(tmp_path: Path) -> None:
    assert Paths.from_env({"USERPROFILE": str(tmp_path)}).home == tmp_path
    assert Paths.from_env({"HOME": "", "USERPROFILE": str(tmp_path)}).home == tmp_path


def paths(home: Path, pw_home: Path) -> Paths:
    return Paths(home=home, pw_home=pw_home, config_dir=home / "c", state_dir=home / "s")


def test_ssh_uses_the_default_config_only_under_the_passwd_home(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert paths(tmp_path / "a", tmp_path / "a").ssh_uses_default_config is True
    assert paths(tmp_path / "link", tmp_path / "a").ssh_uses_default_config is True  # the same directory
    assert paths(tmp_path / "b", tmp_path / "a").ssh_uses_default_config is False


def test_ssh_tilde(tmp_path: Path) -> None:
    p = paths(tmp_path, tmp_path / "pw")
    (tmp_path / "pw").mkdir()
    assert p.ssh_tilde(tmp_path / "pw" / ".ssh" / "id_ed25519_jsc") == "~/.ssh/id_ed25519_jsc"
    assert p.ssh_tilde(tmp_path / "pw") == "~"
    assert p.ssh_tilde(tmp_path / "elsewhere" / "id") == f"{tmp_path}/elsewhere/id"  # outside the passwd home: absolute
