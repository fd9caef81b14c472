"""pytest fixtures for the real components (sshd, Slurm, servers); see tests/testbed/.

Loaded as a plugin by tests/conftest.py. Every fixture that needs a component calls
``require.*``: locally a missing piece (not root, no sshd, no slurmctld...) skips the
test, under CI=true it fails it. Tests that use the sshd / Slurm fixtures are marked
``sshd`` / ``slurm`` automatically (``-m "not slurm"`` deselects them).

Scopes: the user, the host key and Slurm live for the session (Slurm bring-up ≈0.1 s,
but a cluster's first job waits ≈3 s for the scheduler's first pass); an sshd lives for
one test (≈30-70 ms), so authorized_keys, config and log start empty every time.

Fixtures (scope) -> value:
  testbed_dir (session)      -> Path  /tmp/sshsetup-tb-XXXXXX, 0755
  testbed_user (session)     -> TestUser  (home may hold earlier tests' files)
  test_user                  -> TestUser  with an empty home and ~/.ssh 0700, no processes left
  sshd_factory               -> make(*, setenv=None, extra_config=(), port=None, start=True,
                                     authorized_keys_file=None) -> Sshd
  sshd                       -> Sshd (started, default config)
  ssh_client                 -> SshClient: `ssh jsc-testbed` works as test_user
  ssh_agent                  -> SshAgent of test_user (started)
  slurm_factory (session)    -> make(*, partitions=JUWELS_BOOSTER, accounts=DEFAULT_ACCOUNTS,
                                     gpus=4, extra_config=()) -> Slurm (cached per arguments)
  slurm (session)            -> Slurm, JUWELS-Booster-like
  slurm_accounting (session) -> Slurm like ``slurm`` plus slurmdbd + MariaDB: ``sacct`` works
  slurm_sshd                 -> Sshd with SetEnv SLURM_CONF=<slurm.conf_path>
  slurm_client               -> SshClient on slurm_sshd: `ssh jsc-testbed sbatch ...` works
  tarpit_factory / tarpit    -> make(host="127.0.0.1") -> Tarpit / a started Tarpit
  refused_port               -> int, a closed port on 127.0.0.1

Running sshsetup against the test user: the project's Python may not be usable by that
user (e.g. pyenv under a 0700 /root), so run sshsetup as root, in-process or as a
subprocess, with ``HOME=test_user.home``, then ``test_user.chown_tree()`` and check with
``run_as(test_user, ["ssh", alias, "true"])``.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from .agent import SshAgent
from .require import require_exe, require_root
from .slurm import DEFAULT_ACCOUNTS, JUWELS_BOOSTER, Partition, Slurm
from .sshd import SSHD, SshClient, Sshd, make_host_key
from .tarpit import Tarpit
from .tarpit import refused_port as _refused_port
from .users import (
    TestUser,
    create_user,
    delete_user,
    kill_pids,
    make_testbed_dir,
    processes_mentioning,
    remove_stale_users,
    reset_home,
)

SSHD_FIXTURES = frozenset({"sshd", "sshd_factory", "ssh_client", "slurm_sshd", "slurm_client"})
SLURM_FIXTURES = frozenset({"slurm", "slurm_factory", "slurm_sshd", "slurm_client"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & SSHD_FIXTURES:
            item.add_marker(pytest.mark.sshd)
        if names & SLURM_FIXTURES:
            item.add_marker(pytest.mark.slurm)


# --------------------------------------------------------------------------- base


@pytest.fixture(scope="session")
def testbed_dir() -> Iterator[Path]:
    """A session-wide ``/tmp/sshsetup-tb-XXXXXX`` (0755, traversable by the test user)."""
    d = make_testbed_dir()
    yield d
    stray = processes_mentioning(str(d))
    if stray:  # a fixture failed to stop something: end it by pid, and say so
        kill_pids(stray)
        warnings.warn(f"testbed: killed leftover processes {stray} under {d}", stacklevel=1)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def testbed_user() -> Iterator[TestUser]:
    """The session's throwaway user ``sshsetup-<6 hex>`` (home may hold files of earlier tests)."""
    require_root("test user")
    for tool in ("useradd", "usermod", "userdel", "runuser"):
        require_exe(tool, f"/usr/sbin/{tool}")
    remove_stale_users()
    user = create_user()
    yield user
    delete_user(user)


