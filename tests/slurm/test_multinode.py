"""Two nodes on one host: the generated torchrun script on 2 nodes x 2 processes, for real.

Debian's Slurm is built with multiple-slurmd support (``scontrol show config``:
``MULTIPLE_SLURMD = Yes``), so two ``slurmd -N NAME`` run side by side, each on its own
port. ``TwoNodes`` is the test bed's cluster with a second node (``tbnode02``); the first
node is named ``localhost``, so MASTER_ADDR (the first node's name; this site has no
InfiniBand suffix) resolves here. Each node's torchrun starts 2 gloo processes: 4 ranks.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshsetup.catalogue import parse_sites
from sshsetup.slurm.jobscript import make_spec, render_jobscript
from sshsetup.slurm.templating import template_root
from tests.slurm.test_example_train import SITES, rank_reports
from tests.testbed.slurm import Slurm
from tests.testbed.sshd import free_port
from tests.testbed.users import stop_process

SECOND = "tbnode02"


class TwoNodes(Slurm):
    """The test bed's cluster plus a second slurmd on this host (own port, own spool dir)."""

    def _write_files(self) -> None:
        super()._write_files()
        port = free_port()
        text = self.conf_path.read_text()
        node = next(line for line in text.splitlines() if line.startswith(f"NodeName={self.node} "))
        # its own NodeHostname too: Slurm refuses a hostname that is another node's name ("localhost")
        second = node.replace(f"NodeName={self.node} ", f"NodeName={SECOND} ", 1).replace(
            "NodeHostname=localhost", f"NodeHostname={SECOND}") + f" Port={port}"
        # tbnode02 first: Slurm's lookup takes a lone node named "localhost" for any name, so it must not be alone
        text = text.replace(node, f"{second}\n{node}").replace(f"Nodes={self.node} ", f"Nodes={self.node},{SECOND} ")
        self.conf_path.write_text(text)
        gres = self.etc / "gres.conf"
        gres.write_text(gres.read_text() + gres.read_text().replace(f"NodeName={self.node} ", f"NodeName={SECOND} "))
        (self.slurm_dir / "spool" / SECOND).mkdir(parents=True, exist_ok=True)

    def _spawn(self, name: str, argv: list[str], out: Path) -> subprocess.Popen[bytes]:
        p = super()._spawn(name, argv, out)
        if name == "slurmd":
            super()._spawn("slurmd2", [a if a != self.node else SECOND for a in argv], self.log_dir / "slurmd2.out")
        return p

    def stop(self) -> None:
        p = self._procs.pop("slurmd2", None)
        if "slurmctld" in self._procs:
            self.cancel_all(timeout=10)
        if p is not None:
            stop_process(p)
        super().stop()


@pytest.fixture(scope="module")
def two_nodes(slurm_factory: object, testbed_dir: Path) -> Iterator[Slurm]:
    """``slurm_factory``: only for the Slurm checks (root, daemons) it makes."""
    with TwoNodes(testbed_dir / "cluster-two-nodes", node="localhost") as cluster:
        yield cluster


def test_the_test_bed_has_two_nodes(two_nodes: Slurm) -> None:
    assert "MULTIPLE_SLURMD         = Yes" in two_nodes.run(["scontrol", "show", "config"]).stdout
    assert two_nodes.run(["sinfo", "-h", "-N", "-p", "booster", "-o", "%N %T"]).stdout.split() == ["localhost", "idle", SECOND, "idle"]


def test_torchrun_on_two_nodes_times_two_processes(two_nodes: Slurm, tmp_path: Path) -> None:
    site = parse_sites(SITES, "test sites", "x")["tb"]
    spec = make_spec(site, "myproject", "booster", nodes=2, gpus_per_node=2, cpus_per_task=1, time="00:05:00",
                     kind="torchrun", payload=str(template_root() / "examples" / "train.py"))
    software = (f'export PATH="{Path(sys.executable).parent}:$PATH" OMP_NUM_THREADS=1 TRAIN_STEPS=3 '
                f'SSHSETUP_CKPT_DIR="{tmp_path}/ckpt"\n')
    (tmp_path / "dist.sbatch").write_text(render_jobscript(spec).replace("#   module load ...\n", software))
    t0 = time.monotonic()
    r = two_nodes.run(["sbatch", "--parsable", "dist.sbatch"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    jid = r.stdout.strip()
    state = two_nodes.wait_job_state(jid, timeout=240, interval=0.5)
    out = (tmp_path / f"torchrun-job-{jid}.out").read_text()
    print(f"2 nodes x 2 processes through Slurm: {time.monotonic() - t0:.1f}s")
    assert state == "COMPLETED", out[-4000:]
    assert out.startswith(f"MASTER_ADDR=localhost MASTER_PORT={20000 + int(jid) % 10000} nodes=2\n")
    ranks = rank_reports(out)
    assert [(d["rank"], d["world"], d["step"]) for d in ranks] == [(0, 4, 3), (1, 4, 3), (2, 4, 3), (3, 4, 3)]
    assert all(d["weights"] == ranks[0]["weights"] for d in ranks)  # averaged over both nodes
    assert (tmp_path / "ckpt" / "DONE").exists()
    assert re.search(rf"NodeList=localhost,{SECOND}\b", two_nodes.run(["scontrol", "-o", "show", "job", jid]).stdout)
