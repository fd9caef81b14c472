"""Training on the test bed's real Slurm: time to first job, and the work a chain loses per link boundary.

    sudo python benchmarks/chain.py            # needs root: a throwaway user, a test sshd, a Slurm
    sudo python benchmarks/chain.py first-job  # only the first part (about 30 s)
    sudo python benchmarks/chain.py accounting # only the start-up cost of the test bed's accounting

**Time to first job** (goal: the queue wait plus a few seconds): ``sshsetup login``, then
``sshsetup jobscript --submit --follow`` of a job that prints a line and sleeps 1 s, as the
user, over the test sshd, three times (after one warm-up job, so the scheduler's very first
pass is not counted). Shown: the command's wall time; the queue wait as the user sees it (from
the ``Submitted job`` line to the ``running on`` line on stderr, each timestamped as it
arrives); and the difference, which is what sshsetup and Slurm add beyond the queue (start-up,
sbatch over the live master, the polls, the job's start and end) plus the job's own 1 s.
Slurm's own queue time is whole seconds, so it is not used.

**Lost work per link boundary** (goal: less than one checkpoint interval): a 3-link job-array
chain (``--chain 3``, links of 2 minutes, ``--signal-lead 1m``, ``--checkpoint-every 5s``) of a
toy trainer that checkpoints every 5 s and on SIGUSR1, and finishes 5 steps into its third link.
Per boundary: the time from the link's newest checkpoint to its end (``chainlog.lost_work``),
and the gap until the next link started. About 2-3 minutes.

**Accounting start-up**: a cluster with slurmdbd + MariaDB (tests/testbed/slurmdbd.py) brought
up and stopped, against the same cluster without it; the accounting's steps one by one.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.auth_count import package  # noqa: E402
from sshsetup.catalogue import load_catalogue  # noqa: E402
from sshsetup.slurm import chainlog  # noqa: E402
from sshsetup.slurm.jobscript import make_spec, render_jobscript, with_chain  # noqa: E402
from tests.commands.test_login import Session  # noqa: E402
from tests.slurm.test_chain_real import TOY  # noqa: E402
from tests.testbed.agent import SshAgent  # noqa: E402
from tests.testbed.slurm import Slurm  # noqa: E402
from tests.testbed.sshd import Sshd, make_host_key  # noqa: E402
from tests.testbed.users import TestUser, create_user, delete_user, exe, kill_pids, make_testbed_dir, processes_mentioning  # noqa: E402
from tests.testbed.uservenv import user_python  # noqa: E402

EVERY = 5.0
JOB = ("jobscript", "--site", "testbed", "--account", "myproject", "--partition", "develbooster", "--gpus-per-node", "1",
       "--cpus-per-task", "1", "--time", "00:05:00", "--submit", "--follow")
DONE = re.compile(r"^job (\d+): COMPLETED, exit code 0:0, (\d+)s in the queue, (\d+)s running; output: ", re.M)


def timed(user: TestUser, argv: list[str], env: dict[str, str]) -> tuple[int, float, list[tuple[float, str]]]:
    """Run ``argv`` as ``user`` (like ``run_as``); (exit code, wall seconds, [(seconds, stderr line)])."""
    full = user.env(env)
    cmd = [exe("runuser"), "-u", user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in full.items()), *argv]
    t0 = time.monotonic()
    lines: list[tuple[float, str]] = []
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          cwd=str(user.home)) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.monotonic() - t0, line.rstrip("\n")))
        rc = proc.wait(120)
    return rc, time.monotonic() - t0, lines


def first_job(base: Path, slurm: Slurm, runs: int = 3) -> list[tuple[float, float, float]]:
    """(wall seconds, queue seconds, seconds to the Submitted line) of ``jobscript --submit --follow``, per run."""
    user = create_user()
    agent = SshAgent(user)
    host_key = base / "hostkey"
    make_host_key(host_key)
    sshd = Sshd(base / "sshd", host_key=host_key, setenv={"SLURM_CONF": str(slurm.conf_path)})
    out: list[tuple[float, float, float]] = []
    try:
        sshd.start()
        agent.start()
        s = Session(user, sshd, agent, user_python(), package(base))
        user.write(".bashrc", 'export PATH="$HOME/bin:$PATH"\n', mode=0o644)
        user.home.joinpath("bin").mkdir(exist_ok=True)
        user.home.joinpath("bin", "python").symlink_to("/usr/bin/python3")
        user.write("train.py", 'import time\nprint("hello from the first job", flush=True)\ntime.sleep(1)\n', mode=0o644)
        if s.sshsetup("login").returncode != 0:
            raise SystemExit("sshsetup login failed")
        slurm.wait_job_state(slurm.sbatch("-p", "develbooster", "-t", "1", "--wrap", "true"))  # the scheduler's first pass
        for _ in range(runs):
            rc, took, lines = timed(user, [str(s.py), "-m", "sshsetup", *JOB], s.env)
            text = "\n".join(line for _, line in lines)
            submitted = [t for t, line in lines if line.startswith("Submitted job ")]
            running = [t for t, line in lines if re.match(r"job \d+: running on ", line)]
            if rc != 0 or DONE.search(text) is None or not submitted or not running:
                raise SystemExit(f"jobscript --submit --follow failed ({rc}):\n{text}")
            out.append((took, running[0] - submitted[0], submitted[0]))
        s.sshsetup("logout")
        return out
    finally:
        slurm.run(["scancel", "-u", user.name])
        sshd.stop()
        agent.stop()
        delete_user(user)


def chain(base: Path, slurm: Slurm) -> tuple[chainlog.ChainLog, list[float | None], list[float], float]:
    """(the chain's log, lost seconds per link, gap seconds between links, total seconds) of a real 3-link array chain."""
    tmp = base / "chain"
    tmp.mkdir()
    (tmp / "toy.py").write_text(TOY)
    site = load_catalogue(None, None)["juwels-booster"]
    spec = make_spec(site, "myproject", "develbooster", time="00:02:00", cpus_per_task=1, gpus_per_node=1,
                     payload=f"{sys.executable} {tmp / 'toy.py'}", job_name="bench-chain")
    spec = with_chain(spec, 3, every=f"{EVERY:.0f}s", lead="1m", ckpt_dir=str(tmp / "ckpt"), dependency=False)
    script = tmp / "chain.sbatch"
    script.write_text(render_jobscript(spec))
    t0 = time.monotonic()
    done = slurm.run(["sbatch", "--parsable", str(script)], cwd=tmp)
    if done.returncode != 0:
        raise SystemExit(f"sbatch failed: {done.stderr}")
    first = done.stdout.strip().split(";")[0]
    out = tmp / f"bench-chain-{first}.out"
    deadline = time.monotonic() + 400
    log = chainlog.parse("")
    while time.monotonic() < deadline:
        log = chainlog.parse(out.read_text() if out.exists() else "")
        if log.done and not slurm.run(["squeue", "-h", "-j", first, "-o", "%i"]).stdout.strip():
            break
        time.sleep(1)
    else:
        raise SystemExit(f"the chain did not finish in time:\n{out.read_text() if out.exists() else ''}")
    total = time.monotonic() - t0
    times = [p.stat().st_mtime for p in (tmp / "ckpt").glob("step-*.json")]
    lost = chainlog.lost_work(log, times)
    gaps = [b.start - a.end for a, b in zip(log.links, log.links[1:], strict=False)
            if a.end is not None and b.start is not None]
    return log, lost, gaps, total


def accounting(base: Path) -> tuple[float, float, dict[str, float]]:
    """(seconds to start a cluster without accounting, with it, the accounting's steps)."""
    plain = Slurm(base / "plain")
    with plain:
        without = plain.startup_seconds
    acct = Slurm(base / "acct", accounting=True)
    with acct:
        assert acct.accounting is not None
        return without, acct.startup_seconds, dict(acct.accounting.phases)


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        raise SystemExit("needs root (a throwaway user, a test sshd and a Slurm): sudo python benchmarks/chain.py")
    base = make_testbed_dir("sshsetup-bench-")
    slurm = Slurm(base / "cluster")
    ok = True
    if argv[:1] == ["accounting"]:
        try:
            without, with_, phases = accounting(base)
        finally:
            shutil.rmtree(base, ignore_errors=True)
        print(f"cluster start-up: {without:.1f}s without accounting, {with_:.1f}s with slurmdbd + MariaDB")
        print("  " + ", ".join(f"{name} {t:.1f}s" for name, t in phases.items()))
        print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        return 0
    try:
        slurm.start()
        runs = first_job(base, slurm)
        print("time to first job: jobscript --submit --follow of a job that prints and sleeps 1s (after one warm-up job)")
        print(f"  {'run':<5}{'wall':>8}{'to sbatch':>11}{'queue':>8}{'wall - queue':>14}")
        for n, (took, queue, sub) in enumerate(runs, 1):
            print(f"  {n:<5}{took:>7.2f}s{sub:>10.2f}s{queue:>7.2f}s{took - queue:>13.2f}s")
        print(f"  median wall - queue: {statistics.median(t - q for t, q, _ in runs):.2f}s")
        if argv[:1] != ["first-job"]:
            log, lost, gaps, total = chain(base, slurm)
            print(f"chain: 3 links x 2m, --signal-lead 1m, --checkpoint-every {EVERY:.0f}s, job array; {total:.0f}s in all")
            print(f"  {'boundary':<12}{'link ran':>9}{'lost work':>11}{'gap to next link':>18}   (the links log whole seconds)")
            for n, gap in enumerate(gaps):
                x, link = lost[n], log.links[n]
                ran = (link.end or 0) - (link.start or 0)
                print(f"  {f'{n} -> {n + 1}':<12}{ran:>8.0f}s{'-' if x is None else f'{x:.1f}s':>11}{gap:>17.0f}s")
            worst = max((x for x in lost if x is not None), default=None)
            ok = worst is not None and worst < EVERY
            print(f"  goal: lost work < one checkpoint interval ({EVERY:.0f}s): {'ok' if ok else 'MISSED'}")
    finally:
        slurm.stop()
        stray = processes_mentioning(str(base))
        kill_pids(stray)
        shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
