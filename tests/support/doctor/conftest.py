from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sshsetup.paths import Paths
from sshsetup.support.doctor.model import DoctorContext, Target
from tests.support.doctor.servers import RealSshd, Server


@pytest.fixture(scope="module")
def real_sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealSshd]:
    s = RealSshd(tmp_path_factory.mktemp("sshd"))
    yield s
    s.stop()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    made: list[Server] = []
    yield made
    for s in made:
        s.close()


def make_ctx(*targets: Target, timeout: float = 1.0, known_hosts: tuple[Path, ...] = ()) -> DoctorContext:
    return DoctorContext(paths=Paths.from_env(), targets=targets, probe_timeout=timeout,
                         check_timeout=4 * timeout + 2, budget=30, known_hosts=known_hosts)
