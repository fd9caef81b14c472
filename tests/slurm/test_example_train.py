"""The shipped example trainer, run for real with torchrun (gloo, 2 CPU processes); not yet through Slurm."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sshsetup.slurm.templating import template_root
from tests.testbed.require import missing

TRAIN = template_root() / "examples" / "train.py"


@pytest.fixture(autouse=True)
def _torch() -> None:
    """Real PyTorch (CPU build): .ci/run installs it; with CI=true its absence fails the run."""
    if importlib.util.find_spec("torch") is None:
        missing("torch", "pip install torch==2.13.0 (the test extras pin it)")


def run(tmp_path: Path, steps: int, resume: str = "") -> list[dict[str, object]]:
    env = {**os.environ, "SSHSETUP_CKPT_DIR": str(tmp_path / "ckpt"), "SSHSETUP_RESUME_FROM": resume,
           "SSHSETUP_LINK": "0", "SSHSETUP_DEADLINE": "", "TRAIN_STEPS": str(steps), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(TRAIN)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return sorted((json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")),
                  key=lambda r: int(str(r["rank"])))


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
