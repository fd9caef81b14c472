"""Small test helpers: run the CLI in-process and capture its streams."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sshsetup.cli import main


@dataclass
class Run:
    rc: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    rc = main(list(args))
    cap = capsys.readouterr()
    return Run(rc, cap.out, cap.err)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (relative path -> bytes), to prove nothing changed."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}