@pytest.fixture
def test_user(testbed_user: TestUser) -> TestUser:
    """The session's user with a fresh, empty home (``~`` 0755, ``~/.ssh`` 0700) for this test.

    Leftover processes of the user (e.g. ControlPersist masters) are killed first.
    """
    reset_home(testbed_user)
    return testbed_user


# --------------------------------------------------------------------------- sshd


@pytest.fixture(scope="session")
def testbed_host_key(testbed_dir: Path) -> Path:
    """One ed25519 host key (``<dir>/hostkey``, ``.pub`` beside it) shared by all test sshds."""
    require_root("sshd")
    require_exe("ssh-keygen")
    path = testbed_dir / "hostkey"
    make_host_key(path)
    return path


SshdFactory = Callable[..., Sshd]


@pytest.fixture
def sshd_factory(testbed_dir: Path, testbed_host_key: Path) -> Iterator[SshdFactory]:
    """``make(*, setenv=None, extra_config=(), port=None, start=True, **kw) -> Sshd``.

    Each call makes a new server in its own directory (free port, shared host key);
    all are stopped at teardown. ``extra_config`` lines win over the defaults, e.g.
    ``["AuthenticationMethods publickey,keyboard-interactive", "KbdInteractiveAuthentication yes"]``.
    """
    require_exe("sshd", SSHD)
    require_exe("ssh")
    made: list[Sshd] = []

    def make(
        *,
        setenv: Mapping[str, str] | None = None,
        extra_config: Sequence[str] = (),
        port: int | None = None,
        start: bool = True,
        **kw: Any,
    ) -> Sshd:
        base = testbed_dir / "sshd"
        base.mkdir(exist_ok=True)
        base.chmod(0o755)
        d = base / f"{len(list(base.iterdir())):03d}"
        s = Sshd(d, setenv=setenv, extra_config=extra_config, port=port, host_key=testbed_host_key, **kw)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    for s in made:
        s.stop()
    shutil.rmtree(testbed_dir / "sshd", ignore_errors=True)


@pytest.fixture
def sshd(sshd_factory: SshdFactory) -> Sshd:
    """A started default sshd (config of testbed.md 1.2) for this test."""
    return sshd_factory()


@pytest.fixture
def ssh_client(test_user: TestUser, sshd: Sshd) -> SshClient:
    """``SshClient.setup(test_user, sshd)``: ``ssh jsc-testbed`` works as ``test_user``."""
    return SshClient.setup(test_user, sshd)


@pytest.fixture
def ssh_agent(test_user: TestUser) -> Iterator[SshAgent]:
    """A started ssh-agent of ``test_user`` (``.env`` = {"SSH_AUTH_SOCK": ...}); stopped after the test."""
    require_exe("ssh-agent")
    require_exe("ssh-add")
    agent = SshAgent(test_user).start()
    yield agent
    agent.stop()


# --------------------------------------------------------------------------- Slurm


def _require_slurm() -> None:
    require_root("Slurm")
    for tool in ("munged", "mungekey", "slurmctld", "slurmd"):
        require_exe(tool, f"/usr/sbin/{tool}")
    for tool in ("sbatch", "squeue", "scontrol", "sinfo", "scancel"):
        require_exe(tool)


SlurmFactory = Callable[..., Slurm]


