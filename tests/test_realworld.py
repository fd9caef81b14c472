"""sshsetup's guarantees on the shapes of real users' files (tests/data/realworld, sources in its README).

For every ssh config: ``init`` either succeeds, and then

* ``ssh -G`` of every user alias (and of a few other names) prints exactly what it printed before;
* for every managed name, every keyword the block sets resolves as from the block alone
  (multi-valued ones such as IdentityFile: ours first);
* the user's bytes follow the block unchanged, a second ``init`` changes nothing, and ``remove``
  gives back the exact bytes;

or it is refused (a config ssh itself rejects), and then not one byte or mode in HOME changed.
For every settings.json and tasks.json: sshsetup's members go in and come out again byte for byte.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from sshsetup import files
from sshsetup.catalogue import load_catalogue
from sshsetup.ssh import handwritten
from sshsetup.vscode import tasks_file as vt
from sshsetup.vscode.jsonc import editor as jsonc
from tests.helpers import run_cli

DATA = Path(__file__).parent / "data" / "realworld"
CONFIGS = sorted(p.name for p in (DATA / "ssh").glob("*.conf"))
REFUSED = {
    "course-add-your-username.conf": "still holds the placeholder '[ADD YOUR USERNAME HERE]' of a course snippet",
    "macos-usekeychain.conf": "is known only to Apple's ssh: put the line 'IgnoreUnknown UseKeychain' at the top",
    "nbsp-indented.conf": "contains non-breaking spaces (pasted from a web page or PDF)",
}
OTHER_NAMES = ("github.com", "random.example.org", "gpu1", "x.github.com", "172.16.0.9", "localhost")
MULTI = ("identityfile", "certificatefile", "sendenv", "setenv")


def dump(config: Path, name: str) -> dict[str, list[str]]:
    proc = subprocess.run(["ssh", "-T", "-G", "-F", str(config), "--", name], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        k, _, v = line.partition(" ")
        out.setdefault(k, []).append(v)
    return out


def tree(root: Path) -> dict[str, tuple[int, bytes | None]]:
    return {str(p.relative_to(root)): (p.lstat().st_mode, p.read_bytes() if stat.S_ISREG(p.lstat().st_mode) else None)
            for p in sorted(root.rglob("*"))}


def install(name: str, home: Path, tmp_path: Path) -> bytes:
    inc = tmp_path / "inc"
    inc.mkdir()
    for f in ("site.conf", "linux", "darwin", "extra.conf"):
        (inc / f).write_text(f"# included {f}\nHost inc-{f.split('.')[0]}\n    HostName inc.example.org\n    User incuser\n")
    data = (DATA / "ssh" / name).read_bytes().replace(b"{INCLUDE_DIR}", str(inc).encode())
    (home / ".ssh" / "config").write_bytes(data)
    return data


def names(config: Path, home: Path) -> list[str]:
    found = [a for _, _, a in handwritten.host_lines(config.read_text(encoding="utf-8", errors="replace"), config, home / ".ssh")]
    return list(dict.fromkeys([*found, *OTHER_NAMES]))


def managed_entries(config: Path) -> list[tuple[str, list[str]]]:
    text = config.read_text()
    block = text[text.index("# BEGIN sshsetup") : text.index("# END sshsetup")]
    out: list[tuple[str, list[str]]] = []
    for ln in block.splitlines():
        if ln.startswith("Host ") and ln != "Host *":
            out.append((ln[5:], []))
        elif ln.startswith("    ") and out:
            out[-1][1].append(ln.split()[0].lower())
    return out


def matches(pattern: str, name: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)


@pytest.mark.parametrize("name", CONFIGS)
def test_init_and_remove_on_a_real_config(name: str, capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path,
                                          tmp_path: Path) -> None:
    original = install(name, fake_home, tmp_path)
    cfg = fake_home / ".ssh" / "config"
    args = ["init", "--user", "smith1", "--key", str(key), "--yes", "--compute-nodes", "--no-vscode"]
    if name in REFUSED:
        before = tree(fake_home)
        r = run_cli(capsys, *args)
        assert r.rc == 1, r.err
        assert r.err.startswith(f"error: ssh rejects {cfg}, so sshsetup changed nothing: {cfg}"), r.err
        assert REFUSED[name] in r.err.splitlines()[-1], r.err
        assert tree(fake_home) == before
        return
    user_names = names(cfg, fake_home)
    before = {n: dump(cfg, n) for n in user_names}
    r = run_cli(capsys, *args)
    assert r.rc == 0, r.err
    assert "error:" not in r.err
    new = cfg.read_bytes()
    assert new.startswith(b"# BEGIN sshsetup") and new.endswith(b"# END sshsetup" + (b"\r\n" if b"\r\n" in original else b"\n") + original)
    entries = managed_entries(cfg)
    # the user's names resolve exactly as before (those a managed pattern now matches are ours)
    for n in user_names:
        if not any(matches(p, n) for p, _ in entries):
            assert dump(cfg, n) == before[n], n
    # every keyword the block sets wins for every managed name
    ref = tmp_path / "block-only"
    ref.write_bytes(new[: new.index(b"# END sshsetup")])
    cat = load_catalogue(None, None)
    examples = {str(s.compute_node_pattern): str(s.get("compute_node_example")) for s in cat.values() if s.compute_node_pattern}
    for pattern, keywords in entries:
        target = examples.get(pattern, pattern)
        got, want = dump(cfg, target), dump(ref, target)
        for k in keywords:
            w = want.get(k, [])
            assert (got.get(k, [])[: len(w)] if k in MULTI else got.get(k)) == (w if k in MULTI else want.get(k)), (target, k)
    again = run_cli(capsys, "init", "--yes", "--no-vscode")
    assert again.rc == 0 and cfg.read_bytes() == new
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert cfg.read_bytes() == original


def test_the_course_s_hand_written_entries_are_named(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path,
                                                     tmp_path: Path) -> None:
    install("course-booster-filled.conf", fake_home, tmp_path)
    cfg = fake_home / ".ssh" / "config"
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode")
    assert r.rc == 0, r.err
    notes = [ln for ln in r.err.splitlines() if "your own 'Host" in ln]
    assert [ln.split(": your own")[0] for ln in notes] == [f"note: {cfg}:2", f"note: {cfg}:7"]
    assert "'Host jusuf' reaches jusuf.fz-juelich.de too (user course1 (sshsetup: smith1)" in notes[0]
    assert notes[1].endswith("To use your name instead: --alias juwels-booster=booster")


def test_a_placeholder_ssh_accepts_is_named_in_the_note(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path,
                                                        tmp_path: Path) -> None:
    install("course-booster-placeholder.conf", fake_home, tmp_path)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode")
    assert r.rc == 0, r.err
    notes = [ln for ln in r.err.splitlines() if "your own 'Host" in ln]
    assert len(notes) == 2 and all("user [MY_USERNAME] (a placeholder of a course snippet; sshsetup: smith1)" in n for n in notes)


# ---- VS Code files


SETTINGS = sorted(p.name for p in (DATA / "vscode").glob("settings-*.json"))
TASKS = sorted(p.name for p in (DATA / "vscode").glob("tasks-*.json"))


@pytest.mark.parametrize("name", SETTINGS)
def test_settings_go_in_and_come_out_byte_for_byte(name: str, capsys: pytest.CaptureFixture[str], fake_home: Path,
                                                   key: Path) -> None:
    user = fake_home / ".config" / "Code" / "User"
    user.mkdir(parents=True)
    original = (DATA / "vscode" / name).read_bytes()
    (user / "settings.json").write_bytes(original)
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes")
    assert r.rc == 0, r.err
    text = (user / "settings.json").read_text()
    value = jsonc.parse(text)
    assert value["remote.SSH.remotePlatform"] == {"jsc-booster": "linux", "jsc-jusuf": "linux"}
    assert all(value[k] == v for k, v in jsonc.parse(original.decode()).items())  # the user's members are all there
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert (user / "settings.json").read_bytes() == original


@pytest.mark.parametrize("name", TASKS)
def test_tasks_go_in_and_come_out_byte_for_byte(name: str, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".vscode").mkdir(parents=True)
    original = (DATA / "vscode" / name).read_bytes()
    (ws / ".vscode" / "tasks.json").write_bytes(original)
    res = vt.vscode_tasks(load_catalogue(None, None), "juwels-booster", ws, "myproject", yes=True)
    assert [o.verb for o in res.outcomes] == [files.Verb.UPDATE]
    assert res.record == vt.TasksRecord(existed=True, original=None, version_added=False)
    labels = [t["label"] for t in jsonc.parse((ws / ".vscode" / "tasks.json").read_text())["tasks"]]
    assert labels[: len(jsonc.parse(original.decode())["tasks"])] == [t["label"] for t in jsonc.parse(original.decode())["tasks"]]
    change = vt.remove_change(ws, res.record)
    assert change is not None
    files.apply(files.plan([change]), dry_run=False)
    assert (ws / ".vscode" / "tasks.json").read_bytes() == original
