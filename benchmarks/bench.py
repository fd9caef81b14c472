"""sshsetup's speed goals, measured side by side on this machine.

    python benchmarks/bench.py            # prints a table of ratios (median of N runs)
    python benchmarks/bench.py keys       # only key generation against ssh-keygen -a 100 (exit 1: goal missed)

Not a timed test: machines differ, so the README quotes this script's output.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PY = sys.executable
# A new key (python start, imports, cryptography's writer with bcrypt's KDF, O_EXCL write) takes at
# most 1.25x as long as `ssh-keygen -t ed25519 -a 100`: almost all of both is the 100-round KDF.
KEYGEN_GOAL = 1.25


def median_time(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up (page cache, .pyc)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def big_config(path: Path, hosts: int = 10_000) -> None:
    with path.open("w") as fh:
        fh.write("# a big config\nServerAliveInterval 30\n\n")
        for i in range(hosts):
            fh.write(f"Host node{i:05d}\n    HostName 10.{i // 65536}.{i // 256 % 256}.{i % 256}\n    User u{i}\n    Port 22\n    IdentityFile ~/.ssh/id_{i}\n\n")
        fh.write("Host *\n    ServerAliveInterval 60\n")


def edit_in_process(cfg: Path) -> None:
    """What init does to the file: read, decode, find/insert the block, diff."""
    from sshsetup import files, textfile
    from sshsetup.ssh import block as sshconfig

    doc = textfile.decode(cfg.read_bytes(), cfg, allow_bom=False)
    sshconfig.remembered_options(doc.text, cfg)
    entry = [sshconfig.HostEntry("jsc-booster", (("HostName", "juwels-booster.fz-juelich.de"), ("User", "bench")))]
    new = sshconfig.upsert(doc.text, entry, {"sites": ["juwels-booster"]}, doc.eol, cfg)
    files.diff(files.plan([files.FileChange(cfg, new.encode())])[0])


class Tarpit:
    """Accept connections and never answer (a host behind a silent firewall)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.stop = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                continue

    def close(self) -> None:
        self.stop = True
        for c in self.conns:
            c.close()
        self.sock.close()


ROOT = Path(__file__).resolve().parents[1]
_fresh_names = itertools.count()  # key files are never overwritten: each run gets a new name
Row = tuple[str, float, float, "float | None"]


@dataclass(frozen=True)
class Env:
    name: str
    python: str  # the interpreter sshsetup runs on there
    sshsetup: list[str]  # the command a user types there


def this_interpreter() -> Env:
    return Env(f"this interpreter ({PY}, sshsetup from the checkout)", PY, [PY, "-m", "sshsetup"])