@pytest.fixture(scope="session")
def slurm_factory(testbed_dir: Path) -> Iterator[SlurmFactory]:
    """``make(*, partitions=JUWELS_BOOSTER, accounts=("myproject","training2500"), gpus=4, extra_config=()) -> Slurm``.

    Returns a running single-node cluster; one per distinct argument set for the whole
    session (cached), all stopped at the end. Several clusters can run side by side.
    """
    _require_slurm()
    clusters: dict[tuple[Any, ...], Slurm] = {}
    made: list[Slurm] = []

    def make(
        *,
        partitions: Sequence[Partition] = JUWELS_BOOSTER,
        accounts: Sequence[str] = DEFAULT_ACCOUNTS,
        gpus: int = 4,
        extra_config: Sequence[str] = (),
    ) -> Slurm:
        key = (tuple(partitions), tuple(accounts), gpus, tuple(extra_config))
        if key not in clusters or not clusters[key].running:
            s = Slurm(
                testbed_dir / f"cluster{len(made)}",
                partitions=partitions,
                accounts=accounts,
                gpus=gpus,
                extra_config=extra_config,
            )
            made.append(s)
            clusters[key] = s.start()
        return clusters[key]

    yield make
    for s in made:
        s.stop()


@pytest.fixture(scope="session")
def slurm(slurm_factory: SlurmFactory) -> Slurm:
    """The session's JUWELS-Booster-like cluster: ``booster`` (default, 24 h), ``develbooster`` (2 h)."""
    return slurm_factory()


@pytest.fixture(scope="session")
def slurm_accounting(slurm_factory: SlurmFactory, testbed_dir: Path) -> Iterator[Slurm]:
    """A JUWELS-Booster-like cluster with slurmdbd + MariaDB (tests/testbed/slurmdbd.py): ``sacct`` answers.

    Its own cluster (≈5-12 s to start, most of it ``mariadb-install-db``), so the others stay quick.
    ``MinJobAge=10``: squeue forgets a finished job after 10-70 s (slurmctld purges once a minute),
    as a busy site's does, so what is said about older jobs must come from ``sacct``.
    """
    from .slurmdbd import EXECUTABLES

    for tool in EXECUTABLES:
        require_exe(tool, f"/usr/sbin/{tool}")
    with Slurm(testbed_dir / "cluster-accounting", accounting=True, extra_config=("MinJobAge=10",)) as cluster:
        yield cluster


@pytest.fixture
def slurm_sshd(slurm: Slurm, sshd_factory: SshdFactory, test_user: TestUser) -> Iterator[Sshd]:
    """An sshd whose sessions get ``SLURM_CONF`` of ``slurm`` (``SetEnv``), so ``ssh alias sbatch`` works.

    At teardown the test user's jobs are cancelled.
    """
    s = sshd_factory(setenv={"SLURM_CONF": str(slurm.conf_path)})
    yield s
    slurm.run(["scancel", "-u", test_user.name])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and slurm.run(["squeue", "-h", "-u", test_user.name, "-o", "%i"]).stdout.strip():
        time.sleep(0.1)


@pytest.fixture
def slurm_client(test_user: TestUser, slurm_sshd: Sshd) -> SshClient:
    """``SshClient.setup(test_user, slurm_sshd)``: ``ssh jsc-testbed sbatch ...`` reaches ``slurm``."""
    return SshClient.setup(test_user, slurm_sshd)


# --------------------------------------------------------------------------- bad endpoints


TarpitFactory = Callable[..., Tarpit]


@pytest.fixture
def tarpit_factory() -> Iterator[TarpitFactory]:
    """``make(host="127.0.0.1") -> Tarpit`` (started); all stopped at teardown."""
    made: list[Tarpit] = []

    def make(host: str = "127.0.0.1") -> Tarpit:
        t = Tarpit(host).start()
        made.append(t)
        return t

    yield make
    for t in made:
        t.stop()


@pytest.fixture
def tarpit(tarpit_factory: TarpitFactory) -> Tarpit:
    """A started tarpit on 127.0.0.1: accepts, never sends a byte. ``.port``, ``.address``."""
    return tarpit_factory()


@pytest.fixture
def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connect: ECONNREFUSED)."""
    return _refused_port()
