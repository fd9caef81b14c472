"""``sshsetup.initplan``: the pre-write check, all-or-nothing writes, modes, hand-written entries.

Every case runs the real ``ssh -G`` on real files in a temporary HOME. "Nothing changed" is
checked on every byte of the HOME (backups included: a refusal makes none).
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshsetup import initplan
from sshsetup.errors import Refused
from sshsetup.paths import Paths
from tests.helpers import run_cli


def config(home: Path) -> Path:
    return home / ".ssh" / "config"


def tree(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every entry under root: mode and bytes (None for a directory), to prove nothing changed."""
    out: dict[str, tuple[int, bytes | None]] = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = (st.st_mode, p.read_bytes() if stat.S_ISREG(st.st_mode) else None)
    return out


COURSE = "Host booster\n  HostName juwels-booster.fz-juelich.de\n  User [ADD YOUR USERNAME HERE]\n"
KEYCHAIN = "Host *\n  AddKeysToAgent yes\n  UseKeychain yes\n  IdentityFile ~/.ssh/id_ed25519\n"
NBSP = "Host x\n\u00a0\u00a0HostName x.example.org\n"


@pytest.mark.parametrize(
    ("text", "line", "ssh_says", "hint"),
    [
        pytest.param(
            KEYCHAIN, 3, ["{cfg}: line 3: Bad configuration option: usekeychain", "{cfg}: terminating, 1 bad configuration options"],
            "UseKeychain (line 3 of {cfg}) is known only to Apple's ssh: put the line 'IgnoreUnknown UseKeychain' at the top "
            "of that file, then run sshsetup init again", id="usekeychain-on-linux"),
        pytest.param(
            COURSE, 3, ["{cfg} line 3: keyword user extra arguments at end of line", "{cfg}: terminating, 1 bad configuration options"],
            "line 3 of {cfg} still holds the placeholder '[ADD YOUR USERNAME HERE]' of a course snippet: put your own value "
            "there (or delete that entry: sshsetup writes its own), then run sshsetup init again", id="course-placeholder"),
        pytest.param(
            NBSP, 2, ["{cfg}: line 2: Bad configuration option: \\302\\240\\302\\240hostname",
                      "{cfg}: terminating, 1 bad configuration options"],
            "line 2 of {cfg} contains non-breaking spaces (pasted from a web page or PDF); retype them as ordinary spaces, "
            "then run sshsetup init again", id="non-breaking-spaces"),
    ],
)
@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
def test_a_config_ssh_rejects_is_refused_with_ssh_s_own_words(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path,
                                                             text: str, line: int, ssh_says: list[str], hint: str,
                                                             dry_run: bool) -> None:
    cfg = config(fake_home)
    cfg.write_text(text)
    cfg.chmod(0o644)
    before = tree(fake_home)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", *(["--dry-run"] if dry_run else []))
    assert r.rc == 1
    assert r.err.splitlines() == [
        f"error: ssh rejects {cfg}, so sshsetup changed nothing: " + "; ".join(s.format(cfg=cfg) for s in ssh_says),
        f"hint: {hint.format(cfg=cfg)}",
    ]
    assert r.out == ""
    assert tree(fake_home) == before  # no backup, no temp file, no directory, no mode change


