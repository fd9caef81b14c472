"""Chains run for real on the test bed's Slurm: generated links, real ``--signal=B:USR1@60``, real time limits.

Each link is 2 minutes (Slurm rounds a time limit up to whole minutes) with the
minimum lead of 1 minute, so Slurm sends SIGUSR1 about 60 s into a link (its timer
checks every 30 s). The toy trainer below counts steps, checkpoints every 5 s and on
SIGUSR1, and finishes (DONE) 5 steps into its third link. Both chain kinds run side by
side (the node has 2 CPUs, one per link): the job array (``%1``, the default) and the
``--afterany`` chain, on the cluster with accounting (slurmdbd + MariaDB, ``MinJobAge=10``), so
the links' states are read from ``sacct`` as a user would, long after squeue forgot them. Beside them, on a second cluster whose node is named ``localhost``
(so MASTER_ADDR resolves), the example trainer runs as a torchrun chain on 2 ranks:
SIGUSR1 must pass the batch shell, srun and torchrun to reach both training processes.
About 3.5 minutes in all (the array chain's two full links).
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sshsetup.catalogue import load_catalogue, parse_sites
from sshsetup.slurm import chainlog
from sshsetup.slurm.jobscript import make_spec, render_jobscript, with_chain
from sshsetup.slurm.templating import template_root
from tests.slurm.test_example_train import SITES, localhost_slurm  # noqa: F401 - a fixture
from tests.testbed.slurm import Slurm

SITE = load_catalogue(None, None)["juwels-booster"]
TOY = '''\
import json, os, signal, sys, time
ckpt, resume = os.environ["SSHSETUP_CKPT_DIR"], os.environ["SSHSETUP_RESUME_FROM"]
link, every = int(os.environ["SSHSETUP_LINK"]), float(os.environ["SSHSETUP_CKPT_EVERY"])
stop = []
signal.signal(signal.SIGUSR1, lambda *_: stop.append(time.time()))
step = json.load(open(resume))["step"] if resume else 0
first = step
steps = open(os.path.join(ckpt, "..", "steps.log"), "a")

def save():
    tmp = os.path.join(ckpt, "next.tmp")
    with open(tmp, "w") as f:
        json.dump({"step": step}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(ckpt, f"step-{step:06d}.json"))

print(json.dumps({"link": link, "resume": resume, "from": step, "deadline": int(os.environ["SSHSETUP_DEADLINE"])}), flush=True)
last = time.monotonic()
while not stop:
    time.sleep(0.1)
    step += 1
    steps.write(f"{link} {step}\\n")
    steps.flush()
    if link == 2 and step - first >= 5:
        save()
        open(os.path.join(ckpt, "DONE"), "w").close()
        break
    if time.monotonic() - last >= every:
        save()
        last = time.monotonic()
if stop:
    save()
print(json.dumps({"link": link, "to": step, "usr1": bool(stop)}), flush=True)
'''
STEPS = 300  # the torchrun chain's training: more than one link does, less than two
LINK_LINE = re.compile(r"^sshsetup chain: link (\d) of 3: (.*)$", re.M)


def chain_script(tmp: Path, name: str, *, afterany: bool) -> Path:
    (tmp / "toy.py").write_text(TOY)
    spec = make_spec(SITE, "myproject", "develbooster", time="00:02:00", cpus_per_task=1, gpus_per_node=1,
                     payload=f"{sys.executable} {tmp / 'toy.py'}", job_name=name)  # fmt: skip
    spec = with_chain(spec, 3, every="5s", lead="1m", ckpt_dir=str(tmp / "ckpt"), dependency=afterany)
    script = tmp / f"{name}.sbatch"
    stand_in = "module() { :; }  # the test bed has no module system (on JSC, Lmod defines the function)\n"
    script.write_text(render_jobscript(spec).replace("# ---- Software", stand_in + "# ---- Software", 1))
    return script


def jobs_of(slurm: Slurm, name: str) -> list[tuple[str, str]]:
    """(job id, state) of every job with this name, oldest first (squeue keeps finished jobs for MinJobAge)."""
    r = slurm.run(["squeue", "-h", "-t", "all", "-r", "-n", name, "-o", "%i %T"])
    rows = [(line.split()[0], line.split()[1]) for line in r.stdout.splitlines() if len(line.split()) == 2]
    return sorted(rows, key=lambda row: [int(p) for p in re.findall(r"\d+", row[0])])


def sacct_of(slurm: Slurm, name: str) -> list[tuple[str, str, str]]:
    """(job id, state, exit code) of every job with this name from ``sacct -X``, oldest first."""
    r = slurm.run(["sacct", "-n", "-P", "-X", "-S", "2000-01-01", "--name", name, "-o", "JobID,State,ExitCode"])
    rows = [line.split("|") for line in r.stdout.splitlines() if line.count("|") == 2]
    return sorted(((a, b, c) for a, b, c in rows), key=lambda row: [int(p) for p in re.findall(r"\d+", row[0])])


def finished(rows: list[tuple[str, str, str]]) -> bool:
    return len(rows) == 3 and all(state not in ("PENDING", "RUNNING", "REQUEUED") for _, state, _ in rows)


def torchrun_chain(tmp: Path) -> Path:
    """The example trainer as a 3-link --afterany torchrun chain, 2 ranks, 0.2 s per step (about 240 in a link)."""
    spec = make_spec(parse_sites(SITES, "test sites", "x")["tb"], "myproject", "booster", gpus_per_node=2, cpus_per_task=1,
                     time="00:02:00", kind="torchrun", payload=str(template_root() / "examples" / "train.py"))
    spec = with_chain(spec, 3, every="20s", lead="1m", ckpt_dir=str(tmp / "ckpt"), dependency=True)
    software = f'export PATH="{Path(sys.executable).parent}:$PATH" OMP_NUM_THREADS=1 TRAIN_STEPS={STEPS} TRAIN_STEP_SECONDS=0.2\n'
    script = tmp / "ddp.sbatch"
    script.write_text(render_jobscript(spec).replace("#   module load ...\n", software))
    return script


@pytest.fixture(scope="module")
def chains(slurm_accounting: Slurm, localhost_slurm: Slurm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:  # noqa: F811
    slurm = slurm_accounting
    runs: dict[str, dict[str, Any]] = {}
    t0 = time.monotonic()
    ddp = tmp_path_factory.mktemp("ddp")
    first = localhost_slurm.run(["sbatch", "--parsable", str(torchrun_chain(ddp))], cwd=ddp)
    assert first.returncode == 0, first.stderr
    for name, afterany in (("chain-array", False), ("chain-afterany", True)):
        tmp = tmp_path_factory.mktemp(name)
        first = slurm.run(["sbatch", "--parsable", str(chain_script(tmp, name, afterany=afterany))], cwd=tmp)
        assert first.returncode == 0, first.stderr
        runs[name] = {"tmp": tmp, "first": first.stdout.strip().split(";")[0]}
    deadline = time.monotonic() + 330
    while time.monotonic() < deadline:
        if all(finished(sacct_of(slurm, n)) for n in runs) and not [s for _, s in jobs_of(localhost_slurm, "torchrun-job") if s in ("PENDING", "RUNNING")]:  # fmt: skip
            break
        time.sleep(1)
    out = ddp / "torchrun-job-chain.out"
    runs["ddp"] = {"tmp": ddp, "jobs": jobs_of(localhost_slurm, "torchrun-job"), "out": out.read_text() if out.exists() else ""}
    for name, run in runs.items():
        if name == "ddp":
            continue
        run["sacct"] = sacct_of(slurm, name)
        out = run["tmp"] / (f"{name}-{run['first']}.out" if name == "chain-array" else f"{name}-chain.out")
        run["out"] = out.read_text() if out.exists() else "(no output)"
        steps = (run["tmp"] / "steps.log").read_text().split("\n")
        run["steps"] = [tuple(int(w) for w in line.split()) for line in steps if line]
    print(f"both chains: {time.monotonic() - t0:.1f}s")
    for name, run in runs.items():  # the measurement: each link's run time and the gap before the next
        print(name, *(line for line in run["out"].splitlines() if line.startswith("sshsetup chain:")), sep="\n  ")
    return runs


@pytest.mark.parametrize("name", ["chain-array", "chain-afterany"])
def test_links_resume_from_the_previous_checkpoint_and_stop_on_done(chains: dict[str, dict[str, Any]], name: str) -> None:
    run = chains[name]
    out: str = run["out"]
    reports = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    starts = [r for r in reports if "from" in r]
    ends = [r for r in reports if "to" in r]
    assert [r["link"] for r in starts] == [0, 1, 2], out
    ckpt = run["tmp"] / "ckpt"
    # link 0 starts from nothing; each later link from the checkpoint the one before wrote on SIGUSR1
    assert starts[0]["resume"] == "" and starts[0]["from"] == 0
    for before, after in zip(ends[:2], starts[1:], strict=True):
        assert before["usr1"] is True, out
        assert after["resume"] == str(ckpt / f"step-{before['to']:06d}.json")
        assert after["from"] == before["to"]
    assert ends[2] == {"link": 2, "to": starts[2]["from"] + 5, "usr1": False}
    # the step counter is continuous: every step once, nothing repeated beyond the last checkpoint
    steps = run["steps"]
    assert [s for _, s in steps] == list(range(1, len(steps) + 1))
    assert [link for link, _ in steps] == sorted(link for link, _ in steps)
    assert (ckpt / "DONE").exists() and not list(ckpt.glob("*.tmp"))
    lines = LINK_LINE.findall(out)
    assert [n for n, text in lines if "SIGUSR1 at" in text] == ["0", "1"]
    assert [n for n, text in lines if "the next link resumes (exit 75)" in text] == ["0", "1"]
    assert [n for n, text in lines if text.startswith("the training wrote DONE at")] == ["2"]


def _times(out: str, what: str) -> list[int]:
    return [int(m.group(1)) for m in re.finditer(rf"^sshsetup chain: link \d of 3: {what} (\d+)", out, re.M)]


@pytest.mark.parametrize("name", ["chain-array", "chain-afterany"])
def test_one_link_at_a_time_and_the_states_slurm_shows(chains: dict[str, dict[str, Any]], name: str) -> None:
    run = chains[name]
    out: str = run["out"]
    starts = _times(out, "starts at")
    stops = [*_times(out, "stopped at"), *_times(out, "the training wrote DONE at")]
    assert len(starts) == 3 and len(stops) == 3, out
    assert all(stop <= start for stop, start in zip(stops[:2], starts[1:], strict=True)), (starts, stops)  # %1 / afterany: never two at once
    # what Slurm's accounting recorded: links 0 and 1 stopped for the next one (exit 75: FAILED), the last finished
    first = run["first"]
    ids = [f"{first}_{n}" for n in range(3)] if name == "chain-array" else [x.job for x in chainlog.parse(out).links]
    assert run["sacct"] == [(ids[0], "FAILED", "75:0"), (ids[1], "FAILED", "75:0"), (ids[2], "COMPLETED", "0:0")], run["sacct"]
    for link, start in enumerate(starts):
        assert 0 <= (stops[link] - start) < 125, (link, starts, stops)  # whole seconds: the last link can take < 1 s


def test_torchrun_chain_passes_usr1_to_every_rank_and_resumes(chains: dict[str, dict[str, Any]]) -> None:
    run = chains["ddp"]
    out: str = run["out"]
    reports = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    links = [sorted(reports[i:i + 2], key=lambda d: d["rank"]) for i in range(0, len(reports), 2)]
    assert 2 <= len(links) <= 3 and len(reports) == 2 * len(links), out[-4000:]  # every rank of every link reports
    ckpt = run["tmp"] / "ckpt"
    for n, ranks in enumerate(links):
        assert [d["rank"] for d in ranks] == [0, 1] and ranks[0]["step"] == ranks[1]["step"], out[-4000:]  # stopped together
        assert ranks[0]["weights"] == ranks[1]["weights"]  # the gradients were averaged
        if n:
            assert f"link {n} of 3: starts at" in out
            assert f"resumes from {ckpt}/step-{links[n - 1][0]['step']:08d}.pt" in out  # the checkpoint USR1 wrote
    assert [d["step"] for d in links[-1]] == [STEPS, STEPS] and (ckpt / "DONE").exists()
    assert all(0 < ranks[0]["step"] < STEPS for ranks in links[:-1])
    lines = LINK_LINE.findall(out)
    usr1 = [int(n) for n, text in lines if "SIGUSR1 at" in text]
    # every link but the last stopped on SIGUSR1; the last may get it too, as its training reaches DONE (on a loaded
    # machine a link does fewer steps): DONE still ends the chain, with exit 0
    assert usr1 in (list(range(len(links) - 1)), list(range(len(links)))), out[-4000:]
    assert [int(n) for n, text in lines if text.startswith("the training wrote DONE at")] == [len(links) - 1]
    states = [state for _, state in run["jobs"]]
    assert states == ["FAILED"] * (len(links) - 1) + ["COMPLETED"] + ["CANCELLED"] * (3 - len(links)), run["jobs"]


def test_work_lost_at_each_link_boundary_is_less_than_one_interval(chains: dict[str, dict[str, Any]]) -> None:
    """The benchmark number (issue 15: goal < one checkpoint interval): checkpoint times next to the links' ends."""
    for name in ("chain-array", "chain-afterany"):
        run = chains[name]
        log = chainlog.parse(run["out"])
        assert [link.how for link in log.links] == ["stopped", "stopped", "done"] and log.done
        assert all(link.job for link in log.links)
        times = [p.stat().st_mtime for p in (run["tmp"] / "ckpt").glob("step-*.json")]
        lost = chainlog.lost_work(log, times)
        print(f"{name}: work lost per link boundary: {lost} s (checkpoint interval 5 s)")
        assert lost[2] is None and all(x is not None and x < 5 for x in lost[:2])
