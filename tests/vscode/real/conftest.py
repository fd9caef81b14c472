"""Fixtures for the real-VS-Code tests (tests/testbed/vscode.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.testbed.require import require_root
from tests.testbed.users import TestUser
from tests.testbed.uservenv import user_python
from tests.testbed.vscode import CodeServer, Install, artifacts_dir, require_vscode


@pytest.fixture(scope="session")
def vscode_install() -> Install:
    require_root("VS Code (code-server) as the test user")
    return require_vscode()


@pytest.fixture(scope="session")
def user_py() -> Path:
    return user_python()


@pytest.fixture
def artifacts(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Where screenshots go: $SSHSETUP_TEST_ARTIFACTS/vscode, else the test's tmp_path/artifacts."""
    d = artifacts_dir(tmp_path / "artifacts")
    print(f"\nvscode artifacts of {request.node.name}: {d}")
    return d


CodeServerFactory = Callable[..., CodeServer]


@pytest.fixture
def code_server(vscode_install: Install, test_user: TestUser, testbed_dir: Path, tmp_path: Path) -> Iterator[CodeServerFactory]:
    """``start(workspace, **env) -> CodeServer`` (started, browser attached, probe ready); all stopped after."""
    made: list[CodeServer] = []

    def start(workspace: Path, **env: Any) -> CodeServer:
        sandbox = testbed_dir / f"vscode-{tmp_path.name}-{len(made)}"
        cs = CodeServer(vscode_install, test_user, workspace, sandbox, env=env)
        made.append(cs)
        return cs.start()

    yield start
    for cs in made:
        cs.stop()
        print(f"\n{cs.sandbox.name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in cs.timings.items()))
