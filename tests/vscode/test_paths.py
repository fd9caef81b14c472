from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.vscode import paths as vp

HOME = Path("/home/jane")


def no_proc() -> str:
    return "Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org)"


def wsl_proc() -> str:
    return "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1)"


def never(_: Path) -> bool:
    return False


def find(environ: dict[str, str], platform: str, **kw: object) -> vp.VSCodeHost:
    return vp.find_vscode(environ, platform, HOME, proc_version=kw.pop("proc", no_proc), **kw)  # type: ignore[arg-type]


def settings(host: vp.VSCodeHost) -> dict[str, str]:
    return {loc.flavour.product: str(loc.settings) for loc in host.locations}


@pytest.mark.parametrize(
    ("environ", "platform", "code_settings"),
    [
        pytest.param({}, "linux", "/home/jane/.config/Code/User/settings.json", id="linux-default"),
        pytest.param({"XDG_CONFIG_HOME": "/x/cfg"}, "linux", "/x/cfg/Code/User/settings.json", id="linux-xdg"),
        pytest.param({}, "darwin", "/home/jane/Library/Application Support/Code/User/settings.json", id="macos"),
        pytest.param(
            {"XDG_CONFIG_HOME": "/x/cfg"}, "darwin", "/home/jane/Library/Application Support/Code/User/settings.json",
            id="macos-ignores-xdg",
        ),
        pytest.param({"APPDATA": "/w/Roaming"}, "win32", "/w/Roaming/Code/User/settings.json", id="windows-appdata"),
        pytest.param({"USERPROFILE": "/w/jane"}, "win32", "/w/jane/AppData/Roaming/Code/User/settings.json", id="windows-profile"),
        pytest.param({}, "win32", "/home/jane/AppData/Roaming/Code/User/settings.json", id="windows-home"),
        pytest.param({"VSCODE_APPDATA": "/v/data"}, "linux", "/v/data/Code/User/settings.json", id="vscode-appdata"),
        pytest.param(
            {"VSCODE_PORTABLE": "/usb/code", "VSCODE_APPDATA": "/v/data"}, "linux", "/usb/code/user-data/User/settings.json",
            id="portable-wins",
        ),
    ],
)
def test_settings_location(environ: dict[str, str], platform: str, code_settings: str) -> None:
    host = find(environ, platform)
    assert settings(host)["Code"] == code_settings
    assert host.problem is None and host.wsl is False
    assert host.windows is (platform == "win32")
    assert host.ssh_dir == HOME / ".ssh"


def test_every_flavour() -> None:
    host = find({}, "linux")
    assert settings(host) == {
        "Code": "/home/jane/.config/Code/User/settings.json",
        "Code - Insiders": "/home/jane/.config/Code - Insiders/User/settings.json",
        "VSCodium": "/home/jane/.config/VSCodium/User/settings.json",
        "Code - OSS": "/home/jane/.config/Code - OSS/User/settings.json",
    }
    assert [str(loc.extensions) for loc in host.locations] == [
        "/home/jane/.vscode/extensions",
        "/home/jane/.vscode-insiders/extensions",
        "/home/jane/.vscode-oss/extensions",
        "/home/jane/.vscode-oss/extensions",
    ]


def test_extension_dir_overrides() -> None:
    assert {str(loc.extensions) for loc in find({"VSCODE_PORTABLE": "/usb/code"}, "linux").locations} == {"/usb/code/extensions"}
    assert {str(loc.extensions) for loc in find({"VSCODE_EXTENSIONS": "/e"}, "linux").locations} == {"/e"}


@pytest.mark.parametrize(
    ("environ", "proc", "expected"),
    [
        pytest.param({"WSL_DISTRO_NAME": "Ubuntu"}, no_proc, True, id="env"),
        pytest.param({}, wsl_proc, True, id="proc-version"),
        pytest.param({}, no_proc, False, id="plain-linux"),
        pytest.param({}, lambda: "", False, id="no-proc"),
    ],
)
def test_is_wsl(environ: dict[str, str], proc: object, expected: bool) -> None:
    assert vp.is_wsl(environ, "linux", proc) is expected  # type: ignore[arg-type]
    assert vp.is_wsl(environ, "darwin", proc) is False  # type: ignore[arg-type]


