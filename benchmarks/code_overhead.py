"""The overhead of ``sshsetup code``: from the command's start to a working stand-in server, minus the queue wait.

    sudo python benchmarks/code_overhead.py [RUNS]   # needs root: a throwaway user, a test sshd, the test Slurm

The server is the Remote-SSH stand-in of tests/commands/test_code.py (``ssh -T <entry>`` fed a
script that starts ``python3 -m http.server`` and prints ``listeningOn=PORT``); "working" means an
HTTP GET through a forward on the login master reached it. The queue wait is Slurm's StartTime - SubmitTime
(so sshsetup's own 5 s polling counts as overhead). Goal: overhead <= 10 s.
"""

from __future__ import annotations

import re
import select
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.auth_count import package  # noqa: E402
from tests.commands.test_code import RESOURCES, Session  # noqa: E402
from tests.testbed.agent import SshAgent  # noqa: E402
from tests.testbed.slurm import Slurm  # noqa: E402
from tests.testbed.sshd import Sshd, free_port, make_host_key  # noqa: E402
from tests.testbed.users import create_user, delete_user, descendants, kill_pids, make_testbed_dir, run_as  # noqa: E402
from tests.testbed.uservenv import user_python  # noqa: E402


def one_run(s: Session) -> tuple[float, float]:
    """(overhead, queue wait) in seconds for one ``sshsetup code --persist`` run."""
    for p in s.user.home.glob("window-*.out"):
        p.unlink()
    (s.user.home / "windows.pid").unlink(missing_ok=True)
    t0 = time.monotonic()
    proc = s.popen("code", *RESOURCES, "--persist", "--idle", "0")
    assert proc.stdout is not None
    out = b""
    while proc.poll() is None or select.select([proc.stdout], [], [], 0)[0]:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            chunk = proc.stdout.read1(65536)  # type: ignore[attr-defined]
            if not chunk:
                break
            out += chunk
    port = None
    out_file = s.user.home / "window-1.out"
    while port is None:
        m = re.search(r"listeningOn=(\d+)", out_file.read_text()) if out_file.exists() else None
        port = int(m.group(1)) if m else None
        if port is None:
            time.sleep(0.02)
    local = free_port()
    spec = f"127.0.0.1:{local}:127.0.0.1:{port}"
    run_as(s.user, ["ssh", "-O", "forward", "-L", spec, "jsc-testbed"], env=s.agent.env)
    with urllib.request.urlopen(f"http://127.0.0.1:{local}/index.html", timeout=30) as resp:
        resp.read()
    total = time.monotonic() - t0
    run_as(s.user, ["ssh", "-O", "cancel", "-L", spec, "jsc-testbed"], env=s.agent.env)
    job = re.search(rb"Submitted session job (\d+)", out)
    queue = slurm_queue_wait(s, int(job.group(1))) if job else 0.0
    s.sshsetup("code", "--stop", "--site", "testbed")
    pids = s.windows()
    kill_pids([*pids, *(d for p in pids for d in descendants(p))])
    return total - queue, queue


def slurm_queue_wait(s: Session, job: int) -> float:
    """StartTime - SubmitTime as Slurm recorded them (whole seconds)."""
    from datetime import datetime

    text = s.slurm.run(["squeue", "-h", "-t", "all", "-j", str(job), "-o", "%V %S"]).stdout.split()
    submit, start = (datetime.fromisoformat(x) for x in text[:2])
    return (start - submit).total_seconds()


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    base = make_testbed_dir("sshsetup-bench-")
    user = create_user()
    host_key = base / "hostkey"
    make_host_key(host_key)
    slurm = Slurm(base / "cluster").start()
    sshd = Sshd(base / "sshd", host_key=host_key, setenv={"SLURM_CONF": str(slurm.conf_path)})
    agent = SshAgent(user)
    try:
        sshd.start()
        agent.start()
        s = Session(user, sshd, slurm, agent, user_python(), package(base))
        rows = [one_run(s) for _ in range(runs)]
        over = [r[0] for r in rows]
        print(f"sshsetup code overhead (start -> stand-in server answers, minus queue wait), {runs} runs:")
        print(f"  median {statistics.median(over):.1f} s, max {max(over):.1f} s; queue wait median "
              f"{statistics.median(r[1] for r in rows):.1f} s (goal: overhead <= 10 s)")
    finally:
        run_as(user, ["ssh", "-O", "exit", "jsc-testbed"], env=agent.env)
        agent.stop()
        sshd.stop()
        slurm.stop()
        delete_user(user)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
