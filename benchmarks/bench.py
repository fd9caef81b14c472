"""sshsetup's speed goals, measured side by side on this machine.

    python benchmarks/bench.py            # prints a table of ratios (median of N runs)

Not a timed test: machines differ, so the README quotes this script's output.
"""

from __future__ import annotations

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
from pathlib import Path

PY = sys.executable


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
    from sshsetup import files, sshconfig, textfile

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


def main() -> int:
    runs = int(os.environ.get("BENCH_RUNS", "7"))
    tmp = Path(tempfile.mkdtemp(prefix="sshsetup-bench-"))
    env = {**os.environ, "HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "cfg"), "XDG_STATE_HOME": str(tmp / "state"),
           "SSHSETUP_IP_ECHO_URLS": "http://127.0.0.1:9/", "SSHSETUP_NO_CLIPBOARD": "1"}  # never a public service
    (tmp / "home" / ".ssh").mkdir(parents=True)
    rows: list[tuple[str, float, float, float]] = []
    try:
        base = median_time(lambda: run([PY, "-c", "pass"]), runs)
        helpt = median_time(lambda: run([PY, "-m", "sshsetup", "--help"], env), runs)
        rows.append(("sshsetup --help / python -c pass", helpt, base, 4.0))

        cfg = tmp / "home" / ".ssh" / "config"
        big_config(cfg)
        key = tmp / "home" / ".ssh" / "id"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "bench-pass", "-f", str(key)])
        sshg = median_time(lambda: run(["ssh", "-T", "-G", "-F", str(cfg), "node09999"]), runs)
        edit = median_time(lambda: edit_in_process(cfg), runs)
        rows.append(("edit a 10,000-host config in-process / ssh -G on it", edit, sshg, 2.0))
        dry = median_time(lambda: run([PY, "-m", "sshsetup", "init", "--dry-run", "--user", "bench", "--key", str(key),
                                       "--from", "93.199.0.0/16", "--no-vscode"], env), runs)
        rows.append(("init --dry-run (whole CLI), same config / ssh -G", dry, sshg, 2.0))

        pwf = tmp / "pw"
        pwf.write_text("bench passphrase\n")
        code = (
            "from sshsetup import keys; import sys;"
            "keys.write_new_key(__import__('pathlib').Path(sys.argv[1]), keys.generate(b'bench passphrase', 'b@b'))"
        )
        n = iter(range(10_000))
        ours = median_time(lambda: run([PY, "-c", code, str(tmp / f"k{next(n)}")]), max(3, runs // 2))
        theirs = median_time(lambda: run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "100", "-N", "bench passphrase", "-f", str(tmp / f"s{next(n)}")]), max(3, runs // 2))
        rows.append(("key generation, 100 rounds / ssh-keygen -a 100", ours, theirs, 1.1))

        doctor = doctor_row(tmp, env)
        if doctor:
            rows.append(doctor)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'measurement':<55} {'sshsetup':>10} {'reference':>10} {'ratio':>7} {'goal':>6}")
    for name, a, b, goal in rows:
        ok = "ok" if a / b <= goal else "MISSED"
        print(f"{name:<55} {a * 1000:>8.1f}ms {b * 1000:>8.1f}ms {a / b:>6.2f}x {'<=' + str(goal):>6} {ok}")
    return 0


def doctor_row(tmp: Path, env: dict[str, str]) -> tuple[str, float, float, float] | None:
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
    raise SystemExit(main())