def test_wsl_uses_the_windows_profile() -> None:
    win = Path("/mnt/c/Users/Jane")
    host = find({"WSL_DISTRO_NAME": "Ubuntu", "SSHSETUP_WINDOWS_HOME": str(win)}, "linux", is_dir=lambda p: p == win)
    assert (host.wsl, host.windows, host.problem) == (True, True, None)
    assert settings(host)["Code"] == "/mnt/c/Users/Jane/AppData/Roaming/Code/User/settings.json"
    assert host.ssh_dir == win / ".ssh"
    assert host.locations[0].extensions == win / ".vscode" / "extensions"


def test_wsl_guesses_the_profile_from_user() -> None:
    win = Path("/mnt/c/Users/jane")
    host = find({"USER": "jane"}, "linux", proc=wsl_proc, is_dir=lambda p: p == win)
    assert host.home == win


def test_wsl_profile_from_wslenv_userprofile() -> None:
    win = Path("/mnt/d/Profiles/jane")
    host = find({"USERPROFILE": str(win), "USER": "x"}, "linux", proc=wsl_proc, is_dir=lambda p: p == win)
    assert host.home == win


def test_wsl_without_a_windows_home_explains_what_to_do() -> None:
    host = find({"USER": "jane", "SSHSETUP_WINDOWS_HOME": "/nope"}, "linux", proc=wsl_proc, is_dir=never)
    assert host.locations == () and host.home is None and host.ssh_dir is None
    assert host.problem == vp.WSL_HINT
    assert "SSHSETUP_WINDOWS_HOME" in vp.WSL_HINT and "/mnt/c/Users/" in vp.WSL_HINT


def test_installed_flavours(tmp_path: Path) -> None:
    (tmp_path / ".config" / "Code" / "User").mkdir(parents=True)
    (tmp_path / ".config" / "VSCodium").mkdir(parents=True)
    host = vp.find_vscode({}, "linux", tmp_path, proc_version=no_proc)
    assert [loc.flavour.title for loc in vp.installed(host)] == ["VS Code", "VSCodium"]
    portable = vp.find_vscode({"VSCODE_PORTABLE": str(tmp_path)}, "linux", tmp_path, proc_version=no_proc)
    assert vp.installed(portable) == ()
    (tmp_path / "user-data").mkdir()
    assert [loc.flavour.product for loc in vp.installed(portable)] == ["Code"]  # one portable folder


def test_remote_ssh_extension(tmp_path: Path) -> None:
    host = vp.find_vscode({}, "linux", tmp_path, proc_version=no_proc)
    code = host.locations[0]
    assert vp.remote_ssh_extension(code) is None  # no extensions folder
    code.extensions.mkdir(parents=True)
    for name in ["ms-vscode-remote.remote-ssh-edit-0.87.0", "ms-python.python-2024.1.0"]:
        (code.extensions / name).mkdir()
    assert vp.remote_ssh_extension(code) is None
    for name in ["ms-vscode-remote.remote-ssh-0.99.0", "ms-vscode-remote.remote-ssh-0.120.0"]:
        (code.extensions / name).mkdir()
    assert vp.remote_ssh_extension(code) == "ms-vscode-remote.remote-ssh-0.120.0"
    assert vp.remote_ssh_extension(code, lambda p: ["jeanp413.open-remote-ssh-0.0.48"]) == "jeanp413.open-remote-ssh-0.0.48"


def test_read_proc_version(tmp_path: Path) -> None:
    (tmp_path / "version").write_text(wsl_proc())
    assert vp.read_proc_version(str(tmp_path / "version")) == wsl_proc()
    assert vp.read_proc_version(str(tmp_path / "missing")) == ""