def fresh_venv(tmp: Path) -> Env | None:
    """sshsetup as a user gets it from `pipx install`: its own venv, a wheel install, compiled bytecode.

    The interpreter here may carry site hooks (.pth files) that a user's venv has not; they slow
    `python -c pass` and pre-import modules that click would otherwise pay for.
    """
    venv = tmp / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    py = venv / "bin" / "python"
    if made.returncode == 0:
        made = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
                              capture_output=True, text=True)
    if made.returncode != 0:
        print(f"(no fresh-venv rows: {made.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return None
    return Env("a fresh venv with sshsetup installed from the checkout, as pipx does", str(py), [str(venv / "bin" / "sshsetup")])


def env_rows(e: Env, tmp: Path, env: dict[str, str], cfg: Path, key: Path, sshg: float, runs: int) -> list[Row]:  # noqa: ARG001
    rows: list[Row] = []
    base = median_time(lambda: run([e.python, "-c", "pass"]), runs)
    click = median_time(lambda: run([e.python, "-c", "import click"]), runs)
    helpt = median_time(lambda: run([*e.sshsetup, "--help"], env), runs)
    rows.append(("sshsetup --help / python -c pass", helpt, base, 4.0))
    rows.append(("  floor: python -c 'import click' / python -c pass", click, base, None))
    dry = median_time(lambda: run([*e.sshsetup, "init", "--dry-run", "--user", "bench", "--key", str(key),
                                   "--from", "93.199.0.0/16", "--no-vscode"], env), runs)
    rows.append(("init --dry-run on a 10,000-host config / ssh -G on it", dry, sshg, 2.0))
    rows.append(("  floor: python -c 'import click' / ssh -G", click, sshg, None))

    rows += key_rows(e, tmp, max(3, runs // 2))
    return rows


def paired_medians(fa: Callable[[], object], fb: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median times of fa and fb, run in turn, so a load that comes and goes hits both alike."""
    fa()
    fb()
    ta, tb = [], []
    for _ in range(runs):
        for fn, times in ((fa, ta), (fb, tb)):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return statistics.median(ta), statistics.median(tb)


def key_rows(e: Env, tmp: Path, runs: int) -> list[Row]:
    """A new passphrase-protected key, as init makes it, against ssh-keygen -a 100 (goal: KEYGEN_GOAL)."""
    code = (
        "from sshsetup.ssh import keys; import sys;"
        "keys.write_new_key(__import__('pathlib').Path(sys.argv[1]), keys.generate(b'bench passphrase', 'b@b'))"
    )
    kdf = "import bcrypt, os; bcrypt.kdf(b'bench passphrase', os.urandom(16), 48, 100)"
    version = subprocess.run([e.python, "-c", "import bcrypt; print(bcrypt.__version__)"], capture_output=True, text=True).stdout.strip()
    n = _fresh_names
    ours, theirs = paired_medians(
        lambda: run([e.python, "-c", code, str(tmp / f"k{next(n)}")]),
        lambda: run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "100", "-N", "bench passphrase", "-f", str(tmp / f"s{next(n)}")]),
        runs,
    )
    kdf_only = median_time(lambda: run([e.python, "-c", kdf]), runs)
    return [
        ("key generation, 100 rounds / ssh-keygen -a 100", ours, theirs, KEYGEN_GOAL),
        (f"  floor: bcrypt {version} kdf alone / ssh-keygen -a 100", kdf_only, theirs, None),
    ]


def print_table(sections: list[tuple[str, list[Row]]]) -> None:
    print(f"{'measurement':<58} {'sshsetup':>10} {'reference':>10} {'ratio':>7} {'goal':>6}")
    for title, rows in sections:
        print(f"-- {title}")
        for name, a, b, goal in rows:
            verdict = "" if goal is None else f"{'<=' + str(goal):>6} {'ok' if a / b <= goal else 'MISSED'}"
            print(f"{name:<58} {a * 1000:>8.1f}ms {b * 1000:>8.1f}ms {a / b:>6.2f}x {verdict}".rstrip())


def keys_only(runs: int) -> int:
    """``python benchmarks/bench.py keys``: only the key-generation rows, on this interpreter."""
    tmp = Path(tempfile.mkdtemp(prefix="sshsetup-bench-"))
    try:
        rows = key_rows(this_interpreter(), tmp, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table([(this_interpreter().name, rows)])
    return 0 if rows[0][1] / rows[0][2] <= KEYGEN_GOAL else 1


def main(argv: list[str]) -> int:
    runs = int(os.environ.get("BENCH_RUNS", "7"))
    if argv == ["keys"]:
        return keys_only(runs)
    tmp = Path(tempfile.mkdtemp(prefix="sshsetup-bench-"))
    env = {**os.environ, "HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "cfg"), "XDG_STATE_HOME": str(tmp / "state"),
           "SSHSETUP_IP_ECHO_URLS": "http://127.0.0.1:9/", "SSHSETUP_NO_CLIPBOARD": "1"}  # never a public service
    (tmp / "home" / ".ssh").mkdir(parents=True)
    sections: list[tuple[str, list[Row]]] = []
    try:
        cfg = tmp / "home" / ".ssh" / "config"
        big_config(cfg)
        key = tmp / "home" / ".ssh" / "id"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "bench-pass", "-f", str(key)])
        sshg = median_time(lambda: run(["ssh", "-T", "-G", "-F", str(cfg), "node09999"]), runs)
        edit = median_time(lambda: edit_in_process(cfg), runs)
        common: list[Row] = [("edit a 10,000-host config in-process / ssh -G on it", edit, sshg, 2.0)]
        doctor = doctor_row(tmp, env)
        if doctor:
            common.append(doctor)
        sections.append(("independent of the environment", common))
        for e in (fresh_venv(tmp), this_interpreter()):
            if e is not None:
                sections.append((e.name, env_rows(e, tmp, env, cfg, key, sshg, runs)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(sections)
    return 0


def doctor_row(tmp: Path, env: dict[str, str]) -> Row | None:
    """doctor over three tarpit hosts versus one probe timeout."""
    pits = [Tarpit() for _ in range(3)]
    sites = tmp / "pits.toml"
    sites.write_text("".join(f'[sites.pit{i}]\nhostname = "127.0.0.1"\nport = {p.port}\nuser = "bench"\n' for i, p in enumerate(pits)))
    timeout = 2.0
    argv = [PY, "-m", "sshsetup", "doctor", "--sites-file", str(sites), "--timeout", str(timeout), "--json"]
    for i in range(3):
        argv += ["--site", f"pit{i}"]
    try:
        probe = subprocess.run([PY, "-m", "sshsetup", "doctor", "--help"], capture_output=True, text=True, env=env)
        if "--timeout" not in probe.stdout:
            return None
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env)
        took = time.perf_counter() - t
    finally:
        for p in pits:
            p.close()
    return ("doctor, three tarpit hosts / one probe timeout", took, timeout, 1.3)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
