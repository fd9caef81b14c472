"""Concurrency: 20 ``sshsetup init`` processes at once on the same HOME.

With the same options, and with differing options (other --site sets, compute nodes on/off,
another client), the result must be: every run succeeds; exactly one valid managed block; every
byte outside it is the user's; the config equals what one of the option sets gives when run
alone; ``ssh -G`` parses it for every managed alias; no temp files are left; settings.json and the
manifest still parse; and ``remove`` afterwards restores the user's original files.

``SSHSETUP_CONCURRENCY_ROUNDS`` (default 2) repeats each scenario for more interleavings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyjson5
import pytest

from sshsetup import initplan as init_cmd
from sshsetup import removeplan as remove_cmd
from sshsetup.paths import Paths
from tests.helpers import environ, run_cli
from tests.test_crash_safety import USER_CONFIG, USER_SETTINGS, env_for, in_process

ROUNDS = int(os.environ.get("SSHSETUP_CONCURRENCY_ROUNDS", "2"))
N = 20


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    k = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-C", "t@h", "-f", str(k)], check=True)
    return k


def option_sets(key: Path, differing: bool) -> list[list[str]]:
    base = ["init", "--yes", "--user", "smith1", "--key", str(key)]
    if not differing:
        return [base + ["--site", "juwels-booster", "--site", "jusuf"]] * N
    # every option explicit: with a remembered option (no --site, say) a run would legitimately
    # combine its options with those of the block another run wrote just before
    variants = [
        ["--site", "juwels-booster", "--no-compute-nodes"],
        ["--site", "jusuf", "--site", "jureca-dc", "--compute-nodes"],
        ["--site", "jupiter", "--site", "judac", "--site", "juwels-cluster", "--no-compute-nodes"],
        ["--site", "jusuf", "--client", "windows", "--no-compute-nodes"],
        ["--user", "other2", "--site", "juwels-booster", "--site", "jusuf", "--no-compute-nodes"],
    ]
    return [base + variants[i % len(variants)] for i in range(N)]


def make_home(root: Path) -> Path:
    home = root / "home"
    if home.exists():
        shutil.rmtree(home)
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    (home / ".config" / "Code" / "User").mkdir(parents=True)
    (home / ".ssh" / "config").write_bytes(USER_CONFIG)
    (home / ".config" / "Code" / "User" / "settings.json").write_bytes(USER_SETTINGS)
    return home


def run_alone(root: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> bytes:
    home = make_home(root)
    with environ(in_process(env_for(home, None))):
        r = run_cli(capsys, *args)
    assert r.rc == 0, r.err
    return (home / ".ssh" / "config").read_bytes()


def outside_block(data: bytes) -> bytes:
    begins = re.findall(rb"(?m)^# BEGIN sshsetup", data)
    ends = re.findall(rb"(?m)^# END sshsetup", data)
    assert len(begins) == 1 and len(ends) == 1, f"not exactly one managed block:\n{data.decode()}"
    return re.sub(rb"(?ms)^# BEGIN sshsetup.*?^# END sshsetup[^\r\n]*(\r\n|\n)?", b"", data)


@pytest.mark.parametrize("differing", [False, True], ids=["same-options", "differing-options"])
def test_twenty_concurrent_inits(differing: bool, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sets = option_sets(key, differing)
    distinct = [list(a) for a in dict.fromkeys(tuple(a) for a in sets)]
    alone = {run_alone(tmp_path, a, capsys) for a in distinct}  # the config each option set gives by itself
    for rnd in range(ROUNDS):
        home = make_home(tmp_path)
        env = env_for(home, None)
        t = time.monotonic()
        procs = [subprocess.Popen([sys.executable, "-m", "sshsetup", *a], env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for a in sets]
        errs = [p.communicate(timeout=120)[1].decode() for p in procs]
        took = time.monotonic() - t
        for p, err in zip(procs, errs, strict=True):
            assert p.returncode == 0, err
        cfg = home / ".ssh" / "config"
        data = cfg.read_bytes()
        assert outside_block(data) == USER_CONFIG, "user bytes outside the block were lost or changed"
        assert data in alone, f"round {rnd}: the config is none of the single-run results:\n{data.decode()}"
        aliases = re.findall(rb"(?m)^Host (\S+)\r?$", data.split(b"# END sshsetup")[0])
        assert aliases
        for alias in aliases:
            g = subprocess.run(["ssh", "-T", "-G", "-F", str(cfg), alias.decode()], capture_output=True, text=True)
            assert g.returncode == 0, g.stderr
        temps = [str(p) for p in home.rglob("*.sshsetup-tmp")]
        assert temps == [], temps
        pyjson5.decode((home / ".config" / "Code" / "User" / "settings.json").read_text())
        json.loads((home / ".local" / "state" / "sshsetup" / "manifest.json").read_text())
        with environ(in_process(env)):
            r = run_cli(capsys, "remove", "--yes")
        assert r.rc == 0, r.err
        assert cfg.read_bytes() == USER_CONFIG
        assert (home / ".config" / "Code" / "User" / "settings.json").read_bytes() == USER_SETTINGS
        print(f"\nconcurrency ({'differing' if differing else 'same'} options) round {rnd}: {N} inits in {took:.1f} s", file=sys.__stderr__)


def test_stale_manifest_read_keeps_the_settings_record(key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The interleaving of the race, made deterministic: A reads the manifest, B runs, A reads settings.json."""
    home = make_home(tmp_path)
    env = env_for(home, None)
    manifest = home / ".local" / "state" / "sshsetup" / "manifest.json"
    with environ(in_process(env)):
        paths = Paths.from_env()
        opts_a = init_cmd.InitOptions(sites=("jusuf",), user="smith1", key=key, yes=True)
        assert run_cli(capsys, "init", "--yes", "--user", "smith1", "--key", str(key), "--site", "juwels-booster").rc == 0  # B
        b_manifest = manifest.read_bytes()
        manifest.unlink()  # A read the manifest before B wrote it ...
        plan_a = init_cmd.build_plan(paths, opts_a, None)  # ... and settings.json after
        manifest.write_bytes(b_manifest)
        init_cmd.execute(paths, plan_a, opts_a, None, lambda _d: None)
        remove_cmd.run(paths, dry_run=False, yes=True, confirm=None, show_diff=lambda _d: None)
    assert (home / ".ssh" / "config").read_bytes() == USER_CONFIG
    assert (home / ".config" / "Code" / "User" / "settings.json").read_bytes() == USER_SETTINGS
