"""The generated job scripts and VS Code tasks, run for real: loopback sshd + single-node Slurm.

A VS Code ``process`` task is argv ``[command, *args]`` after VS Code replaced ``${file}``,
``${fileDirname}`` and ``${input:...}`` in every string; ``run_task`` does exactly that.
Remote tasks (workspace opened over Remote-SSH) run as the test user on this machine,
which plays the login node; local tasks run ``ssh jsc-testbed '<command>'`` through the
real sshd. The cluster is JUWELS-Booster-like (testbed.md 2.3): ``booster`` (24 h),
``develbooster`` (2 h), 4 fake GPUs on one 2-CPU node, ``--account`` required by a
job_submit.lua (``myproject``, ``training2500``).

Payloads are small shell commands instead of ``python train.py``; torchrun is not
installed here, so the torchrun script is shown to run up to torchrun, and, with a
stand-in ``torchrun`` put on PATH the way a user loads software, to call it with the
right arguments.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from sshsetup.catalogue import load_catalogue
from sshsetup.vscode.tasks import make_tasks
from tests.helpers import make_jobscript

ALIAS = "jsc-testbed"
SITE = load_catalogue(None, None)["juwels-booster"]
VAR = re.compile(r"\$\{([^}]+)\}")
SUBMITTED = re.compile(r"^Submitted batch job (\d+)$", re.M)


def tasks(account: str = "myproject") -> dict[str, dict[str, Any]]:
    doc = make_tasks(SITE, account, alias=ALIAS)
    return {t["label"]: t for t in doc["tasks"]}


def remote(name: str) -> dict[str, Any]:
    return tasks()[f"sshsetup: [login node] {name}"]


def local(name: str) -> dict[str, Any]:
    return tasks()[f"sshsetup: [laptop via {ALIAS}] {name}"]


def argv_of(task: dict[str, Any], values: Mapping[str, str]) -> tuple[list[str], str | None]:
    """VS Code's substitution: every ${name} in command, args and options.cwd (unknown names fail)."""

    def sub(s: str) -> str:
        return VAR.sub(lambda m: values[m.group(1)], s)

    cwd = task.get("options", {}).get("cwd")
    return [sub(task["command"]), *(sub(a) for a in task["args"])], (sub(cwd) if cwd else None)


def run_task(user, slurm, task, values=None, *, input=None, timeout=60.0):
    """Run one task as the user: ssh tasks through the sshd, the others 'on the login node'."""
    from tests.testbed.users import run_as

    argv, cwd = argv_of(task, values or {})
    env = None if task["command"] == "ssh" else {"SLURM_CONF": str(slurm.conf_path)}
    return run_as(user, argv, env=env, input=input, timeout=timeout, cwd=cwd)


def write_script(user, name: str, text: str) -> Path:
    return user.write(f"work/{name}", text, mode=0o644)


def job_id(r: subprocess.CompletedProcess[str]) -> int:
    m = SUBMITTED.search(r.stdout)
    assert r.returncode == 0 and m, f"sbatch failed ({r.returncode}): {r.stdout}{r.stderr}"
    return int(m.group(1))