def test_an_included_file_is_named_with_its_own_line(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    inc = fake_home / "mac.conf"
    inc.write_text("# from my Mac\nUseKeychain yes\n")
    config(fake_home).write_text(f"Include {inc}\nHost a\n  HostName a.org\n")
    before = tree(fake_home)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes")
    assert r.rc == 1
    assert f": {inc}: line 2: Bad configuration option: usekeychain; " in r.err.splitlines()[0]
    assert r.err.splitlines()[-1] == (f"hint: UseKeychain (line 2 of {inc}) is known only to Apple's ssh: put the line "
                                      "'IgnoreUnknown UseKeychain' at the top of that file, then run sshsetup init again")
    assert tree(fake_home) == before


def test_with_ignore_unknown_the_same_config_is_fine(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    cfg = config(fake_home)
    cfg.write_text("IgnoreUnknown UseKeychain\n" + KEYCHAIN)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes")
    assert r.rc == 0, r.err
    assert "error:" not in r.err
    assert cfg.read_text().endswith("# END sshsetup\nIgnoreUnknown UseKeychain\n" + KEYCHAIN)


def test_without_an_ssh_client_nothing_is_written(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-ssh-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    before = tree(fake_home)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes")
    assert (r.rc, r.err.splitlines()) == (1, [
        "error: cannot check the ssh config: the OpenSSH client (ssh) is not installed; nothing was changed",
        "hint: install it (Debian/Ubuntu: apt install openssh-client; Windows: Settings > Optional features > OpenSSH Client), "
        "then run sshsetup init again"])
    assert tree(fake_home) == before


# ---- one outcome per run


def test_success_prints_no_error_and_a_refusal_no_outcome(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    ok = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes")
    assert ok.rc == 0 and "error:" not in ok.err and "Done:" in ok.err
    config(fake_home).write_text(NBSP + config(fake_home).read_text())
    bad = run_cli(capsys, "init", "--yes")
    assert bad.rc == 1 and "Done:" not in bad.err and "would create" not in bad.err and bad.err.startswith("error: ")


# ---- all or nothing


def _fill(mount: Path) -> None:
    fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.fixture
def full_vscode_dir(fake_home: Path) -> Iterator[Path]:
    """VS Code's settings directory on a full 64 KiB tmpfs: the third of init's three writes fails."""
    user = fake_home / ".config" / "Code" / "User"
    user.mkdir(parents=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(user)], capture_output=True, text=True)
    if r.returncode != 0:
        from tests.testbed.require import missing

        missing("a tmpfs mount for the full-disk case", r.stderr.strip())
    try:
        (user / "settings.json").write_text('{\n    "editor.fontSize": 13\n}\n')
        _fill(user)
        yield user
    finally:
        subprocess.run(["umount", str(user)], check=False)


def test_a_full_disk_at_the_third_write_leaves_everything_as_it_was(capsys: pytest.CaptureFixture[str], fake_home: Path,
                                                                   key: Path, full_vscode_dir: Path) -> None:
    cfg = config(fake_home)
    cfg.write_text("Host mine\n  HostName mine.example.org\n")
    run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode")  # a manifest exists: three updates
    cfg.write_text(cfg.read_text() + "# edited since\n")
    before = tree(fake_home)
    r = run_cli(capsys, "init", "--yes", "--site", "jusuf")
    assert (r.rc, r.err.splitlines()[-2:]) == (1, [f"error: cannot write {full_vscode_dir / 'settings.json'}: the disk is full",
                                                   "hint: free some space, then run sshsetup again"])
    assert "Done:" not in r.err
    assert tree(fake_home) == before  # the config and the manifest too: not replaced, no backup, no temp file


# ---- modes


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_directories_sshsetup_creates_are_0700_under_any_umask(capsys: pytest.CaptureFixture[str], fake_home: Path,
                                                               tmp_path: Path, umask: int) -> None:
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery\n")
    (fake_home / ".config" / "Code" / "User").mkdir(parents=True)  # VS Code installed; its own directories are not ours
    old = os.umask(umask)
    try:
        r = run_cli(capsys, "init", "--user", "smith1", "--passphrase-file", str(pw), "--yes")
    finally:
        os.umask(old)
    assert r.rc == 0, r.err
    made = [fake_home / ".ssh", fake_home / ".local", fake_home / ".local" / "state", fake_home / ".local" / "state" / "sshsetup"]
    assert {str(d.relative_to(fake_home)): oct(stat.S_IMODE(d.stat().st_mode)) for d in made} == {
        str(d.relative_to(fake_home)): "0o700" for d in made}
    assert stat.S_IMODE(config(fake_home).stat().st_mode) == 0o600
    assert stat.S_IMODE((fake_home / ".ssh" / "id_ed25519_jsc").stat().st_mode) == 0o600


# ---- hand-written entries for the managed machines


def _paths(home: Path) -> Paths:
    return Paths.from_env({"HOME": str(home)})


def test_a_hand_written_entry_for_a_managed_host_is_named_and_compared(fake_home: Path, key: Path) -> None:
    cfg = config(fake_home)
    mine = ("# from the course\nHost booster\n  HostName juwels-booster.fz-juelich.de\n  User other1\n"
            "  IdentityFile ~/.ssh/id_rsa\nHost *.booster\n  ProxyJump booster\nHost github.com\n  User git\n")
    cfg.write_text(mine)
    paths = _paths(fake_home)
    opts = initplan.InitOptions(user="smith1", key=key, yes=True, vscode=False)
    plan = initplan.build_plan(paths, opts, None)
    (hw,) = plan.hand_written
    ours = paths.ssh_tilde(key)
    assert (hw.file, hw.line, hw.alias, hw.site_id, hw.managed_alias) == (cfg, 2, "booster", "juwels-booster", "jsc-booster")
    assert (hw.user, hw.our_user, hw.identity_files[0], hw.our_identity_file) == ("other1", "smith1", "~/.ssh/id_rsa", ours)
    assert not hw.same_user and not hw.same_key and not hw.adopted
    assert hw.note() in plan.notes
    assert hw.note() == (f"note: {cfg}:2: your own 'Host booster' reaches juwels-booster.fz-juelich.de too (user other1 "
                         f"(sshsetup: smith1), key ~/.ssh/id_rsa (sshsetup: {ours})); sshsetup leaves it alone and adds "
                         "'jsc-booster'. To use your name instead: --alias juwels-booster=booster")
    res = initplan.execute(paths, plan, opts, None, lambda _d: None)
    assert res.hand_written == plan.hand_written
    assert cfg.read_text().endswith("# END sshsetup\n" + mine)  # the user's lines are never edited


def test_adopting_the_user_s_alias_for_the_managed_entry(fake_home: Path, key: Path) -> None:
    cfg = config(fake_home)
    mine = "Host booster\n  HostName juwels-booster.fz-juelich.de\n  User other1\n  ForwardX11 yes\n"
    cfg.write_text(mine)
    paths = _paths(fake_home)
    opts = initplan.InitOptions(user="smith1", key=key, yes=True, vscode=False, sites=("juwels-booster",),
                                aliases=(("juwels-booster", "booster"),))
    plan = initplan.build_plan(paths, opts, None)
    assert [s.alias for s in plan.sites] == ["booster"]
    (hw,) = plan.hand_written
    assert hw.adopted and hw.note().startswith(f"note: {cfg}:1: your own 'Host booster' now gets the managed settings first;")
    initplan.execute(paths, plan, opts, None, lambda _d: None)
    assert cfg.read_text().endswith(mine)  # never edited
    g = dict(ln.split(" ", 1) for ln in subprocess.run(["ssh", "-T", "-G", "-F", str(cfg), "booster"], capture_output=True,
                                                       text=True, check=True).stdout.splitlines())
    assert (g["user"], g["identityfile"], g["forwardx11"]) == ("smith1", str(key), "yes")  # ours first, theirs kept
    again = initplan.build_plan(paths, initplan.InitOptions(yes=True, vscode=False), None)  # remembered
    assert [s.alias for s in again.sites] == ["booster"]


def test_an_alias_for_a_site_not_set_up_is_refused(fake_home: Path, key: Path) -> None:
    from sshsetup.errors import BadInput

    opts = initplan.InitOptions(user="smith1", key=key, vscode=False, sites=("jusuf",), aliases=(("juwels-booster", "b"),))
    with pytest.raises(BadInput) as info:
        initplan.build_plan(_paths(fake_home), opts, None)
    assert info.value.message == "--alias juwels-booster=...: juwels-booster is not one of the sites being set up"


def test_the_plan_is_frozen(fake_home: Path, key: Path) -> None:
    import dataclasses

    plan = initplan.build_plan(_paths(fake_home), initplan.InitOptions(user="smith1", key=key, vscode=False), None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.user = "x"  # type: ignore[misc]
    assert isinstance(plan.changes, tuple) and isinstance(plan.notes, tuple)
    contents = initplan.compute_contents(_paths(fake_home), plan, vscode=False)
    assert contents.changes == plan.changes  # from the same disk: the same bytes, and the plan is untouched


def test_the_check_refuses_a_value_that_would_not_win(fake_home: Path, key: Path) -> None:
    """The check compares every keyword with the block alone: a block not at the top would be refused."""
    paths = _paths(fake_home)
    plan = initplan.build_plan(paths, initplan.InitOptions(user="smith1", key=key, vscode=False, sites=("jusuf",)), None)
    block = initplan.rendered_block(plan)
    shadowed = b"User someoneelse\nServerAliveInterval 5\n" + block.encode()
    contents = initplan.Contents((initplan.files.FileChange(paths.ssh_config, shadowed),), (), {}, False)
    with pytest.raises(Refused) as info:
        initplan.check(paths, plan, contents)
    assert info.value.message == ("ssh would not use what sshsetup writes (jsc-jusuf: user would be 'someoneelse', not 'smith1'; "
                                  "jsc-jusuf: serveraliveinterval would be '5', not '60'); nothing was changed")
