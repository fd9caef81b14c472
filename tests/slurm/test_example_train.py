"""The shipped example trainer, run for real with torchrun (gloo, 2 CPU processes): by itself, and
through the generated torchrun script on a real single-node Slurm."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sshsetup.catalogue import parse_sites
from sshsetup.slurm.jobscript import make_spec, render_jobscript
from sshsetup.slurm.templating import template_root
from tests.testbed.require import missing
from tests.testbed.slurm import Slurm

TRAIN = template_root() / "examples" / "train.py"


@pytest.fixture(autouse=True)
def _torch() -> None:
    """Real PyTorch (CPU build): .ci/run installs it; with CI=true its absence fails the run."""
    if importlib.util.find_spec("torch") is None:
        missing("torch", "pip install torch==2.13.0 (the test extras pin it)")


def rank_reports(text: str) -> list[dict[str, Any]]:
    """Every rank's ``{"rank": ...}`` report in ``text``, sorted by rank.

    The ranks print to one stream (srun relays each node's tasks): under load two reports can
    arrive without the newline between them, so the reports are decoded where they start, not per line.
    """
    dec = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for m in re.finditer(r'\{"rank": ', text):
        try:
            doc, _ = dec.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(doc, dict):
            found.append(doc)
    return sorted(found, key=lambda d: int(d["rank"]))


def run(tmp_path: Path, steps: int, resume: str = "") -> list[dict[str, Any]]:
    env = {**os.environ, "SSHSETUP_CKPT_DIR": str(tmp_path / "ckpt"), "SSHSETUP_RESUME_FROM": resume,
           "SSHSETUP_LINK": "0", "SSHSETUP_DEADLINE": "", "TRAIN_STEPS": str(steps), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(TRAIN)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return rank_reports(done.stdout)


def test_two_ranks_train_resume_and_finish(tmp_path: Path) -> None:
    first = run(tmp_path, 3)
    assert [(r["rank"], r["world"], r["step"]) for r in first] == [(0, 2, 3), (1, 2, 3)]
    assert first[0]["weights"] == first[1]["weights"]  # gradients were averaged
    ckpts = sorted(p.name for p in (tmp_path / "ckpt").glob("step-*.pt"))
    assert ckpts[-1] == "step-00000003.pt"
    second = run(tmp_path, 5, resume=str(tmp_path / "ckpt" / ckpts[-1]))
    assert [r["step"] for r in second] == [5, 5]
    assert second[0]["weights"] == second[1]["weights"]
    assert (tmp_path / "ckpt" / "DONE").exists()
    assert not list((tmp_path / "ckpt").glob("*.tmp"))


# ------------------------------------------------------------------ through the generated torchrun script, on Slurm

SITES = """\
[sites.tb]
hostname = "127.0.0.1"
gpu_partitions = ["booster"]
max_walltime = "24:00:00"
gpus_per_node = 4
"""


_made: list[int] = []


@pytest.fixture(scope="module")
def localhost_slurm(slurm_factory: object, testbed_dir: Path) -> Iterator[Slurm]:
    """A cluster whose node is named ``localhost``: MASTER_ADDR (the first node's name, no InfiniBand
    suffix on this site) resolves here without touching /etc/hosts. ``slurm_factory``: the Slurm checks."""
    _made.append(len(_made))  # a fresh directory per module that uses it: no state of an earlier cluster
    with Slurm(testbed_dir / f"cluster-localhost-{len(_made)}", node="localhost") as cluster:
        yield cluster


def test_two_ranks_train_through_the_generated_torchrun_script(localhost_slurm: Slurm, tmp_path: Path) -> None:
    site = parse_sites(SITES, "test sites", "x")["tb"]
    spec = make_spec(site, "myproject", "booster", gpus_per_node=2, cpus_per_task=1, time="00:05:00", kind="torchrun",
                     payload=str(TRAIN))
    software = (f'export PATH="{Path(sys.executable).parent}:$PATH" OMP_NUM_THREADS=1 TRAIN_STEPS=4 '
                f'SSHSETUP_CKPT_DIR="{tmp_path}/ckpt"\n')
    text = render_jobscript(spec).replace("#   module load ...\n", software)
    (tmp_path / "dist.sbatch").write_text(text)
    t0 = time.monotonic()
    r = localhost_slurm.run(["sbatch", "--parsable", "dist.sbatch"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    jid = r.stdout.strip()
    state = localhost_slurm.wait_job_state(jid, timeout=180, interval=0.5)
    out = (tmp_path / f"torchrun-job-{jid}.out").read_text()
    print(f"2-rank DDP job through Slurm: {time.monotonic() - t0:.1f}s")
    assert state == "COMPLETED", out[-3000:]
    assert out.startswith(f"MASTER_ADDR=localhost MASTER_PORT={20000 + int(jid) % 10000} nodes=1\n")
    ranks = rank_reports(out)
    assert [(d["rank"], d["world"], d["step"]) for d in ranks] == [(0, 2, 4), (1, 2, 4)]  # every rank reports
    assert ranks[0]["weights"] == ranks[1]["weights"]  # the gradients were averaged
    assert (tmp_path / "ckpt" / "DONE").exists()
