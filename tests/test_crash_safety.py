"""Crash safety: SIGKILL ``python -m sshsetup init`` at many points, then check what is on disk.

Kills come from two sources: the test hook (``SSHSETUP_TEST_HOOK_DIR``: the process pauses at a
named checkpoint, and is killed while paused) for every checkpoint a full run reaches, and random
delays that land between checkpoints. After each kill:

* every file init writes (~/.ssh/config, VS Code's settings.json, the manifest) holds exactly its
  old or its new bytes;
* where the config or settings.json already holds the new bytes, a backup holds the old ones;
* the next ``init --yes`` recovers (also after a kill while holding the lock: flock dies with the
  process) and gives exactly the bytes of an uninterrupted run, and ``remove`` then restores the
  user's original files;
* a new private key is absent, or complete and 0600.

The subprocesses get an explicit environment: HOME and XDG_* in a temporary directory, the IP echo
and RDAP services on a closed loopback port. ``SSHSETUP_CRASH_ROUNDS`` scales the random kills.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import environ, run_cli
from tests.timing import budget

ROUNDS = int(os.environ.get("SSHSETUP_CRASH_ROUNDS", "1"))
PASS = "correct horse battery"
USER_CONFIG = b"# mine\r\nServerAliveInterval=30\r\n\r\nHost old\r\n\tHostName old.example.org\r\n  User \"me\"\r\n"
USER_SETTINGS = b'// my settings\n{\n  "editor.fontSize": 13, // big\n  "remote.SSH.connectTimeout": 15,\n}\n'
TRACKED = (".ssh/config", ".config/Code/User/settings.json", ".local/state/sshsetup/manifest.json")
BACKED_UP = (".ssh/config", ".config/Code/User/settings.json")
STATS: dict[str, int] = {}


def _count(what: str, n: int = 1) -> None:
    STATS[what] = STATS.get(what, 0) + n


def env_for(home: Path, hook: Path | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "SSHSETUP_IP_ECHO_URLS": "http://127.0.0.1:9/",
        "SSHSETUP_RDAP_URL": "http://127.0.0.1:9/",
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith("COVERAGE")})
    if hook is not None:
        env["SSHSETUP_TEST_HOOK_DIR"] = str(hook)
    return env


def snapshot(home: Path) -> dict[str, bytes]:
    return {rel: (home / rel).read_bytes() for rel in TRACKED if (home / rel).is_file()}


def in_process(env: dict[str, str]) -> dict[str, str]:
    """``env_for``'s variables for an in-process run: the test's own PATH stays."""
    return {k: v for k, v in env.items() if k not in ("PATH", "SSHSETUP_TEST_HOOK_DIR")}


@dataclass
class Scenario:
    """A pristine HOME (kept as a copy), the init arguments, and the bytes an uninterrupted run gives."""

    name: str
    home: Path
    pristine: Path
    args: list[str]
    hook: Path
    old: dict[str, bytes] = field(default_factory=dict)
    new: dict[str, bytes] = field(default_factory=dict)
    original: dict[str, bytes] = field(default_factory=dict)  # before sshsetup ever ran: what remove restores
    runtime: float = 0.3
    checkpoints: list[str] = field(default_factory=list)

    def restore(self) -> None:
        shutil.rmtree(self.home)
        shutil.copytree(self.pristine, self.home, symlinks=True)
        for f in self.hook.iterdir():
            f.unlink()

    def spawn(self, hook: bool = True) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "sshsetup", *self.args],
            env=env_for(self.home, self.hook if hook else None),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def reached(self) -> list[str]:
        f = self.hook / "reached"
        return f.read_text().split() if f.exists() else []


def make_scenario(root: Path, name: str, args: list[str], setup: Callable[[Scenario], dict[str, bytes]]) -> Scenario:
    home = root / name / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    (home / ".config" / "Code" / "User").mkdir(parents=True)  # VS Code "installed": settings.json is written too
    hook = root / name / "hook"
    hook.mkdir()
    sc = Scenario(name, home, root / name / "pristine", [a.replace("{home}", str(home)) for a in args], hook)
    sc.original = setup(sc)
    shutil.copytree(home, sc.pristine, symlinks=True)
    sc.old = snapshot(home)
    runs = []
    for _ in range(2):
        sc.restore()
        t = time.monotonic()
        p = sc.spawn()
        _, err = p.communicate(timeout=60)
        runs.append(time.monotonic() - t)
        assert p.returncode == 0, err.decode()
    sc.runtime = min(runs)
    sc.new = snapshot(home)
    sc.checkpoints = list(dict.fromkeys(sc.reached()))
    assert sc.new != sc.old
    sc.restore()
    return sc


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("key")
    k = d / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-C", "t@h", "-f", str(k)], check=True)
    return k


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory, key: Path) -> list[Scenario]:
    root = tmp_path_factory.mktemp("crash")
    base = ["init", "--yes", "--user", "smith1", "--key", str(key)]

    def fresh(sc: Scenario) -> dict[str, bytes]:
        return {}

    def user_files(sc: Scenario) -> dict[str, bytes]:
        (sc.home / ".ssh" / "config").write_bytes(USER_CONFIG)
        (sc.home / ".ssh" / "config").chmod(0o644)
        (sc.home / ".config" / "Code" / "User" / "settings.json").write_bytes(USER_SETTINGS)
        return {".ssh/config": USER_CONFIG, ".config/Code/User/settings.json": USER_SETTINGS}

    def rerun(sc: Scenario) -> dict[str, bytes]:
        orig = user_files(sc)
        p = subprocess.run([sys.executable, "-m", "sshsetup", *base, "--site", "jusuf"], env=env_for(sc.home, None), capture_output=True)
        assert p.returncode == 0, p.stderr.decode()
        return orig

    return [
        make_scenario(root, "fresh", base, fresh),
        make_scenario(root, "user-files", [*base, "--compute-nodes"], user_files),
        make_scenario(root, "rerun-other-sites", [*base, "--site", "juwels-booster", "--site", "jureca-dc"], rerun),
    ]


def check_after_kill(sc: Scenario, where: str) -> None:
    now = snapshot(sc.home)
    for rel in TRACKED:
        cur = now.get(rel)
        assert cur in (sc.old.get(rel), sc.new.get(rel)), f"{sc.name}, killed at {where}: {rel} is neither old nor new:\n{cur!r}"
        if cur is not None and cur == sc.new.get(rel) and cur != sc.old.get(rel):
            _count("files found new")
            if rel in BACKED_UP and rel in sc.old:
                backups = list((sc.home / rel).parent.glob(Path(rel).name + ".sshsetup-backup-*"))
                assert sc.old[rel] in [b.read_bytes() for b in backups], f"{sc.name}, {where}: {rel} updated without a backup"
        if rel == ".ssh/config" and cur is not None and rel not in sc.old:
            assert stat.S_IMODE((sc.home / rel).stat().st_mode) == 0o600
    temps = [p for p in sc.home.rglob("*.sshsetup-tmp")]
    _count("leftover temp files", len(temps))
    for t in temps:  # a temp file never has wider permissions than the file it would replace
        assert stat.S_IMODE(t.stat().st_mode) & 0o077 in (0, 0o044), t
        if t.name.startswith(".id_") and ".pub." not in t.name:  # (part of) a private key
            assert stat.S_IMODE(t.stat().st_mode) == 0o600, t
            _count("left-over private key temp files (0600)")


def recover(sc: Scenario, capsys: pytest.CaptureFixture[str], via_subprocess: bool, where: str = "") -> None:
    """The next init --yes gives the bytes of an uninterrupted run; remove gives back the originals."""
    if via_subprocess:
        t = time.monotonic()
        p = sc.spawn(hook=False)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
        assert time.monotonic() - t < budget(0.0, 10.0, below=30.0), "the next run waited for a lock of a dead process"  # 30 s: the lock's timeout
        _count("recoveries (subprocess)")
    else:
        with environ(in_process(env_for(sc.home, None))):
            r = run_cli(capsys, *sc.args)
        assert r.rc == 0, r.err
        _count("recoveries (in-process)")
    assert snapshot(sc.home) == sc.new, f"{sc.name}, killed at {where}: the next run did not give the uninterrupted result"
    with environ(in_process(env_for(sc.home, None))):
        r = run_cli(capsys, "remove", "--yes")
    assert r.rc == 0, r.err
    for rel in BACKED_UP:
        cur = (sc.home / rel).read_bytes() if (sc.home / rel).exists() else None
        assert cur == sc.original.get(rel), f"{sc.name}, killed at {where}: remove after the next run left {rel} as {cur!r}"


def remove_restores(sc: Scenario, capsys: pytest.CaptureFixture[str], where: str) -> None:
    with environ(in_process(env_for(sc.home, None))):
        r = run_cli(capsys, "remove", "--yes")
    assert r.rc == 0, r.err
    for rel in BACKED_UP:
        cur = (sc.home / rel).read_bytes() if (sc.home / rel).exists() else None
        assert cur == sc.original.get(rel), f"{sc.name}, killed at {where}: remove right after the crash left {rel} as {cur!r}"
    _count("removes right after a crash")


def kill_at_checkpoint(sc: Scenario, name: str) -> None:
    pause = sc.hook / f"pause-{name}"
    pause.touch()
    p = sc.spawn()
    deadline = time.monotonic() + 30
    while name not in sc.reached():
        assert p.poll() is None, f"{sc.name}: exited before reaching {name}: {p.stderr.read().decode() if p.stderr else ''}"
        assert time.monotonic() < deadline, f"{sc.name}: {name} not reached"
        time.sleep(0.003)
    p.send_signal(signal.SIGKILL)
    p.wait()
    pause.unlink()
    _count("kills at a checkpoint")


def kill_after(sc: Scenario, delay: float) -> bool:
    """SIGKILL after ``delay`` seconds; False if the run had already finished (it then teaches sc.runtime)."""
    t = time.monotonic()
    p = sc.spawn(hook=False)
    time.sleep(delay)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        p.wait()
        _count("kills after a random delay")
        return True
    sc.runtime = min(sc.runtime, time.monotonic() - t)
    _count("random delays after the run had finished")
    return False


def test_kill_init_anywhere(scenarios: list[Scenario], capsys: pytest.CaptureFixture[str]) -> None:
    rnd = random.Random(os.environ.get("SSHSETUP_CRASH_SEED", "5"))
    STATS.clear()
    n = 0
    started = time.monotonic()
    for sc in scenarios:
        assert {"before-rename:config", "before-rename:manifest.json", "before-rename:settings.json", "init-written"} <= set(sc.checkpoints)
        plan: list[str] = [c for c in sc.checkpoints for _ in range(5 * ROUNDS)] + ["delay"] * (48 * ROUNDS)
        rnd.shuffle(plan)
        for kind in plan:
            sc.restore()
            if kind != "delay":
                kill_at_checkpoint(sc, kind)
                where = f"checkpoint {kind}"
            else:
                # half anywhere in 0-300 ms (start-up, imports, planning), half in the write window
                # (the last ~half of a run); a run that finished first is retried with a new delay
                for _ in range(20):
                    d = rnd.uniform(0, min(0.3, sc.runtime)) if rnd.random() < 0.5 else rnd.uniform(0.45, 1.0) * sc.runtime
                    if kill_after(sc, d):
                        break
                    sc.restore()
                where = f"delay {d * 1000:.0f} ms"
            check_after_kill(sc, where)
            if n % 4 == 3:  # the user runs remove straight after the crash: the originals come back
                remove_restores(sc, capsys, where)
            else:
                recover(sc, capsys, via_subprocess=(n % 10 == 0), where=where)
            n += 1
    took = time.monotonic() - started
    kills = STATS.get("kills at a checkpoint", 0) + STATS.get("kills after a random delay", 0)
    print(f"\ncrash safety: {n} runs, {kills} kills in {took:.1f} s; {STATS}", file=sys.__stderr__)
    assert kills >= 200 * ROUNDS


# ---------------------------------------------------------------- a new key


@pytest.fixture(scope="module")
def keygen(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("crash-key")
    (root / "pw").write_text(PASS + "\n")
    args = ["init", "--yes", "--user", "smith1", "--passphrase-file", str(root / "pw"), "--site", "jusuf"]
    return make_scenario(root, "new-key", args, lambda sc: {})


def key_state(sc: Scenario) -> tuple[Path, Path]:
    k = sc.home / ".ssh" / "id_ed25519_jsc"
    return k, Path(str(k) + ".pub")


def key_is_valid(k: Path) -> bool:
    p = subprocess.run(["ssh-keygen", "-y", "-P", PASS, "-f", str(k)], capture_output=True, text=True)
    return p.returncode == 0


def check_key(sc: Scenario, where: str) -> None:
    k, pub = key_state(sc)
    if k.exists():
        assert stat.S_IMODE(k.stat().st_mode) == 0o600, f"{where}: private key mode {oct(k.stat().st_mode)}"
        assert key_is_valid(k), f"{where}: a private key that is not a complete key is left at {k} ({k.stat().st_size} bytes)"
        if pub.exists():
            derived = subprocess.run(["ssh-keygen", "-y", "-P", PASS, "-f", str(k)], capture_output=True, text=True).stdout.split()[:2]
            assert pub.read_text().split()[:2] == derived, f"{where}: .pub does not match the key"
    else:
        assert not pub.exists(), f"{where}: a .pub without its private key"


def recover_key(sc: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    with environ(in_process(env_for(sc.home, None))):
        r = run_cli(capsys, *sc.args)
    assert r.rc == 0, f"the next run after a kill does not recover: {r.err}"
    k, pub = key_state(sc)
    assert key_is_valid(k) and stat.S_IMODE(k.stat().st_mode) == 0o600
    assert snapshot(sc.home) == sc.new  # the config/manifest do not depend on the key's bytes


def test_kill_while_creating_a_key(keygen: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    """Kills at every checkpoint of a run that creates a key (twice each), and random kills during
    key generation (bcrypt, ~0.8 s): the key is absent or complete and 0600, the .pub matches it."""
    sc = keygen
    assert {"key-opened", "key-written", "before-rename:id_ed25519_jsc.pub"} <= set(sc.checkpoints)
    rnd = random.Random(7)
    STATS.clear()
    points: list[tuple[str, float | str]] = [("hook", c) for c in sc.checkpoints for _ in range(2)]
    points += [("delay", rnd.uniform(0.3, 1.0) * sc.runtime) for _ in range(8)]
    for kind, arg in points:
        sc.restore()
        if kind == "hook":
            kill_at_checkpoint(sc, str(arg))
        else:
            kill_after(sc, float(arg))
        check_key(sc, f"{kind} {arg}")
        check_after_kill(sc, f"{kind} {arg}")  # also: a left-over key temp file is 0600
        recover_key(sc, capsys)
    print(f"\ncrash safety (new key): checkpoints {sc.checkpoints}; {STATS}", file=sys.__stderr__)


def test_kill_after_key_opened_leaves_no_broken_key(keygen: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    sc = keygen
    sc.restore()
    kill_at_checkpoint(sc, "key-opened")
    check_key(sc, "hook key-opened")
    recover_key(sc, capsys)


@pytest.mark.parametrize("size", [20, 40, 60, 80])
def test_a_key_cut_short_is_refused_not_a_crash(size: int, key: Path, capsys: pytest.CaptureFixture[str], fake_home: Path) -> None:
    """A private key cut short by a crash once raised struct.error inside inspect_key (exit 3)."""
    cut = fake_home / "cut"
    cut.write_bytes(key.read_bytes()[:size])
    r = run_cli(capsys, "init", "--yes", "--user", "smith1", "--key", str(cut))
    assert r.rc == 2 and "Traceback" not in r.err, r.err
    first, hint = r.err.splitlines()[:2]
    assert first.startswith(f"error: {cut} ") and hint.startswith("hint: "), r.err
    if size == 60:  # the size that reached struct.unpack on a truncated blob
        assert first == f"error: {cut} is an incomplete OpenSSH private key"
