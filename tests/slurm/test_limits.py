"""Live limits: the parser (pure), the per-site cache, and for real: a login over the test bed's
sshd, ``jobscript`` checking against the cluster's ``scontrol show partition``, a changed
``MaxTime`` (slurm.conf + ``scontrol reconfigure``) that the refusal follows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshsetup.catalogue import Partition, load_catalogue
from sshsetup.paths import Paths
from sshsetup.slurm import limits
from tests.commands.test_login import Session, pkg  # noqa: F401 - pkg is a fixture
from tests.test_e2e import py  # noqa: F401 - py is a fixture
from tests.testbed.agent import SshAgent
from tests.testbed.fixtures import SlurmFactory, SshdFactory
from tests.testbed.slurm import JUWELS_BOOSTER, Slurm
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser

SCONTROL = """\
PartitionName=booster AllowGroups=ALL Default=YES MaxNodes=UNLIMITED MaxTime=1-00:00:00 Nodes=n[01-04] State=UP TotalNodes=4
PartitionName=develbooster AllowGroups=ALL Default=NO MaxTime=02:00:00 Nodes=n01 State=UP TotalNodes=1
PartitionName=batch Default=NO MaxTime=UNLIMITED Nodes=c01 State=UP TotalNodes=1
PartitionName=large Default=NO MaxTime=UNLIMITED Nodes=n02 State=UP TotalNodes=1
PartitionName=down Default=NO MaxTime=01:00:00 Nodes=n03 State=DOWN TotalNodes=1
"""
SINFO = "booster|gpu:4\nbooster|gpu:a100:4(S:0-1)\ndevelbooster|gpu:4\nbatch|(null)\nlarge|gpu:8\ndown|gpu:4\n"
SITE = load_catalogue(None, None)["juwels-booster"]


def test_parse_keeps_gpu_partitions_with_their_limits() -> None:
    parts, default = limits.parse(SCONTROL + limits.SINFO_MARK + "\n" + SINFO)
    assert parts == {
        "booster": Partition("booster", "gpu", 1440, 4),
        "develbooster": Partition("develbooster", "devel", 120, 4),
        "large": Partition("large", "gpu", None, 8),  # UNLIMITED: the cluster decides
    }
    assert default == "booster"


def test_parse_without_sinfo_knows_no_gpus() -> None:
    assert limits.parse(SCONTROL) == ({}, None)


def test_cache_round_trip(tmp_path: Path) -> None:
    paths = Paths(tmp_path, tmp_path, tmp_path / "cfg", tmp_path / "state")
    parts, default = limits.parse(SCONTROL + limits.SINFO_MARK + SINFO)
    limits.store(paths, limits.Limits(SITE.id, parts, default, 1000.0))
    got = limits.load(paths, SITE)
    assert got == limits.Limits(SITE.id, parts, default, 1000.0, cached=True)
    assert got.source(now=1000.0 + 754) == "the cluster (scontrol show partition, cached 12m ago)"
    assert limits.cache_path(paths).stat().st_mode & 0o777 == 0o600


# ------------------------------------------------------------------ for real


@pytest.fixture
def live_cluster(slurm_factory: SlurmFactory, sshd_factory: SshdFactory) -> tuple[Slurm, Sshd]:
    cluster = slurm_factory(extra_config=["# live limits test: its own cluster, slurm.conf gets edited"])
    sshd = sshd_factory(setenv={"SLURM_CONF": str(cluster.conf_path)})
    return cluster, sshd


@pytest.fixture
def session(test_user: TestUser, live_cluster: tuple[Slurm, Sshd], ssh_agent: SshAgent, py: Path,  # noqa: F811
            pkg: Path) -> Iterator[Session]:  # noqa: F811
    s = Session(test_user, live_cluster[1], ssh_agent, py, pkg)
    yield s
    s.sshsetup("logout")


def _max_time(cluster: Slurm, partition: str, value: str) -> None:
    text = cluster.conf_path.read_text()
    cluster.conf_path.write_text(re.sub(rf"(PartitionName={partition} .*?MaxTime=)\S+", rf"\g<1>{value}", text))
    r = cluster.run(["scontrol", "reconfigure"])
    assert r.returncode == 0, r.stderr
    assert f"MaxTime={value}" in cluster.run(["scontrol", "show", "partition", partition]).stdout


JOB = ("jobscript", "--site", "testbed", "--account", "myproject", "--partition", "develbooster", "--gpus-per-node", "1")


def test_the_refusal_follows_the_live_max_time(session: Session, live_cluster: tuple[Slurm, Sshd]) -> None:
    cluster, _ = live_cluster
    # offline: the test site's catalogue entry knows no partitions, so the cluster is left to decide (as before)
    r = session.sshsetup(*JOB, "--time", "03:00:00")
    assert r.returncode == 0, r.stderr
    assert "note: the catalogue does not know the partitions of testbed" in r.stderr
    assert r.stderr.count("limits from the cluster") == 0
    assert session.sshsetup("login").returncode == 0
    try:
        r = session.sshsetup(*JOB, "--time", "03:00:00")
        assert (r.returncode, r.stdout) == (2, "")
        assert r.stderr == ("error: --time 03:00:00 is longer than the 02:00:00 limit of develbooster; allowed: up to 02:00:00\n"
                            "hint: use --time 02:00:00 or less (limit from the cluster (scontrol show partition, just now))\n")
        _max_time(cluster, "develbooster", "04:00:00")
        r = session.sshsetup(*JOB, "--time", "03:00:00")
        assert r.returncode == 0, r.stderr
        assert r.stderr == "note: limits from the cluster (scontrol show partition, just now) on jsc-testbed\n"
        assert "#SBATCH --time=03:00:00\n" in r.stdout
        r = session.sshsetup(*JOB, "--time", "05:00:00")
        assert r.returncode == 2 and r.stderr.startswith(
            "error: --time 05:00:00 is longer than the 04:00:00 limit of develbooster; allowed: up to 04:00:00\n")
        r = session.sshsetup(*JOB[:-4], "--partition", "batch")
        assert r.stderr.startswith("error: partition 'batch' is not a GPU partition of Test bed; allowed: booster, develbooster\n")
        r = session.sshsetup(*JOB[:-2], "--gpus-per-node", "5")
        assert r.stderr.startswith("error: --gpus-per-node 5 is more than the 4 GPUs of a Test bed node; allowed: 1 to 4\n")
        cache = (session.user.home / ".local/state/sshsetup/slurm-limits.json").read_text()
        assert '"max_time_minutes": 240' in cache and '"fetched": ' in cache
    finally:
        _max_time(cluster, "develbooster", next(p.max_time for p in JUWELS_BOOSTER if p.name == "develbooster"))
