"""VS Code checks on real folders under the test's HOME (Linux layout: ~/.config/Code, ~/.vscode/extensions)."""

from __future__ import annotations

from pathlib import Path

from sshsetup.support.doctor import checks_vscode
from sshsetup.support.doctor.model import Status as S
from sshsetup.support.doctor.model import Target
from sshsetup.vscode import settings as vscode_settings
from tests.support.doctor.test_checks_local import ctx, run

TB = Target("tb", "127.0.0.1", 22, site_id="tb")


def install(home: Path, extension: str | None = "ms-vscode-remote.remote-ssh-0.120.0", settings: str | None = None) -> Path:
    user = home / ".config" / "Code" / "User"
    user.mkdir(parents=True)
    ext = home / ".vscode" / "extensions"
    ext.mkdir(parents=True)
    if extension:
        (ext / extension).mkdir()
    (ext / "ms-vscode-remote.remote-ssh-edit-0.87.0").mkdir()  # not the extension itself
    if settings is not None:
        (user / "settings.json").write_text(settings)
    return user / "settings.json"


def test_not_installed_skips(fake_home: Path) -> None:
    res = run(checks_vscode.CHECKS, ctx(TB))
    assert {r.status for r in res.values()} == {S.SKIP}
    assert res["vscode.installed"].summary == "VS Code is not installed for this user (no user-data folder)"


def test_installed_without_extension_or_settings(fake_home: Path) -> None:
    install(fake_home, extension=None)
    res = run(checks_vscode.CHECKS, ctx(TB))
    assert (res["vscode.installed"].status, res["vscode.installed"].summary) == (S.OK, "VS Code")
    r = res["vscode.remote-ssh"]
    assert (r.status, r.hint) == (S.FAIL, "install it: code --install-extension ms-vscode-remote.remote-ssh (or from the Extensions view)")
    r = res["vscode.settings"]
    assert r.status is S.WARN and r.summary == 'VS Code: remote.SSH.remotePlatform.tb is not set (want "linux") (+5 more)'
    assert r.hint == "write them with sshsetup init (it sets the Remote-SSH settings for your hosts)"


def test_settings_as_init_writes_them(fake_home: Path) -> None:
    text, _ = vscode_settings.apply_settings('{\n  // mine\n  "editor.fontSize": 14\n}\n', vscode_settings.Desired(("tb",)))
    install(fake_home, settings=text)
    res = run(checks_vscode.CHECKS, ctx(TB))
    assert [res[i].status for i in ("vscode.installed", "vscode.remote-ssh", "vscode.settings")] == [S.OK] * 3
    assert res["vscode.remote-ssh"].summary == "VS Code: ms-vscode-remote.remote-ssh-0.120.0"


def test_changed_value_and_broken_json(fake_home: Path) -> None:
    text, _ = vscode_settings.apply_settings("{}", vscode_settings.Desired(("tb",)))
    f = install(fake_home, settings=text.replace('"remote.SSH.connectTimeout": 60', '"remote.SSH.connectTimeout": 15'))
    r = run(checks_vscode.CHECKS, ctx(TB))["vscode.settings"]
    assert (r.status, r.summary) == (S.WARN, "VS Code: remote.SSH.connectTimeout is 15 (want 60)")
    f.write_text('{"remote.SSH.connectTimeout": 60,,}')
    r = run(checks_vscode.CHECKS, ctx(TB))["vscode.settings"]
    assert r.status is S.FAIL and r.summary.startswith(str(f))
    assert r.hint == f"fix the JSON syntax (VS Code: Preferences: Open User Settings (JSON)): {f}"