def wait_for_file(path: Path, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {path} after {timeout}s: {path.read_text() if path.exists() else '(missing)'}")


STAND_IN = "module() { :; }  # the test bed has no module system (on JSC, Lmod defines the function)\n"


def job(payload: str, kind: str = "python", software: str = "", **kw: Any) -> str:
    # one 2-CPU node here: --cpus-per-task 1 instead of the default 8 per GPU
    text = make_jobscript(SITE, "myproject", kw.pop("partition", "develbooster"), time="00:05:00", kind=kind,
                          cpus_per_task=1, payload=payload, **kw)  # fmt: skip
    software_line = "# ---- Software. Compute nodes have no internet"
    assert software_line in text
    return text.replace(software_line, STAND_IN + software + software_line, 1)


# ------------------------------------------------------------------ job scripts


def test_python_script_via_remote_submit_task(slurm, slurm_client, test_user):
    script = write_script(test_user, "job.sbatch", job("bash -c 'echo gpus=$CUDA_VISIBLE_DEVICES acct=$SLURM_JOB_ACCOUNT cpus=$SLURM_CPUS_PER_TASK'"))
    t0 = time.monotonic()
    r = run_task(test_user, slurm, remote("submit the current file (sbatch)"), {"file": str(script), "fileDirname": str(script.parent)})
    jid = job_id(r)
    assert slurm.wait_job_state(jid) == "COMPLETED"
    out = wait_for_file(script.parent / f"python-job-{jid}.out", "gpus=")
    assert out == "gpus=0 acct=myproject cpus=1\n"  # the python kind asks for one GPU
    print(f"submit -> completed -> output: {time.monotonic() - t0:.2f}s")


def test_torchrun_script_runs_up_to_torchrun(slurm, slurm_client, test_user):
    script = write_script(test_user, "dist.sbatch", job("train.py", kind="torchrun", nodes=1))
    r = run_task(test_user, slurm, local("submit a job script on the cluster (sbatch)"), {"input:sshsetupRemoteScript": "work/dist.sbatch"})
    jid = job_id(r)
    assert slurm.wait_job_state(jid) == "FAILED"
    out = wait_for_file(script.parent / f"torchrun-job-{jid}.out", "torchrun")
    assert out.startswith(f"MASTER_ADDR=tbnode01i MASTER_PORT={20000 + int(jid) % 10000} nodes=1\n")
    assert "torchrun: command not found" in out
    assert out.count("\n") <= 4, out  # nothing else failed before torchrun


def test_torchrun_gets_the_rendezvous_arguments(slurm, slurm_client, test_user):
    fake = '#!/bin/bash\necho "torchrun $* node=$SLURM_NODEID cpus=$SRUN_CPUS_PER_TASK"\n'
    test_user.write("bin/torchrun", fake, mode=0o755)
    text = job("train.py --epochs 1", kind="torchrun", nodes=1, software='export PATH="$HOME/bin:$PATH"\n')
    script = write_script(test_user, "dist2.sbatch", text)
    jid = job_id(run_task(test_user, slurm, local("submit a job script on the cluster (sbatch)"), {"input:sshsetupRemoteScript": str(script)}))
    assert slurm.wait_job_state(jid) == "COMPLETED"
    out = wait_for_file(script.parent / f"torchrun-job-{jid}.out", "torchrun ")
    assert out == (
        f"MASTER_ADDR=tbnode01i MASTER_PORT={20000 + int(jid) % 10000} nodes=1\n"
        f"torchrun --nnodes=1 --nproc_per_node=4 --rdzv_id={jid} --rdzv_backend=c10d --rdzv_endpoint=tbnode01i:{20000 + int(jid) % 10000} "
        "--rdzv_conf=is_host=1 train.py --epochs 1 node=0 cpus=1\n"
    )


def test_job_without_account_is_refused_with_slurms_message(slurm, slurm_client, test_user):
    text = "".join(ln for ln in job("true").splitlines(keepends=True) if not ln.startswith("#SBATCH --account"))
    script = write_script(test_user, "noacct.sbatch", text)
    r = run_task(test_user, slurm, remote("submit the current file (sbatch)"), {"file": str(script), "fileDirname": str(script.parent)})
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (
        "sbatch: error: Please specify a budget with --account=<budget>\n"
        "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n"
    )
    r = run_task(test_user, slurm, local("submit a job script on the cluster (sbatch)"), {"input:sshsetupRemoteScript": str(script)})
    assert r.returncode == 1 and "Please specify a budget with --account=<budget>" in r.stderr


# ------------------------------------------------------------------ watching and cancelling


def test_squeue_shows_the_job_and_scancel_cancels_it(slurm, slurm_client, test_user):
    script = write_script(test_user, "long.sbatch", job("sleep 300"))
    jid = job_id(run_task(test_user, slurm, local("submit a job script on the cluster (sbatch)"), {"input:sshsetupRemoteScript": str(script)}))
    slurm.wait_job_state(jid, "RUNNING")
    r = run_task(test_user, slurm, local("my jobs (squeue --me)"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["JOBID", "PARTITION", "NAME", "USER", "ST", "TIME", "NODES", "NODELIST(REASON)"]
    fields = lines[1].split()
    assert fields[0] == str(jid) and fields[1] == "develboos" and fields[4] == "R" and fields[-1] == "tbnode01"
    r = run_task(test_user, slurm, remote("my jobs (squeue --me)"))
    assert r.returncode == 0 and [ln.split()[0] for ln in r.stdout.splitlines()] == ["JOBID", str(jid)]
    r = run_task(test_user, slurm, local("cancel a job (scancel)"), {"input:sshsetupJobId": str(jid)})
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert slurm.wait_job_state(jid) == "CANCELLED"
    r = run_task(test_user, slurm, local("show a job (scontrol show job)"), {"input:sshsetupJobId": str(jid)})
    assert r.returncode == 0 and f"JobId={jid} JobName=python-job" in r.stdout and "JobState=CANCELLED" in r.stdout
    assert "Account=myproject" in r.stdout


@pytest.mark.parametrize("value", ["1 2", "1; touch INJECTED", "$(touch INJECTED)", "1'; touch INJECTED; '", "o'brien"])
def test_inputs_stay_one_word_through_ssh(slurm, slurm_client, test_user, value):
    r = run_task(test_user, slurm, local("cancel a job (scancel)"), {"input:sshsetupJobId": value})
    assert r.returncode != 0 and "Invalid job id" in r.stderr, r.stderr
    assert not (test_user.home / "INJECTED").exists()


def test_negative_control_unquoted_words_are_resplit(slurm, slurm_client, test_user):
    """Why the quoting matters (testbed.md 1.9): ssh joins separate words and the remote shell runs them."""
    r = slurm_client.ssh(ALIAS, "scancel", "1; touch INJECTED")
    assert (test_user.home / "INJECTED").exists(), r.stderr


def test_follow_the_newest_jobs_output(slurm, slurm_client, test_user):
    from tests.testbed.users import kill_pids

    older = job_id(run_task(test_user, slurm, local("submit a job script on the cluster (sbatch)"),
                            {"input:sshsetupRemoteScript": str(write_script(test_user, "a.sbatch", job("echo older")))}))  # fmt: skip
    slurm.wait_job_state(older)
    script = write_script(test_user, "b.sbatch", job("bash -c 'for i in 1 2 3; do echo tick $i; sleep 0.3; done'"))
    jid = job_id(run_task(test_user, slurm, local("submit a job script on the cluster (sbatch)"), {"input:sshsetupRemoteScript": str(script)}))
    argv, _ = argv_of(local("follow the newest job's output (tail -F)"), {})
    env = [f"{k}={v}" for k, v in test_user.env().items()]
    proc = subprocess.Popen(["runuser", "-u", test_user.name, "--", "env", "-i", *env, *argv], cwd=test_user.home,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    assert proc.stdout is not None
    seen = ""
    try:
        deadline = time.monotonic() + 20
        while "tick 3" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk.decode()
    finally:
        kill_pids([proc.pid, *_children(proc.pid)])
        proc.wait(5)
        proc.stdout.close()
    assert seen.startswith(f"sshsetup: job {jid} writes to {script.parent}/python-job-{jid}.out (stop with Ctrl+C)\n")
    assert seen.endswith("tick 1\ntick 2\ntick 3\n")


def _children(pid: int) -> list[int]:
    from tests.testbed.users import descendants

    return descendants(pid)


def test_follow_without_jobs(slurm_factory, test_user):
    empty = slurm_factory(extra_config=["# a second cluster: no jobs of this user"])
    r = run_task(test_user, empty, remote("follow the newest job's output (tail -F)"), timeout=20)
    assert (r.returncode, r.stdout) == (1, "sshsetup: you have no recent jobs (squeue --me --states=all)\n")


# ------------------------------------------------------------------ partitions, allocation, quota


def test_partition_limits_read_live(slurm, slurm_client, test_user):
    r = run_task(test_user, slurm, local("partition limits (sinfo, scontrol show partition)"), {"input:sshsetupPartition": "develbooster"})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:3] == ["PARTITION AVAIL TIMELIMIT NODES GRES", "booster* up 1-00:00:00 1 gpu:4", "develbooster up 2:00:00 1 gpu:4"]
    assert lines[3].startswith("PartitionName=develbooster")
    assert re.search(r"\bMaxTime=02:00:00\b", r.stdout)
    r = run_task(test_user, slurm, remote("partition limits (sinfo, scontrol show partition)"), {"input:sshsetupPartition": "booster"})
    assert r.returncode == 0 and re.search(r"\bMaxTime=1-00:00:00\b", r.stdout)


def test_interactive_allocation(slurm, slurm_client, test_user):
    values = {"input:sshsetupAccount": "myproject", "input:sshsetupPartition": "develbooster", "input:sshsetupTime": "00:05:00"}
    r = run_task(test_user, slurm, local("interactive shell on a compute node (srun --pty)"), values,
                 input="echo in-alloc acct=$SLURM_JOB_ACCOUNT part=$SLURM_JOB_PARTITION gpus=$CUDA_VISIBLE_DEVICES\nexit\n")  # fmt: skip
    assert "in-alloc acct=myproject part=develbooster gpus=0,1,2,3" in r.stdout, r.stdout + r.stderr
    values["input:sshsetupAccount"] = ""
    r = run_task(test_user, slurm, local("interactive shell on a compute node (srun --pty)"), values, input="exit\n")
    assert r.returncode == 1 and "Please specify a budget with --account=<budget>" in r.stderr


def test_quota_task_reaches_the_remote_shell_intact(slurm, slurm_client, test_user):
    # jutil exists only at JSC: here the remote shell reports exactly the command it was given
    r = run_task(test_user, slurm, local("quotas (jutil user dataquota)"))
    assert r.returncode == 127 and "jutil: command not found" in r.stderr
