"""Small test helpers: run the CLI in-process and capture its streams, set environment variables for a while."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sshsetup.catalogue import Site
from sshsetup.cli import main
from sshsetup.slurm.jobscript import make_spec, render_jobscript


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


@contextlib.contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in os.environ and restore the old ones after (hypothesis tests cannot use monkeypatch)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def make_jobscript(site: Site, account: str, *args: Any, **kw: Any) -> str:
    """A job script's text: ``make_spec``'s arguments (and checks), rendered."""
    return render_jobscript(make_spec(site, account, *args, **kw))
