"""Integration components: skip locally when missing, but fail under CI=true."""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(component: str, why: str) -> None:
    """A component a test needs is not here: fail in CI (a skip could hide a regression)."""
    msg = f"{component} is not available: {why}"
    if in_ci():
        pytest.fail(msg + " (CI=true: missing integration components fail the run)")
    pytest.skip(msg)


def require_exe(name: str, *candidates: str) -> str:
    for c in (name, *candidates):
        found = shutil.which(c) or (c if os.path.isabs(c) and os.access(c, os.X_OK) else None)
        if found:
            return found
    missing(name, "not on PATH; run .ci/run to install it")
    raise AssertionError("unreachable")


def require_root(component: str) -> None:
    if getattr(os, "geteuid", lambda: -1)() != 0:  # Windows has no geteuid: never root
        missing(component, "needs root (to create a test user / start daemons)")


def require_vscode() -> object:
    """The test bed's real VS Code (tests/testbed/vscode.py): its install, waiting for a background one."""
    from .vscode import require_vscode as _require

    return _require()
